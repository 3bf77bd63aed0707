"""Write a small OCI image layout for the demo: one gzip layer holding FILE under /opt/release/,
tagged TAG (standard library only; the same formats skopeo and registries use)."""

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def blob(root: str, data: bytes, media_type: str) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(root, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return {"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}


def main(root: str, tag: str, name: str, *files: str) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path in files:
            ti = t.gettarinfo(path, "opt/release/" + os.path.basename(path))
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = 0, 0, 0, "", ""
            with open(path, "rb") as f:
                t.addfile(ti, f)
    raw = buf.getvalue()
    layer = blob(root, gzip.compress(raw, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip")
    config = blob(root, json.dumps({"architecture": "amd64", "os": "linux",
                                    "rootfs": {"type": "layers",
                                               "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}},
                                   sort_keys=True).encode(), "application/vnd.oci.image.config.v1+json")
    manifest = blob(root, json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                      "config": config, "layers": [layer]}, sort_keys=True).encode(),
                    "application/vnd.oci.image.manifest.v1+json")
    manifest["annotations"] = {"org.opencontainers.image.ref.name": tag, "io.containerd.image.name": name}
    with open(os.path.join(root, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": [manifest]}, f, sort_keys=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
