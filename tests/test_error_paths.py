"""Errors of the operating system and of the command line, as a user meets them: a full disk behind
stdout or under the output file, a path through a file, an unknown option, an empty passphrase.
Each ends in one error line, a hint, and a documented exit code (spec/exit-codes.md), never exit 70;
and no temp file is left behind.

Real conditions, no mocks: /dev/full for a full disk behind stdout, RLIMIT_FSIZE (with SIGXFSZ
ignored, as a shell's `ulimit -f` with the signal trapped) for a write the system refuses."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys

import pytest
from test_bundle_support import cheap_env, ct

from cerro_torre.cli.main import MAX_ERROR_LINE, _fail
from cerro_torre.suites.errors import EXIT_CODES

CT = [sys.executable, "-m", "cerro_torre.cli"]


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    cheap_env(monkeypatch)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("CT_HOME", str(tmp_path / "home"))


def _run(argv: list[str], stdout=subprocess.PIPE, preexec=None, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, CT_TESTING="1", CT_TEST_ARGON2_MEMORY_KIB="64")
    return subprocess.run([*CT, *argv], stdout=stdout, stderr=subprocess.PIPE, text=True, env=env,
                          preexec_fn=preexec, cwd=cwd, timeout=120)


FULL = "error: no space left on device: standard output\nhint: free some space on that device, or write somewhere else\n"


@pytest.mark.parametrize("argv", [["completion", "bash"], ["help", "exit-codes"], ["version"], ["--json", "version"]])
def test_a_full_disk_behind_stdout_is_exit_74_naming_standard_output(argv):
    with open("/dev/full", "w") as full:
        p = _run(argv, stdout=full)
    assert (p.returncode, p.stderr) == (74, FULL)


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # the write then fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_an_output_file_the_system_refuses_to_grow_is_exit_74_naming_it_and_leaves_nothing(tmp_path):
    payload = tmp_path / "payload.bin"
    payload.write_bytes(os.urandom(64 << 10))
    out = tmp_path / "out"
    out.mkdir()
    p = _run(["pack", str(payload), "-o", str(out / "p.ctp"), "--name", "app", "--version", "1"],
             preexec=_limit_file_size)
    assert p.returncode == 74
    assert p.stderr == (f"error: file too large: {out / 'p.ctp'}\n"
                        "hint: the file is larger than this system or file system allows: write somewhere else\n")
    assert os.listdir(out) == []   # neither the bundle nor its temp file


def test_an_atomic_write_refused_names_the_file_the_user_gave(tmp_path):
    from cerro_torre.suites.atomic import atomic_write, atomic_writer

    (tmp_path / "afile").write_text("x")
    with pytest.raises(NotADirectoryError) as e:
        atomic_write(tmp_path / "afile" / "policy.json", b"{}")
    assert e.value.filename == str(tmp_path / "afile" / "policy.json")
    os.mkdir(tmp_path / "d")
    with open("/dev/full", "wb") as full, pytest.raises(OSError) as e:   # a write fails: no file name
        with atomic_writer(tmp_path / "d" / "k.pub") as f:
            f.write(b"x")
            f.flush()
            full.write(b"y" * 65536)
            full.flush()
    assert (e.value.errno, e.value.filename) == (28, str(tmp_path / "d" / "k.pub"))
    assert os.listdir(tmp_path / "d") == []


def test_an_output_path_through_a_file_names_the_folder_not_a_temp_file(tmp_path):
    """ct pack's first write is a temp file in the output's folder (.ct-manifest-…): the folder is named."""
    (tmp_path / "afile").write_text("x")
    (tmp_path / "p.txt").write_text("hi")
    code, out, err = ct("pack", str(tmp_path / "p.txt"), "-o", str(tmp_path / "afile" / "x.ctp"),
                        "--name", "app", "--version", "1")
    assert (code, out) == (74, "")
    assert err == (f"error: not a directory: writing in {tmp_path / 'afile'}\n"
                   "hint: a part of the path is a file, not a folder: check the path\n")


@pytest.mark.parametrize(("argv", "unknown", "prog"), [
    (["import", "x.tar", "--allow-unverified"], "--allow-unverified", "ct import"),
    (["verify", "--bogus", "x.ctp"], "--bogus", "ct verify"),
    (["ceremony", "step", "--nope", "m.ctm"], "--nope", "ct ceremony step"),
    (["key", "list", "extra"], "extra", "ct key list"),
    (["--nope"], "--nope", "ct"),
])
def test_an_unknown_option_points_to_the_help_of_its_command(argv, unknown, prog):
    code, out, err = ct(*argv)
    assert (code, out) == (64, "")
    assert err == f"error: unrecognized arguments: {unknown}\nhint: run '{prog} --help' for usage\n"


def test_an_empty_passphrase_from_the_environment_or_a_file_is_exit_20(tmp_path, monkeypatch):
    monkeypatch.setenv("CT_PASSPHRASE", "")
    code, _, err = ct("keygen", "--id", "alice")
    assert (code, err) == (20, "error: no passphrase given: CT_PASSPHRASE is set but empty\n"
                               "hint: unset it to be prompted, or set a passphrase\n")
    monkeypatch.delenv("CT_PASSPHRASE")
    empty = tmp_path / "pw"
    empty.write_text("")
    code, _, err = ct("keygen", "--id", "alice", "--passphrase-file", str(empty))
    assert (code, err) == (20, f"error: no passphrase given: the passphrase file {empty} is empty\n"
                               "hint: put the passphrase on its first line\n")


@pytest.mark.parametrize("code", sorted(c for c in EXIT_CODES if c not in (0, 141)))
def test_every_error_code_comes_with_a_hint_even_when_its_source_gave_none(code, capsys):
    import io

    out, err = io.StringIO(), io.StringIO()
    assert _fail(out, err, code, "something went wrong", (), True) == code
    lines = err.getvalue().splitlines()
    assert lines[0] == "error: something went wrong" and len(lines) == 2 and lines[1].startswith("hint: ")
    assert json.loads(out.getvalue())["hints"] == [lines[1].removeprefix("hint: ")]


def test_an_error_line_is_cut_at_1000_characters_saying_how_long_it_was():
    import io

    err = io.StringIO()
    _fail(io.StringIO(), err, 64, "--version 'v" + "v" * 10_000 + "' is too long", ("a hint",), False)
    first = err.getvalue().splitlines()[0]
    assert len(first) == len("error: ") + MAX_ERROR_LINE - 40 + len("… (10,025 characters in all)")
    assert first.endswith("vvv… (10,025 characters in all)")


def test_every_exit_code_is_documented_in_the_spec():
    spec = open(os.path.join(os.path.dirname(__file__), "..", "spec", "exit-codes.md"), encoding="utf-8").read()
    for code in EXIT_CODES:
        assert f"\n| {code} | " in spec
    assert "\n| 74 | i/o error:" in spec


def test_a_value_shown_in_an_error_line_never_raises():
    """Error lines quote untrusted values (ceremony message fields, a document's type); a value canonical
    JSON has no form for is named by its kind instead of failing while the error is being built."""
    from cerro_torre.suites.encoding import shown, type_of

    assert [shown(v) for v in (1.5, 10 ** 30, "x" * 50, [1] * 30, None)] == [
        "(a number with a fraction)", "(a very long integer)", f"'{'x' * 40}…' (50 characters)",
        "[" + ",".join(["1"] * 20) + "…", "null"]
    assert type_of({"type": 2.5}) == "its type is (a number with a fraction)"
    assert type_of({}) == 'it has no "type" field' and type_of([]) == "it is not a JSON object"


def test_os_errors_map_to_21_or_74_with_a_hint_for_their_errno():
    import errno

    from cerro_torre.cli.main import os_error

    assert os_error(FileNotFoundError(errno.ENOENT, "No such file or directory", "a.ctp")) == (
        21, "no such file or directory: a.ctp", "check the path")
    assert os_error(OSError(errno.ENOSPC, "No space left on device", "/m/.ct-tmp-x1")) == (
        74, "no space left on device: writing in /m", "free some space on that device, or write somewhere else")
    assert os_error(ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")) == (
        74, "connection refused", "check the address, and that the server is running and reachable")
    assert os_error(OSError(errno.EXDEV, "Invalid cross-device link", b"/x")) == (
        74, "invalid cross-device link: /x", "check the path and the device")
