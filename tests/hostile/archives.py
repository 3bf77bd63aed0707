"""Hostile airgap tarballs, built at test time with Python's ``tarfile`` and GNU tar (/usr/bin/tar).

Every case is a tarball ``ct import`` must refuse with exit 10 and an ``error:`` line naming the
member (``Case.error`` is a regular expression for that whole line).  Nothing here is checked in:
:func:`build` writes the corpus into a folder and returns the cases.

The layout a genuine tarball has (``spec/airgap.md``)::

    airgap/bundles/<file>  airgap/keyholders/<set>/<epoch>.json  airgap/keys/<id>.pub
    airgap/policy.json     index.json (last)
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass

from cerro_torre.ceremony import bundle as B

GNU_TAR = "/usr/bin/tar"
TEN_GIB = 10 << 30


@dataclass
class Case:
    name: str
    path: str
    error: str            # regex for the whole error line
    tool: str             # "tarfile", "gnu tar" or "bytes"


def _info(name: str, size: int = 0, type_: bytes = tarfile.REGTYPE, **kw) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.type = type_
    ti.mtime = 0
    ti.mode = 0o644
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


def _tar(path: str, members: list[tuple[tarfile.TarInfo, bytes | None]], fmt: int = tarfile.PAX_FORMAT,
         pax_headers: dict | None = None) -> None:
    """A tar with exactly these members in this order (tarfile writes the headers)."""
    with tarfile.open(path, "w", format=fmt, pax_headers=pax_headers or {}) as t:
        for ti, data in members:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)


def _raw(path: str, chunks: list[bytes]) -> None:
    with open(path, "wb") as f:
        f.writelines(chunks)


def _gnu(cwd: str, out: str, *args: str) -> None:
    subprocess.run([GNU_TAR, *args, "-f", out], cwd=cwd, check=True, capture_output=True)


def _q(name: str) -> str:
    """How the error line quotes a member name (Python repr), as a regex."""
    return re.escape(repr(name))


def build(root: str, good: str) -> list[Case]:
    """Write the hostile corpus into ``root``; ``good`` is a genuine tarball (cut, patched, extended)."""
    os.makedirs(root, exist_ok=True)
    cases: list[Case] = []

    def case(name: str, error: str, tool: str) -> str:
        p = os.path.join(root, f"{name}.tar")
        cases.append(Case(name, p, f"error: {re.escape(name)}\\.tar{error}", tool))
        return p

    data = b"not a bundle\n"
    bun = "airgap/bundles/"

    # --- paths that leave the target
    _tar(case("absolute", f": member {_q('/tmp/ct-hostile-evil')} is an absolute path", "tarfile"),
         [(_info("/tmp/ct-hostile-evil", len(data)), data)])
    _tar(case("dotdot", f": member {_q(bun + '../../ct-hostile-evil.sh')} leaves the archive \\('\\.\\.'\\)",
              "tarfile"), [(_info(bun + "../../ct-hostile-evil.sh", len(data)), data)])
    _tar(case("dotdot-top", f": member {_q('../ct-hostile-evil.sh')} leaves the archive \\('\\.\\.'\\)", "tarfile"),
         [(_info("../ct-hostile-evil.sh", len(data)), data)])
    _tar(case("dot-segment", f": member {_q('airgap/./bundles/a.ctp')} is not a normalized path", "tarfile"),
         [(_info("airgap/./bundles/a.ctp", len(data)), data)])

    # --- entries that are not plain files (tarfile)
    _tar(case("symlink", f": member {_q(bun + 'a.ctp')} is a symbolic link \\(to {_q('/etc/passwd')}\\)", "tarfile"),
         [(_info(bun + "a.ctp", type_=tarfile.SYMTYPE, linkname="/etc/passwd"), None)])
    _tar(case("hardlink", f": member {_q(bun + 'a.ctp')} is a hard link \\(to {_q('/etc/shadow')}\\)", "tarfile"),
         [(_info(bun + "a.ctp", type_=tarfile.LNKTYPE, linkname="/etc/shadow"), None)])
    _tar(case("chardev", f": member {_q(bun + 'null.ctp')} is a character device", "tarfile"),
         [(_info(bun + "null.ctp", type_=tarfile.CHRTYPE, devmajor=1, devminor=3), None)])
    _tar(case("blockdev", f": member {_q(bun + 'sda.ctp')} is a block device", "tarfile"),
         [(_info(bun + "sda.ctp", type_=tarfile.BLKTYPE, devmajor=8, devminor=0), None)])
    _tar(case("fifo", f": member {_q(bun + 'pipe.ctp')} is a FIFO", "tarfile"),
         [(_info(bun + "pipe.ctp", type_=tarfile.FIFOTYPE), None)])
    _tar(case("directory", f": member {_q('airgap/')} is a directory", "tarfile"),
         [(_info("airgap", type_=tarfile.DIRTYPE, mode=0o755), None)])
    _tar(case("pax-global", f": member {_q('././@PaxHeader')} is a pax global header", "tarfile"),
         [(_info(bun + "a.ctp", len(data)), data)], pax_headers={"comment": "hostile"})
    _tar(case("gnu-longname", f": member {_q('././@LongLink')} is a GNU long name", "tarfile"),
         [(_info(bun + "x" * 150 + ".ctp", len(data)), data)], fmt=tarfile.GNU_FORMAT)

    # --- names that collide or do not belong
    _tar(case("duplicate", f": duplicate member {_q(bun + 'a.ctp')}", "tarfile"),
         [(_info(bun + "a.ctp", len(data)), data), (_info(bun + "a.ctp", len(data)), data)])
    _tar(case("case-collision", f": member {_q(bun + 'a.ctp')} differs only by case or Unicode normalization "
              f"from {_q(bun + 'A.ctp')}", "tarfile"),
         [(_info(bun + "A.ctp", len(data)), data), (_info(bun + "a.ctp", len(data)), data)])
    nfd, nfc = bun + "cafe\u0301.ctp", bun + "caf\u00e9.ctp"     # NFD sorts first (b'e' < b'\xc3')
    _tar(case("unicode-collision", f": member {_q(nfc)} differs only by case or Unicode normalization "
              f"from {_q(nfd)}", "tarfile"),
         [(_info(nfd, len(data)), data), (_info(nfc, len(data)), data)])
    _tar(case("unexpected", f": member {_q('evil.sh')} is not part of an airgap tarball", "tarfile"),
         [(_info("evil.sh", len(data)), data)])
    _tar(case("out-of-order", f": member {_q(bun + 'a.ctp')} is out of order", "tarfile"),
         [(_info("index.json", 2), b"{}"), (_info(bun + "a.ctp", len(data)), data)])
    deep = bun + "/".join(["d"] * 60) + "/x.ctp"
    _tar(case("deep-tarfile", f": member {_q(deep)} is nested 63 levels deep \\(an airgap tarball has at most 4\\)",
              "tarfile"), [(_info(deep, len(data)), data)])
    long_name = bun + "n" * 300 + ".ctp"
    _tar(case("long-name", f": member {_q(long_name[:64])}… has a 319-byte name \\(limit 255\\)", "tarfile"),
         [(_info(long_name, len(data)), data)])

    # --- size claims (tar bombs)
    hdr = _info(bun + "huge.ctp", TEN_GIB).tobuf(tarfile.PAX_FORMAT)
    _raw(case("ten-gib-claim", f" is truncated \\(member {_q(bun + 'huge.ctp')} is cut short\\)", "tarfile"),
         [hdr, b"x" * 4096, b"\0" * 1024])
    hdr = _info(bun + "huge.ctp", TEN_GIB).tobuf(tarfile.GNU_FORMAT)
    _raw(case("base256-claim", f": member {_q(bun + 'huge.ctp')} has a base-256 size field "
              f"\\(claims {TEN_GIB} bytes\\)", "tarfile"), [hdr, b"x" * 4096, b"\0" * 1024])
    big = b"{" + b" " * (5 << 20) + b"}"
    _tar(case("oversized-policy", f": member {_q('airgap/policy.json')} is {len(big)} bytes, more than the "
              "4\\.0 MiB allowed for a policy", "tarfile"), [(_info("airgap/policy.json", len(big)), big)])
    bomb = case("member-bomb", f": member {_q('airgap/keys/k10000.pub')} is past the 10000 members an airgap "
                "tarball may hold \\(a tar bomb\\?\\)", "bytes")
    with open(bomb, "wb") as f:
        for i in range(10_001):
            f.write(B.member_header(f"airgap/keys/k{i:05d}.pub", 1))
            f.write(b"x" + b"\0" * 511)
        f.write(b"\0" * 1024)

    # --- damaged genuine tarballs
    with open(good, "rb") as f:
        g = f.read()
    first_size = int(g[124:136].rstrip(b"\0"), 8)
    _raw(case("truncated", f" is truncated \\(member {_q(_first_name(g))} is cut short\\)", "bytes"),
         [g[:512 + first_size // 2]])                 # cut in the middle of the first member's data
    bad = bytearray(g)
    bad[136] ^= 0x01                       # a digit of the first header's mtime: the checksum no longer matches
    _raw(case("bad-checksum", f": corrupt tar header at byte 0 for member {_q(_first_name(g))}: bad checksum",
              "bytes"), [bytes(bad)])
    _raw(case("trailing-data", " has data after the end of the archive", "bytes"), [g, b"appended\n" * 100])
    _raw(case("not-a-tar", " is not a tar archive", "bytes"), [os.urandom(4096)])
    _raw(case("empty", " is empty", "bytes"), [b""])

    # --- GNU tar, from real file-system objects
    if os.path.exists(GNU_TAR):
        src = os.path.join(root, "gnu-src")
        os.makedirs(src, exist_ok=True)
        with open(os.path.join(src, "plain.ctp"), "wb") as f:
            f.write(data)
        os.symlink("/etc/passwd", os.path.join(src, "link.ctp"))
        os.link(os.path.join(src, "plain.ctp"), os.path.join(src, "hard.ctp"))
        os.mkfifo(os.path.join(src, "fifo.ctp"))
        with open(os.path.join(src, "sparse.ctp"), "wb") as f:
            f.truncate(TEN_GIB)
        tr = ("--transform", "s,^,airgap/bundles/,S")
        _gnu(src, case("gnu-symlink", f": member {_q(bun + 'link.ctp')} is a symbolic link \\(to {_q('/etc/passwd')}\\)",
                       "gnu tar"), "-c", *tr, "link.ctp")
        _gnu(src, case("gnu-hardlink", f": member {_q(bun + 'plain.ctp')} is a hard link \\(to {_q(bun + 'hard.ctp')}\\)",
                       "gnu tar"), "-c", *tr, "hard.ctp", "plain.ctp")
        # (GNU tar stores the first of two names of one file as the file, the second as a link to it)
        _gnu(src, case("gnu-fifo", f": member {_q(bun + 'fifo.ctp')} is a FIFO", "gnu tar"), "-c", *tr, "fifo.ctp")
        _gnu(src, case("gnu-chardev", f": member {_q('dev/null')} is a character device", "gnu tar"),
             "-c", "-P", "--transform", "s,^/,,", "/dev/null")
        _gnu(src, case("gnu-sparse", f": member {_q(bun + 'sparse.ctp')} is a GNU sparse file \\(claims {TEN_GIB} "
                       "bytes\\)", "gnu tar"), "-c", "--sparse", *tr, "sparse.ctp")
        _gnu(src, case("gnu-sparse-posix", ": unsupported pax record 'GNU\\.sparse\\.major' \\(member "
                       f"{_q('./PaxHeaders/sparse.ctp')}\\)", "gnu tar"),
             "-c", "--sparse", "--format=posix", *tr, "sparse.ctp")
        _gnu(src, case("gnu-directory", f": member {_q('airgap/bundles/./')} is a directory", "gnu tar"),
             "-c", "--no-recursion", *tr, ".")
        nest = os.path.join(src, *(["deep"] * 40))
        os.makedirs(nest)
        with open(os.path.join(nest, "x.ctp"), "wb") as f:
            f.write(data)
        rel = "/".join(["deep"] * 40) + "/x.ctp"
        _gnu(src, case("gnu-deep", f": member {_q('././@LongLink')} is a GNU long name", "gnu tar"),
             "-c", "--no-recursion", rel)
        _gnu(src, case("gnu-deep-posix", f": member {_q(rel)} is nested 41 levels deep "
                       "\\(an airgap tarball has at most 4\\)", "gnu tar"),
             "-c", "--no-recursion", "--format=posix", "--pax-option=delete=atime,delete=ctime,delete=mtime", rel)
        shutil.rmtree(src)
    return cases


def _first_name(tar_bytes: bytes) -> str:
    return tar_bytes[:100].split(b"\0", 1)[0].decode()
