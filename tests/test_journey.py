"""The newcomer's journey (issue 13): what got in the way of a first user, each fixed and pinned here.

In process through main() where a terminal is not needed; in a real pseudo-terminal (pty.fork, a
controlling terminal as getpass wants) for prompts and Ctrl-D; through a subprocess for closed
pipes and standard input; man-db renders the manual page."""

from __future__ import annotations

import argparse
import io
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time

import pytest
from test_bundle_support import PW, REPO, Coop, cheap_env, ct, make_payload_dir, pack_unsigned

from cerro_torre.cli.main import build_parser, main


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    cheap_env(monkeypatch)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no config unless a test writes one
    monkeypatch.delenv("NO_COLOR", raising=False)


def ct_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, CT_TESTING="1", CT_TEST_ARGON2_MEMORY_KIB="64", **extra)
    env.pop("CT_HOME", None)
    return env


CT = [sys.executable, "-m", "cerro_torre.cli"]


# ====================================================================== no command, closed pipes

def test_no_arguments_prints_usage_and_exits_64():
    code, out, err = ct()
    assert (code, out) == (64, "")
    assert err.startswith("usage: ct [-h] [--home DIR] [--json] [-v] COMMAND ...\n")
    assert err.endswith("error: no command given\n"
                        "hint: run 'ct help' for the commands, 'ct help TOPIC' for one of them\n")
    code, out, err = ct("--json")
    assert code == 64 and json.loads(out) == {
        "ok": False, "exit_code": 64, "error": "no command given",
        "hints": ["run 'ct help' for the commands, 'ct help TOPIC' for one of them"]}


def _closed_pipe_run(argv: list[str], **env: str) -> tuple[int, str]:
    """Run ct with stdout a pipe whose reader is gone (what `| head -1` leaves once head exits)."""
    r, w = os.pipe()
    os.close(r)
    try:
        p = subprocess.run(CT + argv, stdout=w, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                           env=ct_env(**env), timeout=120)
    finally:
        os.close(w)
    return p.returncode, p.stderr.decode()


def test_closed_pipe_exits_quietly(tmp_path):
    src = make_payload_dir(str(tmp_path / "src"))
    pack_unsigned(src, str(tmp_path / "a.ctp"))
    assert _closed_pipe_run(["explain", str(tmp_path / "a.ctp")]) == (141, "")
    assert _closed_pipe_run(["help"]) == (141, "")
    code, err = _closed_pipe_run(["--home", str(tmp_path / "h"), "keygen", "--id", "alice"],
                                CT_PASSPHRASE="ember quarry tidal oboe lantern sprig")
    assert (code, err) == (141, "")
    assert os.path.exists(tmp_path / "h" / "keys" / "alice.pub")   # the work was done; only the output is lost
    # in process: the same code, nothing on stderr
    class Closed(io.StringIO):
        def write(self, s: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")
    err = io.StringIO()
    assert main(["help"], stdout=Closed(), stderr=err) == 141 and err.getvalue() == ""


# ====================================================================== --json errors, one mechanism

def _leaf_commands() -> list[list[str]]:
    out: list[list[str]] = []

    def walk(p: argparse.ArgumentParser, path: list[str]) -> None:
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]  # noqa: SLF001
        if not subs:
            out.append(path)
            return
        for name, child in subs[0].choices.items():
            walk(child, path + [name])
    walk(build_parser(), [])
    return out


def test_json_error_object_on_every_command(tmp_path):
    leaves = _leaf_commands()
    assert ["ceremony", "step"] in leaves and ["policy", "set"] in leaves and len(leaves) >= 30
    for path in leaves:
        for argv in (["--json", *path, "--no-such-flag"], [*path, "--json", "--no-such-flag"]):
            code, out, err = ct(*argv)
            assert code == 64, argv
            doc = json.loads(out)
            assert doc["ok"] is False and doc["exit_code"] == 64, argv
            assert err.splitlines()[0] == "error: " + doc["error"], argv
            assert doc["hints"] and doc["hints"][0].endswith("--help' for usage"), argv
    # a usage error inside a sub-command names that sub-command
    code, out, _ = ct("--json", "pack", str(tmp_path))
    assert code == 64 and json.loads(out) == {
        "ok": False, "exit_code": 64, "error": "the following arguments are required: -o/--output",
        "hints": ["run 'ct pack --help' for usage"]}
    # errors while a command runs: the same object, with the documented code
    code, out, err = ct("--json", "--home", str(tmp_path / "h"), "key", "export", "nobody", "--public")
    assert code == 21
    doc = json.loads(out)
    assert doc == {"ok": False, "exit_code": 21, "error": doc["error"], "hints": doc["hints"]}
    assert err.splitlines()[0] == f"error: {doc['error']}"
    code, out, _ = ct("--json", "ceremony", "status", str(tmp_path / "missing.ctm"))
    assert code == 21 and json.loads(out)["error"] == f"message not found: {tmp_path / 'missing.ctm'}"
    code, out, _ = ct("--json", "--home", str(tmp_path / "h"), "policy", "show")
    assert code == 21 and json.loads(out)["ok"] is False
    # ct import adds its fields to the same object
    (tmp_path / "x.tar").write_bytes(b"\0" * 1024)
    code, out, _ = ct("--json", "--home", str(tmp_path / "h"), "import", str(tmp_path / "x.tar"), "--verify")
    doc = json.loads(out)
    assert code == 10 and (doc["ok"], doc["exit_code"], doc["changed"], doc["tarball"]) == (
        False, 10, False, str(tmp_path / "x.tar"))


# ====================================================================== pack: names, versions, -o

@pytest.mark.parametrize("filename,name,version", [
    ("coop-tools-1.2.0.tar.gz", "coop-tools", "1.2.0"),
    ("coop-tools-1.2.0.tgz", "coop-tools", "1.2.0"),
    ("coop-tools-1.2.0.tar.xz", "coop-tools", "1.2.0"),
    ("coop-tools-1.2.0.tar.zst", "coop-tools", "1.2.0"),
    ("coop-tools-1.2.0.zip", "coop-tools", "1.2.0"),
    ("coop_tools_1.2.0.tar.gz", "coop_tools", "1.2.0"),
    ("coop-tools_1.2.0-1_amd64.deb", "coop-tools", "1.2.0-1"),
    ("coop-tools-1.2.0-1.el9.x86_64.rpm", "coop-tools", "1.2.0-1.el9"),
    ("coop-tools-1.2.0-1.noarch.rpm", "coop-tools", "1.2.0-1"),
    ("tool-v2.0.tgz", "tool", "2.0"),
    ("app-1.0-rc1.tar.gz", "app", "1.0-rc1"),
    ("openssl-3.0.13.tar.gz", "openssl", "3.0.13"),
    ("libfoo2-1.0.tar.gz", "libfoo2", "1.0"),
    ("tool-1.2.bin", "tool", "1.2"),
    ("hello-1.0", "hello", "1.0"),
    ("foo-bar.tar.gz", "foo-bar", "unversioned"),
    ("release.tar.gz", "release", "unversioned"),
    ("README.txt", "README", "unversioned"),
    ("python3.11", "python3.11", "unversioned"),
])
def test_pack_guesses_name_and_version(tmp_path, filename, name, version):
    (tmp_path / filename).write_bytes(b"payload\n")
    code, out, err = ct("--json", "pack", str(tmp_path / filename), "-o", str(tmp_path / "out.ctp"))
    assert (code, err) == (0, "")
    assert json.loads(out)["package"] == {"name": name, "version": version}


def test_pack_guesses_from_a_folder_name(tmp_path):
    src = make_payload_dir(str(tmp_path / "coop-tools-1.2.0"))
    code, out, _ = ct("--json", "pack", src, "-o", str(tmp_path / "out.ctp"))
    assert code == 0 and json.loads(out)["package"] == {"name": "coop-tools", "version": "1.2.0"}


def test_pack_refuses_an_existing_output(tmp_path):
    (tmp_path / "a-1.0.txt").write_bytes(b"one\n")
    out = str(tmp_path / "same.ctp")
    assert ct("pack", str(tmp_path / "a-1.0.txt"), "-o", out)[0] == 0
    before = open(out, "rb").read()
    (tmp_path / "a-1.0.txt").write_bytes(b"two\n")
    code, stdout, err = ct("pack", str(tmp_path / "a-1.0.txt"), "-o", out)
    assert (code, stdout) == (22, "")
    assert err == f"error: {out} exists\nhint: choose another -o, or pass --force to replace it\n"
    assert open(out, "rb").read() == before
    assert ct("pack", str(tmp_path / "a-1.0.txt"), "-o", out, "--force")[0] == 0
    assert open(out, "rb").read() != before


# ====================================================================== passphrases

def test_keygen_refuses_a_very_weak_passphrase(tmp_path, monkeypatch):
    home = str(tmp_path / "h")
    monkeypatch.setenv("CT_PASSPHRASE", "abc")
    code, out, err = ct("--home", home, "keygen", "--id", "alice")
    assert (code, out) == (20, "")
    assert err == ("error: the passphrase is too weak (very weak, ~4 bits)\n"
                   "hint: too easy to guess: use four or more random words; "
                   "or pass --allow-weak-passphrase for a throwaway key\n")
    assert not os.path.exists(os.path.join(home, "keys", "alice.pub"))
    code, _, err = ct("--home", home, "keygen", "--id", "alice", "--allow-weak-passphrase")
    assert (code, err) == (0, "warning: the passphrase is very weak (~4 bits): too easy to guess: "
                              "use four or more random words\n")
    monkeypatch.setenv("CT_PASSPHRASE", "correct horse battery staple")
    code, _, err = ct("--home", home, "keygen", "--id", "bob")
    assert (code, err) == (0, "warning: the passphrase is fair (~48 bits): add a word or two: every key file "
                              "is only as strong as its passphrase\n")
    monkeypatch.setenv("CT_PASSPHRASE", "ember quarry tidal oboe lantern sprig")
    code, _, err = ct("--home", home, "keygen", "--id", "carol")
    assert (code, err) == (0, "")   # strong: no warning


def test_the_tui_and_the_cli_rate_with_one_function():
    from cerro_torre.keys import passphrase
    from cerro_torre.tui.widgets import strength

    assert strength.estimate is passphrase.estimate
    assert passphrase.estimate("abc")[:2] == (4, "very weak")


def test_wrong_passphrase_from_the_environment_fails_at_once(tmp_path, monkeypatch):
    home = str(tmp_path / "h")
    assert ct("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01")[0] == 0
    (tmp_path / "f").write_bytes(b"x\n")
    monkeypatch.setenv("CT_PASSPHRASE", "not the passphrase at all")
    code, _, err = ct("--home", home, "pack", str(tmp_path / "f"), "-o", str(tmp_path / "f.ctp"), "--key", "alice")
    assert code == 20
    assert err == ("error: wrong passphrase for key 'alice'\n"
                   "hint: try again; check --passphrase-file or CT_PASSPHRASE if you use them\n")


class Pty:
    """ct in a real pseudo-terminal: a controlling terminal, as getpass needs."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child
            os.execvpe(CT[0], CT + argv, env)
        self.buf = b""

    def _read(self, timeout: float) -> bool:
        """Append what ct wrote within ``timeout`` s; False once it closed the terminal."""
        if not select.select([self.fd], [], [], max(timeout, 0))[0]:
            return True
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:
            chunk = b""
        self.buf += chunk
        return bool(chunk)

    def expect(self, text: str, timeout: float = 60) -> str:
        end = time.monotonic() + timeout
        while text.encode() not in self.buf:
            assert time.monotonic() < end, f"{text!r} not seen in {self.buf!r}"
            assert self._read(end - time.monotonic()), f"ct ended before {text!r}: {self.buf!r}"
        seen, _, self.buf = self.buf.partition(text.encode())
        return seen.decode(errors="replace")

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        end = time.monotonic() + timeout
        while time.monotonic() < end and self._read(0.1):
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status), self.buf.decode(errors="replace").replace("\r\n", "\n")


def _prompt_env() -> dict[str, str]:
    env = ct_env()
    env.pop("CT_PASSPHRASE", None)
    return env


def test_ctrl_d_at_a_passphrase_prompt(tmp_path):
    home = str(tmp_path / "h")
    _ctrl_d(Pty(["--home", home, "keygen", "--id", "alice"], _prompt_env()), "passphrase for new key 'alice': ")
    assert not os.path.exists(os.path.join(home, "keys"))


def _ctrl_d(p: Pty, prompt: str) -> None:
    """Ctrl-D at the prompt: 'no passphrase given', exit 20."""
    p.expect(prompt)
    p.send(b"\x04")
    code, rest = p.finish()
    assert code == 20
    assert rest == ("\nerror: no passphrase given\n"   # on a line of its own, not after the prompt
                    "hint: type it at the prompt, or use --passphrase-file FILE or CT_PASSPHRASE\n")


def test_ctrl_c_at_a_passphrase_prompt(tmp_path):
    home = str(tmp_path / "h")
    p = Pty(["--home", home, "keygen", "--id", "alice"], _prompt_env())
    p.expect("passphrase for new key 'alice': ")
    p.send(b"\x03")
    code, rest = p.finish()
    assert code == 130
    assert rest == ("\nerror: interrupted\n"
                    "hint: files are written atomically: nothing half-written was kept; run the command again\n")
    assert not os.path.exists(os.path.join(home, "keys"))


def test_ctrl_d_at_the_ceremony_step_prompt(tmp_path, monkeypatch):
    monkeypatch.setenv("CT_PASSPHRASE", "ember quarry tidal oboe lantern sprig")
    for n in ("alice", "bob"):
        assert ct("--home", str(tmp_path / n), "keygen", "--id", n)[0] == 0
    assert ct("ceremony", "keygen", "-k", "2", "--member", str(tmp_path / "alice" / "keys" / "alice.pub"),
              "--member", str(tmp_path / "bob" / "keys" / "bob.pub"), "-o", str(tmp_path / "r0.ctm"))[0] == 0
    _ctrl_d(Pty(["--home", str(tmp_path / "alice"), "ceremony", "step", str(tmp_path / "r0.ctm"),
                 "-o", str(tmp_path / "r0-alice.ctm"), "--yes"], _prompt_env()), "passphrase for key 'alice': ")
    assert not os.path.exists(tmp_path / "r0-alice.ctm")


def test_three_tries_at_the_prompt(tmp_path):
    home = str(tmp_path / "h")
    assert ct("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01")[0] == 0
    (tmp_path / "f").write_bytes(b"x\n")
    argv = ["--home", home, "pack", str(tmp_path / "f"), "-o", str(tmp_path / "f.ctp"), "--key", "alice"]
    p = Pty(argv, _prompt_env())
    for left in (2, 1):
        p.expect("passphrase for key 'alice': ")
        p.send(b"wrong one\n")
        p.expect(f"wrong passphrase for key 'alice'; try again ({left} left)")
    p.expect("passphrase for key 'alice': ")
    p.send(b"still wrong\n")
    code, rest = p.finish()
    assert code == 20
    assert rest.strip().splitlines() == [
        "error: wrong passphrase for key 'alice'",
        "hint: try again; check --passphrase-file or CT_PASSPHRASE if you use them"]
    assert not os.path.exists(tmp_path / "f.ctp")
    # the second try is the right one: packed and signed
    p = Pty(argv, _prompt_env())
    p.expect("passphrase for key 'alice': ")
    p.send(b"wrong one\n")
    p.expect("try again (2 left)")
    p.expect("passphrase for key 'alice': ")
    p.send(PW.encode() + b"\n")
    code, rest = p.finish()
    assert code == 0, rest
    assert "signed by  alice (CT-SIG-01)" in rest


def test_a_very_weak_passphrase_is_asked_again_at_the_prompt(tmp_path):
    home = str(tmp_path / "h")
    p = Pty(["--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01"], _prompt_env())
    p.expect("passphrase for new key 'alice': ")
    p.send(b"abc\n")
    p.expect("again: ")
    p.send(b"abc\n")
    p.expect("the passphrase is too weak (very weak, ~4 bits); try again (2 left)")
    p.expect("passphrase for new key 'alice': ")
    p.send(b"ember quarry tidal oboe lantern sprig\n")
    p.expect("again: ")
    p.send(b"ember quarry tidal oboe lantern sprig\n")
    code, rest = p.finish()
    assert code == 0, rest
    assert "generated key 'alice' (CT-SIG-01)" in rest


def test_confirmations_that_differ_use_the_three_tries_too(tmp_path):
    """A confirmation that differs, or an empty passphrase, counts down like a wrong one, then exit 20
    with nothing written (it asked again without end)."""
    home = str(tmp_path / "h")
    p = Pty(["--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01"], _prompt_env())
    p.expect("passphrase for new key 'alice': ")
    p.send(b"\n")
    p.expect("the passphrase cannot be empty; try again (2 left)")
    for left in (1, 0):
        p.expect("passphrase for new key 'alice': ")
        p.send(b"ember quarry tidal oboe lantern sprig\n")
        p.expect("again: ")
        p.send(b"ember quarry tidal oboe lantern sprog\n")
        if left:
            p.expect(f"the two passphrases differ; try again ({left} left)")
    code, rest = p.finish()
    assert code == 20
    assert rest.strip().splitlines() == ["error: the two passphrases typed differ",
                                         "hint: type the same passphrase twice; nothing was written"]
    assert not os.path.exists(os.path.join(home, "keys", "alice.key"))


# ====================================================================== the config file

def _config(tmp_path, text: str, old: bool = False) -> str:
    folder = tmp_path / "config" / ("cerro" if old else "cerro-torre")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(text)
    return str(folder / "config.toml")


def test_config_home_and_default_key(tmp_path):
    home = tmp_path / "from-config"
    _config(tmp_path, f'home = "{home}"\ndefault_key = "bob"\n')
    assert ct("keygen", "--id", "alice", "--suite", "CT-SIG-01")[0] == 0
    assert ct("keygen", "--id", "bob", "--suite", "CT-SIG-01")[0] == 0
    assert (home / "keys" / "alice.pub").exists() and (home / "keys" / "bob.pub").exists()
    code, out, _ = ct("key", "list")   # alice is the home's default (the first key); the config wins
    assert code == 0 and [ln.split()[1] for ln in out.splitlines() if ln.startswith("*")] == ["bob"]
    code, out, _ = ct("key", "export", "--public")
    assert code == 0 and json.loads(out)["id"] == "bob"
    code, _, err = ct("key", "default", "alice")
    assert code == 0 and err == f"warning: default_key = 'bob' in {tmp_path / 'config' / 'cerro-torre' / 'config.toml'} " \
                                "wins over this home's default\n"
    # --home and CT_HOME come first
    code, _, _ = ct("--home", str(tmp_path / "other"), "keygen", "--id", "carol", "--suite", "CT-SIG-01")
    assert code == 0 and (tmp_path / "other" / "keys" / "carol.pub").exists()


def test_config_default_key_not_in_the_home_names_the_config(tmp_path):
    home = tmp_path / "h"
    cfg = _config(tmp_path, f'home = "{home}"\ndefault_key = "nobody"\n')
    assert ct("keygen", "--id", "alice", "--suite", "CT-SIG-01")[0] == 0
    code, out, err = ct("key", "export", "--public")
    assert (code, out) == (21, "")
    assert err.splitlines() == [f"error: no key 'nobody' in {home / 'keys'}",
                                f'hint: default_key "nobody" comes from {cfg}; fix it there, or name a key of '
                                "'ct key list'"]
    code, out, err = ct("key", "export", "nobody", "--public")      # named: the config plays no part
    assert (code, err.splitlines()[1:]) == (21, ["hint: see the keys there with 'ct key list'"])


def test_config_output_json_and_default_policy(tmp_path):
    src = make_payload_dir(str(tmp_path / "src"))
    pack_unsigned(src, str(tmp_path / "a.ctp"))
    pol = tmp_path / "pol.json"
    cfg = _config(tmp_path, f'output = "json"\ndefault_policy = "{pol}"\nhome = "{tmp_path / "h"}"\n')
    code, out, _ = ct("policy", "init")                 # 'ct policy' edits the default policy too
    assert code == 0 and json.loads(out)["path"] == str(pol) and pol.exists()
    code, out, _ = ct("policy", "set", "min-epoch", "3")
    assert code == 0 and json.loads(out)["policy"]["min_epoch"] == 3
    code, out, err = ct("verify", str(tmp_path / "a.ctp"))
    doc = json.loads(out)                               # output = "json": as if --json were given
    assert code == 2 and doc["policy"] == f"policy {pol}" and doc["exit_code"] == 2
    assert err.startswith("error: ")
    # ct tui refuses an explicit --json only; the config's output does not stop it at the --json check
    code, _, err = ct("tui")
    assert code == 64 and err.startswith("error: ct tui needs a terminal")
    assert os.path.exists(cfg)


def test_config_color(tmp_path):
    from cerro_torre.cli.config import load
    from cerro_torre.cli.main import Context

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    def color(text: str | None) -> bool:
        if text is not None:
            _config(tmp_path, text)
        return Context(argparse.Namespace(), io.StringIO(), io.StringIO(), load()).color(Tty())

    assert color(None) is True
    assert color('color = "never"\n') is False
    assert color('color = "auto"\n') is True
    os.environ["NO_COLOR"] = "1"
    try:
        assert color('color = "auto"\n') is False
        assert color('color = "always"\n') is True
    finally:
        del os.environ["NO_COLOR"]


@pytest.mark.parametrize("text,error,hint", [
    ('home = "/x"\nhome = "/y"\n', "is not valid TOML: Cannot overwrite a value (at line 2, column 12)",
     "fix or move the file; 'ct help environment' lists the keys"),
    ("hme = '/x'\n", "unknown key 'hme'", "known keys: home, default_key, default_policy, output, color"),
    ("home = 3\n", "home must be a non-empty string", "fix or move the file; 'ct help environment' lists the keys"),
    ('home = "relative/dir"\n', "home must be an absolute path (or start with ~)", "got 'relative/dir'"),
    ('output = "yaml"\n', "output must be one of text, json", "got 'yaml'"),
    ('output = "' + "y" * 100 + '"\n', "output must be one of text, json", f"got '{'y' * 40}…' (100 characters)"),
    ('color = "sometimes"\n', "color must be one of auto, always, never", "got 'sometimes'"),
    ('default_key = "Alice!"\n', "default_key: invalid key id 'Alice!'",
     "a key id is 1-64 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"),
    (b"home = \"\xff\"\n", "is not UTF-8 text", "fix or move the file; 'ct help environment' lists the keys"),
])
def test_a_broken_config_is_refused_naming_it(tmp_path, text, error, hint):
    folder = tmp_path / "config" / "cerro-torre"
    folder.mkdir(parents=True)
    path = folder / "config.toml"
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    code, out, err = ct("key", "list")
    assert (code, out) == (10, "")
    sep = " " if error.startswith("is ") else ": "
    assert err.splitlines() == [f"error: config file {path}{sep}{error}", f"hint: {hint}"]
    code, out, _ = ct("--json", "version")
    assert code == 10 and json.loads(out)["error"] == f"config file {path}{sep}{error}"
    assert ct("help", "environment")[0] == 0             # the help stays readable


def test_the_old_config_path_is_read_with_a_warning(tmp_path):
    old = _config(tmp_path, 'output = "json"\n', old=True)
    code, out, err = ct("version")
    new = str(tmp_path / "config" / "cerro-torre" / "config.toml")
    assert code == 0 and json.loads(out)["name"] == "cerro-torre"
    assert err == (f"warning: reading {old}, the old place of the config; move it to {new} "
                   "(the old path will stop being read)\n")


def test_help_environment_lists_every_config_key():
    from cerro_torre.cli.config import KEYS

    code, out, _ = ct("help", "environment")
    assert code == 0
    for key in KEYS:
        assert re.search(rf"^  {key} = ", out, re.M), key
    assert "$XDG_CONFIG_HOME/cerro-torre/config.toml" in out


# ====================================================================== explain, verify, import

@pytest.fixture
def coop_bundles(tmp_path):
    """A 3-of-5 set; one release signed by all five members, one by three."""
    src = make_payload_dir(str(tmp_path / "src"))
    unsigned = str(tmp_path / "rel.ctp")
    pack_unsigned(src, unsigned)
    c = Coop(name="coop", n=5, k=3)
    c.self_signed()
    five, three = str(tmp_path / "five.ctp"), str(tmp_path / "three.ctp")
    c.sign_bundle(unsigned, five, [c.record], ids=[1, 2, 3, 4, 5])
    c.sign_bundle(unsigned, three, [c.record], ids=[1, 3, 5])
    from cerro_torre.governance.policy import Policy

    pol = str(tmp_path / "policy.json")
    with open(pol, "wb") as f:
        f.write(Policy(path=pol, roots=[c.record.fingerprint.full_hex]).to_bytes())
    return {"five": five, "three": three, "unsigned": unsigned, "policy": pol, "coop": c, "tmp": tmp_path}


def test_explain_threshold_line_says_k_of_n_required_and_m_present(coop_bundles):
    code, out, err = ct("explain", coop_bundles["five"], "--policy", coop_bundles["policy"])
    assert (code, err) == (0, "")
    (line,) = [ln for ln in out.splitlines() if ln.startswith("threshold")]
    assert line == "threshold   ed25519 1 of 1 required, 1 valid; ml-dsa-87 3 of 5 required, 5 valid  (met)"
    code, out, _ = ct("verify", coop_bundles["three"], "--policy", coop_bundles["policy"])
    assert code == 0
    assert "  signatures  ed25519 1 of 1 required, 1 valid; ml-dsa-87 3 of 5 required, 3 valid" in out.splitlines()


def test_explain_signers_separates_signed_from_did_not_sign(coop_bundles):
    c = coop_bundles["coop"]
    code, out, _ = ct("explain", coop_bundles["three"], "--policy", coop_bundles["policy"], "--signers")
    assert code == 0
    lines = out.splitlines()
    body = lines[lines.index("signers") + 1:next(i for i, ln in enumerate(lines) if ln.startswith("trust from"))]
    heads = [ln for ln in body if not ln.startswith("    ")]
    assert heads == ["  signed", "  did not sign"]
    split = body.index("  did not sign")
    rows = [ln.split()[0] for ln in body if ln.startswith("    ") and not ln.startswith("        ")]
    assert rows == ["coop@1", "m1", "m3", "m5", "m2", "m4"]
    assert [ln.split()[0] for ln in body[split:] if re.match(r"    \S", ln)] == ["m2", "m4"]
    keys = [ln.split() for ln in body if ln.startswith("        ")]
    # the group's Ed25519 key, then each member's ML-DSA-87 key: never a member's identity Ed25519 key
    assert keys[0] == ["ed25519", "keyid", c.record.group_keyid]
    assert [k[0] for k in keys[1:]] == ["ml-dsa-87"] * 5
    code, out, _ = ct("--json", "explain", coop_bundles["three"], "--policy", coop_bundles["policy"], "--signers")
    rows = json.loads(out)["signers"]
    assert [(r["id"], r["signed"], sorted(r["keys"])) for r in rows] == [
        ("coop@1", True, ["ed25519"]), ("m1", True, ["ml-dsa-87"]), ("m2", False, ["ml-dsa-87"]),
        ("m3", True, ["ml-dsa-87"]), ("m4", False, ["ml-dsa-87"]), ("m5", True, ["ml-dsa-87"])]


def test_explain_exits_with_the_verify_code(coop_bundles, tmp_path):
    code, out, _ = ct("explain", "--help")
    assert code == 0 and "exits with the code 'ct verify'" in " ".join(out.split())
    assert "10 malformed bundle" in " ".join(out.split())
    cases = [(coop_bundles["three"], ["--policy", coop_bundles["policy"]], 0),
             (coop_bundles["unsigned"], ["--policy", coop_bundles["policy"]], 2),
             (coop_bundles["three"], [], 3)]
    (tmp_path / "junk.ctp").write_bytes(b"junk")
    cases.append((str(tmp_path / "junk.ctp"), [], 10))
    for bundle, extra, want in cases:
        v = ct("verify", bundle, *extra)[0]
        code, out, err = ct("explain", bundle, *extra)
        assert code == v == want and err == "", (bundle, code, v)
        (status,) = [ln for ln in out.splitlines() if ln.startswith("status      ")]
        assert status.startswith("status      valid (ct verify exits 0)" if want == 0 else
                                 f"status      {'MALFORMED' if want == 10 else 'INVALID'} (ct verify exits {want}): ")
        assert ct("--json", "explain", bundle, *extra)[0] == want


def test_verify_an_airgap_tarball_and_import_a_bundle_give_the_right_hint(coop_bundles, tmp_path):
    tar = str(tmp_path / "airgap.tar")
    assert ct("export", coop_bundles["three"], "-o", tar)[0] == 0
    code, out, err = ct("verify", tar)
    assert (code, out) == (10, "")
    assert err.splitlines() == ["error: airgap.tar is an airgap tarball, not a bundle",
                                f"hint: this is an airgap tarball: use 'ct import {tar} --verify'"]
    code, out, err = ct("--home", str(tmp_path / "h"), "import", coop_bundles["three"], "--verify")
    assert (code, out) == (10, "")
    assert err.splitlines() == ["error: three.ctp is a .ctp bundle, not an airgap tarball",
                                f"hint: this is a bundle: use 'ct verify {coop_bundles['three']}'"]


def test_verify_reads_standard_input(coop_bundles, tmp_path):
    with open(coop_bundles["three"], "rb") as f:
        p = subprocess.run(CT + ["verify", "-", "--policy", coop_bundles["policy"]], stdin=f,
                           capture_output=True, env=ct_env(), timeout=120)
    assert (p.returncode, p.stderr) == (0, b"")
    assert p.stdout.decode().splitlines()[0] == "ok: stdin is valid"
    with open(coop_bundles["unsigned"], "rb") as f:
        p = subprocess.run(CT + ["--json", "verify", "-", "--policy", coop_bundles["policy"]], stdin=f,
                           capture_output=True, env=ct_env(), timeout=120)
    assert p.returncode == 2 and json.loads(p.stdout)["bundle"] == "-"
    assert p.stderr.decode().startswith("error: stdin: ") or p.stderr.decode().startswith("error: stdin ")
    with open(coop_bundles["three"], "rb") as f:
        p = subprocess.run(CT + ["explain", "-", "--policy", coop_bundles["policy"]], stdin=f,
                           capture_output=True, env=ct_env(), timeout=120)
    assert p.returncode == 0 and p.stdout.decode().startswith("bundle      stdin (")
    leftovers = [n for n in os.listdir(os.environ.get("TMPDIR", "/tmp")) if n.startswith("ct-stdin-")]
    assert leftovers == []


def test_verify_stdin_memory_stays_flat(tmp_path):
    """A 256 MiB bundle through a pipe: peak memory far below its size (spooled 1 MiB at a time).

    Measured inside the child as VmHWM (/proc/self/status): the peak resident set of the ct process
    image since its exec, file-backed pages included (the verifier hashes a large member through a
    16 MiB mmap window).  Not ru_maxrss: Linux keeps the high-water mark of the image before exec in
    the child's rusage, and subprocess starts the child from pytest (vfork), so ru_maxrss read 145-173 MB
    here whenever earlier tests had grown the pytest process -- pytest's memory, not ct's."""
    big = tmp_path / "payload"
    big.mkdir()
    with open(big / "blob", "wb") as f:
        f.truncate(256 << 20)
    pack_unsigned(str(big), str(tmp_path / "big.ctp"))
    code = ("import runpy, sys; sys.argv = ['ct', 'verify', '-']\n"
            "try:\n    runpy.run_module('cerro_torre.cli', run_name='__main__')\n"
            "except SystemExit as e:\n    code = e.code\n"
            "hwm = next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
            "print(code, hwm, file=sys.stderr)\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=ct_env())
    with open(tmp_path / "big.ctp", "rb") as f:
        shutil.copyfileobj(f, p.stdin, 1 << 20)
    p.stdin.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=300) == 0
    last = err.splitlines()[-1].split()
    assert last[0] == "2"                                 # unsigned: exit 2, after hashing every byte
    assert int(last[1]) < 64 * 1024, err                  # KiB: < 64 MiB (the memory target) for a 256 MiB bundle


def test_ct_tui_refuses_json_and_v():
    code, out, err = ct("tui", "--json")
    assert code == 64 and err == ("error: ct tui has no JSON output\n"
                                  "hint: use the ct commands with --json for scripts\n")
    assert json.loads(out)["exit_code"] == 64
    for argv in (["-v", "tui"], ["tui", "-v"]):
        code, out, err = ct(*argv)
        assert (code, out) == (64, "")
        assert err == ("error: ct tui has no -v: its errors show on screen with their hints\n"
                       "hint: for a traceback, run the same step as a ct command with -v\n")


# ====================================================================== man page, completion, help

def test_man_page_is_current_and_renders():
    sys.path.insert(0, os.path.join(REPO, "man"))
    try:
        import generate
    finally:
        sys.path.pop(0)
    with open(os.path.join(REPO, "man", "ct.1"), encoding="utf-8") as f:
        assert f.read() == generate.render(), "man/ct.1 is stale: run 'make man'"
    p = subprocess.run(["man", "-l", os.path.join(REPO, "man", "ct.1")], capture_output=True, timeout=60,
                       env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0", PAGER="cat"))
    assert p.returncode == 0, p.stderr
    text = re.sub(r".\x08", "", p.stdout.decode())
    assert text.startswith("CT(1)")
    for leaf in _leaf_commands():
        assert f"COMMAND 'ct {' '.join(leaf)}'" in text, leaf
    for heading in ("ENVIRONMENT", "EXIT STATUS", "LOST KEYHOLDER", "SEE ALSO"):
        assert re.search(rf"^{heading}$", text, re.M), heading
    assert "default_policy" in text and "141  closed pipe" in text


def test_completion_scripts(tmp_path):
    code, out, err = ct("completion", "bash")
    assert (code, err) == (0, "")
    script = tmp_path / "ct.bash"
    script.write_text(out)

    def complete(line: str) -> list[str]:
        words = line.split() + ([""] if line.endswith(" ") else [])
        cmd = (f"source {script}; COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}; "
               f"COMP_LINE={line!r}; COMP_POINT={len(line)}; _shtab_ct; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
        return subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=30).stdout.split()

    assert complete("ct cer") == ["ceremony"]
    assert sorted(complete("ct ceremony st")) == ["status", "step"]
    assert set(complete("ct policy ")) >= {"init", "set", "show", "add-root"}
    assert "--passphrase-file" in complete("ct keygen --pass")
    code, out, _ = ct("completion", "zsh")
    assert code == 0 and out.startswith("#compdef ct")
    (tmp_path / "_ct").write_text(out)
    if shutil.which("zsh"):
        p = subprocess.run(["zsh", "-n", str(tmp_path / "_ct")], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
    assert ct("completion", "fish")[0] == 64


def test_help_rotate_and_rotate_help():
    code, out, _ = ct("help", "rotate")
    assert code == 0
    assert out.startswith("A keyholder lost a machine, forgot a passphrase, or leaves: rotate the set (or repair a "
                          "lost share).\n")
    assert "ct ceremony rotate --group keyholders.json --remove bob --add frank.pub -o rot.ctm" in out
    assert "ct policy set min-epoch N+1" in out and "--keep-key" in out
    # issue 12: repair, keep-key and refresh exist now, and the guide says when to use which
    assert "ct ceremony repair --group keyholders.json --member bob" in out
    assert "ct ceremony refresh --group keyholders.json -o ref.ctm" in out
    assert "Coming:" not in out and "rotate to A NEW KEY (B without\n  --keep-key)" in out
    code, out, _ = ct("ceremony", "rotate", "--help")
    flat = " ".join(out.split())
    assert code == 0 and "Open a rotation of the keyholder set OLD.json to epoch N+1" in flat
    assert "'ct help rotate' is the whole guide" in flat
    code, out, _ = ct("help")
    assert "rotate" in out.split("one of: ")[1]


def test_policy_set(tmp_path):
    pol = str(tmp_path / "p.json")
    assert ct("policy", "init", "--policy", pol)[0] == 0
    code, out, err = ct("policy", "set", "min-epoch", "2", "--policy", pol)
    assert (code, err) == (0, "") and out == f"min-epoch: 0 -> 2 in {pol}\n"
    code, out, _ = ct("policy", "set", "min-threshold", "3", "--policy", pol)
    assert out == f"min-threshold: 1 -> 3 in {pol}\n"
    code, out, _ = ct("policy", "set", "min-threshold", "3", "--policy", pol)
    assert out == f"min-threshold is already 3 in {pol} (nothing changed)\n"
    doc = json.loads(open(pol).read())
    assert (doc["min_epoch"], doc["min_threshold"]) == (2, 3)
    before = open(pol, "rb").read()
    epoch_hint = ("hint: it is the lowest keyholder-set epoch accepted (0: any); after a rotation to epoch 2: "
                  "'ct policy set min-epoch 2'\n")
    threshold_hint = ("hint: it is the lowest k accepted of a k-of-n keyholder set (at most 255 members); "
                      "e.g. 'ct policy set min-threshold 2'\n")
    for key, value, shown in (("min-threshold", "0", "'0'"), ("min-threshold", "abc", "'abc'"),
                              ("min-threshold", "256", "'256'"), ("min-epoch", "-1", "'-1'"),
                              ("min-epoch", "two", "'two'"), ("min-epoch", "\u00b2", "'\u00b2'"),
                              ("min-epoch", "9" * 30, repr("9" * 30)),
                              ("min-epoch", "9007199254740992", "'9007199254740992'"),
                              ("min-epoch", "1" * 10000, f"'{'1' * 40}…' (10000 characters)")):
        code, _, err = ct("policy", "set", key, value, "--policy", pol)
        limits = "from 1 to 255" if key == "min-threshold" else "from 0 to 9007199254740991"
        assert (code, err) == (64, f"error: {key} must be a whole number {limits}, got {shown}\n"
                                   + (threshold_hint if key == "min-threshold" else epoch_hint))
    assert open(pol, "rb").read() == before
    code, out, _ = ct("policy", "set", "min-epoch", "9007199254740991", "--policy", pol)
    assert (code, out) == (0, f"min-epoch: 2 -> 9007199254740991 in {pol}\n")
    code, _, err = ct("policy", "init", "--policy", str(tmp_path / "q.json"), "--min-epoch", "99999999999999999999")
    assert (code, err) == (64, "error: min-epoch must be a whole number from 0 to 9007199254740991, "
                               "got '99999999999999999999'\n" + epoch_hint)
    assert not os.path.exists(tmp_path / "q.json")
    code, _, err = ct("policy", "set", "roots", "x", "--policy", pol)
    assert code == 64 and "invalid choice: 'roots'" in err
    assert ct("policy", "set", "min-epoch", "2", "--policy", str(tmp_path / "none.json"))[0] == 21


# ====================================================================== progress

class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_only(tmp_path):
    (tmp_path / "big-1.0.bin").write_bytes(os.urandom(3 << 20))
    err = FakeTty()
    assert main(["pack", str(tmp_path / "big-1.0.bin"), "-o", str(tmp_path / "b.ctp")],
                stdout=io.StringIO(), stderr=err) == 0
    shown = err.getvalue()
    # a bar for each pass over the 3 MiB, named, each reaching its own total (not 3 MiB "of 6.0 MiB")
    assert "\rpack: hashing 1/2 [########################] 100%  3.0 MiB of 3.0 MiB" in shown
    assert "\rpack: copying 2/2 [########################] 100%  3.0 MiB of 3.0 MiB" in shown
    assert "6.0 MiB" not in shown
    assert shown.endswith("\r\x1b[K")                                        # wiped at the end
    err = FakeTty()
    assert main(["verify", str(tmp_path / "b.ctp")], stdout=io.StringIO(), stderr=err) == 2
    assert "\rverifying b.ctp [" in err.getvalue()
    assert "\x1b[K\rerror: b.ctp is not signed" not in err.getvalue()
    assert re.search(r"\r\x1b\[Kerror: ", err.getvalue())                    # the line is cleared first
    for argv in (["--json", "verify", str(tmp_path / "b.ctp")],):
        err = FakeTty()
        main(argv, stdout=io.StringIO(), stderr=err)
        assert "\r" not in err.getvalue()
    err = io.StringIO()                                                      # not a terminal
    main(["verify", str(tmp_path / "b.ctp")], stdout=io.StringIO(), stderr=err)
    assert "\r" not in err.getvalue()


def test_pack_progress_totals_are_the_bytes_advanced(tmp_path):
    """Every start(label, total) of a pack is followed by advances adding up to exactly that total."""
    from cerro_torre.ceremony.bundle import pack
    from cerro_torre.ceremony.sources import open_source
    from cerro_torre.suites.progress import Progress

    class Recorder(Progress):
        def __init__(self) -> None:
            self.bars: list[list] = []

        def start(self, label: str, total: int = 0) -> None:
            self.bars.append([label, total, 0])

        def advance(self, n: int) -> None:
            self.bars[-1][2] += n

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(1 << 20))
    (src / "b.txt").write_bytes(b"x" * 12345)
    rec = Recorder()
    with open_source(str(src)) as source:
        pack(source, str(tmp_path / "s.ctp"), progress=rec)
    size = (1 << 20) + 12345
    assert rec.bars == [["pack: hashing 1/2", size, size], ["pack: copying 2/2", size, size]]


def test_argon2_shows_a_moving_bar(tmp_path, monkeypatch):
    """The real 64 MiB Argon2id (no test override): a moving block and the seconds, then wiped."""
    monkeypatch.delenv("CT_TESTING")
    monkeypatch.setenv("CT_PASSPHRASE", "ember quarry tidal oboe lantern sprig")
    err = FakeTty()
    assert main(["--home", str(tmp_path / "h"), "keygen", "--id", "alice", "--suite", "CT-SIG-01"],
                stdout=io.StringIO(), stderr=err) == 0
    frames = [f for f in err.getvalue().split("\r") if f.startswith("generating and sealing key 'alice' (Argon2id) [")]
    assert frames and all(re.search(r"\]  \d+\.\d s\x1b\[K$", f) for f in frames), err.getvalue()[:300]
    assert err.getvalue().endswith("\r\x1b[K")


def test_the_tui_busy_line_takes_the_same_progress_reports(tmp_path):
    """One reporting API (suites.progress): the verifier reports to the TUI's busy line as to ct's bar."""
    from cerro_torre.ceremony.verifier import trust_from, verify_bundle
    from cerro_torre.tui.widgets.busy import BusyProgress

    shown: list[str] = []
    p = BusyProgress(shown.append)
    p.start("verifying app.ctp", 1000)
    p.advance(420)
    assert shown == ["verifying app.ctp", "verifying app.ctp: 42%"]
    src = make_payload_dir(str(tmp_path / "src"))
    pack_unsigned(src, str(tmp_path / "x.ctp"))
    shown.clear()
    verify_bundle(str(tmp_path / "x.ctp"), trust_from(str(tmp_path / "h"), None), None, progress=BusyProgress(shown.append))
    assert shown[0] == "verifying x.ctp" and re.fullmatch(r"verifying x\.ctp: \d+%", shown[1]), shown
