"""A real OCI registry for tests: Debian's docker-registry (CNCF distribution) on 127.0.0.1,
on a free port, with its storage in a temporary folder."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

EXE = "/usr/bin/docker-registry"

CONFIG = """version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RegistryServer:
    def __init__(self) -> None:
        if not os.path.exists(EXE):
            raise RuntimeError("docker-registry is not installed: 'make test' installs it (apt-get install docker-registry)")
        self.dir = tempfile.mkdtemp(prefix="ct-registry-")
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        cfg = os.path.join(self.dir, "config.yml")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(root=os.path.join(self.dir, "storage"), port=self.port))
        self.log = open(os.path.join(self.dir, "registry.log"), "wb")
        self.proc = subprocess.Popen([EXE, "serve", cfg], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"docker-registry did not start; see {self.dir}/registry.log")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def skopeo_copy(src: str, dst: str) -> None:
    """Copy an image with skopeo (plain HTTP to the local registry), digests preserved."""
    subprocess.run(["skopeo", "copy", "--quiet", "--preserve-digests", "--dest-tls-verify=false",
                    "--src-tls-verify=false", src, dst], check=True, capture_output=True, timeout=120)
