"""Write the seed inputs of every fuzz target into ``fuzz/corpus/<target>/seed-*``.

Seeds are real documents: the spec vectors (``spec/vectors/``), and what a short run of ``ct``
itself writes (a 2-of-3 keygen ceremony, a release signed by the group and by one key, a policy,
an airgap tarball, QR frames), and the hostile airgap tarballs of ``tests/hostile``.  Run it again
when a format changes: ``.venv/bin/python fuzz/make_seeds.py`` (existing seed-* files are replaced;
regression inputs, ``crash-*`` and ``regress-*``, are kept).
"""

from __future__ import annotations

import glob
import io
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import targets  # noqa: E402
from targets import SEP  # noqa: E402

from cerro_torre.ceremony import bundle as B  # noqa: E402
from cerro_torre.ceremony import coordinator  # noqa: E402
from cerro_torre.ceremony.message import Message  # noqa: E402
from cerro_torre.ceremony.protocol import Journal  # noqa: E402
from cerro_torre.cli.main import main  # noqa: E402
from cerro_torre.offline import qr  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")


def ct(*argv: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    rc = main(list(argv), stdout=out, stderr=err)
    if rc != 0:
        raise SystemExit(f"ct {' '.join(argv)} failed ({rc}):\n{err.getvalue()}")


def read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


class Seeds:
    def __init__(self) -> None:
        self.by_target: dict[str, dict[str, bytes]] = {t: {} for t in targets.TARGETS}

    def add(self, target: str, name: str, data: bytes) -> None:
        self.by_target[target][name] = data

    def write(self) -> None:
        for target, seeds in self.by_target.items():
            d = os.path.join(CORPUS, target)
            os.makedirs(d, exist_ok=True)
            for old in glob.glob(os.path.join(d, "seed-*")):
                os.unlink(old)
            for name, data in sorted(seeds.items()):
                with open(os.path.join(d, f"seed-{name}"), "wb") as f:
                    f.write(data)
            print(f"{target:<13} {len(seeds):>3} seeds")


def members_of(path: str) -> dict[str, bytes]:
    out = {}
    with open(path, "rb") as f:
        r = B.TarReader(f, os.path.basename(path))
        for m in r:
            out[m.name] = r.read_all(B.MAX_META, m.name)
    return out


def members_input(members: dict[str, bytes]) -> bytes:
    return SEP.join(name.encode() + b"\n" + body for name, body in members.items())


def run_ceremony(s: Seeds, first: str, prefix: str, final: str, *, transcript: str = "", bundle: str = "") -> None:
    """Step a ceremony from ``first`` to its end, each keyholder answering from its home; at every round the
    coordinator's journal (with the replies to its last message) becomes a seed of ``message``, and the
    journal and the message seeds of ``status``."""
    msg, r = first, 1
    while True:
        m = Message.parse(read(msg))
        jpath = Journal.path_for(msg, m.ceremony)
        view = Journal.load(jpath, m.ceremony).view()
        replies = []
        for n in coordinator.expected(view)["who"]:
            replies.append(f"{prefix}-{r}-{n}.ctm")
            ct("--home", f"home-{n}", "ceremony", "step", msg, "--yes", "-o", replies[-1])
        s.add("message", f"{prefix}-{r}", SEP.join([read(jpath)] + [read(x) for x in replies]))
        s.add("message", f"{prefix}-{r}-message", read(msg))
        s.add("status", f"{prefix}-{r}-journal", read(jpath))
        s.add("status", f"{prefix}-{r}", read(msg))
        s.add("status", f"{prefix}-{r}-reply", read(replies[0]))
        nxt = f"{prefix}-{r}-next.ctm"
        extra = ["--bundle", bundle] if bundle and coordinator.is_last_signing_round(view) else []
        ct("ceremony", "collect", msg, *replies, "-o", nxt, *extra, *(["--transcript", transcript] if transcript else []))
        try:
            Message.parse(read(nxt))
        except Exception:  # noqa: BLE001 - not a message: the ceremony's result
            os.rename(nxt, final)
            s.add("status", f"{prefix}-journal-done", read(jpath))
            s.add("message", f"{prefix}-journal-done", read(jpath))
            return
        msg, r = nxt, r + 1


def json_payload(envelope: bytes) -> bytes:
    """The statement inside a DSSE envelope."""
    import base64

    return base64.b64decode(json.loads(envelope)["payload"])


def from_vectors(s: Seeds) -> None:
    v = os.path.join(ROOT, "spec", "vectors")
    s.add("manifest", "vector", read(os.path.join(v, "bundle", "expected", "manifest.toml")))
    s.add("dsse", "vector-statement", read(os.path.join(v, "bundle", "expected", "statement.json")))
    for step in (0, 7, 200):   # the first byte chooses the piece size the streaming reader is fed
        s.add("statement_stream", f"vector-{step}",
              bytes([step]) + read(os.path.join(v, "bundle", "expected", "statement.json")))
    chain = json.load(open(os.path.join(v, "keyholder-chain.json")))
    recs = [r if isinstance(r, str) else json.dumps(r) for r in chain["records"]]
    recs = [r.encode() if isinstance(r, str) else r for r in recs]
    s.add("keyholders", "vector-chain", SEP.join(recs))
    for i, r in enumerate(recs):
        s.add("keyholders", f"vector-record-{i}", r)
    pol = json.load(open(os.path.join(v, "policy.json")))
    for i, case in enumerate(pol.get("invalid_documents", [])):
        doc = case.get("doc", case) if isinstance(case, dict) else case
        s.add("policy", f"vector-invalid-{i}", (doc if isinstance(doc, str) else json.dumps(doc)).encode())
    stock = json.load(open(os.path.join(v, "stock-signatures.json")))
    rec = stock["record"]
    s.add("stock", "vector", (rec if isinstance(rec, str) else json.dumps(rec, sort_keys=True)).encode())


def from_ct(s: Seeds, work: str) -> None:
    os.environ.update({"CT_TESTING": "1", "CT_TEST_ARGON2_MEMORY_KIB": "64", "CT_PASSPHRASE": "throwaway fuzz seed keys of no value"})
    os.chdir(work)
    names = ["alice", "bob", "carol"]
    for n in names:
        ct("--home", f"home-{n}", "keygen", "--id", n)
        shutil.copy(f"home-{n}/keys/{n}.pub", f"{n}.pub")
        s.add("public_key", n, read(f"{n}.pub"))
    s.add("sealed", "alice-sec", read("home-alice/keys/alice.sec"))
    ct("ceremony", "keygen", "--threshold", "2", "--name", "coop", *sum((["--member", f"{n}.pub"] for n in names), []),
       "-o", "kg-0.ctm")
    run_ceremony(s, "kg-0.ctm", "keygen", "keyholders.json", transcript="kg-transcript.ctm")
    for n in names:  # each home keeps the record its ceremonies name
        ct("--home", f"home-{n}", "ceremony", "step", "keyholders.json")
    s.add("keyholders", "coop-epoch-1", read("keyholders.json"))
    s.add("policy", "root-record", read("keyholders.json"))
    ct("policy", "init", "--root", "keyholders.json", "--policy", "policy.json")
    s.add("policy", "policy", read("policy.json"))

    os.makedirs("src/sub")
    with open("src/README", "w") as f:
        f.write("hello\n")
    with open("src/sub/tool.sh", "w") as f:
        f.write("#!/bin/sh\necho hi\n")
    os.chmod("src/sub/tool.sh", 0o755)
    ct("pack", "src", "-o", "release.ctp", "--name", "app", "--version", "1.0.0")
    ct("--home", "home-alice", "pack", "src", "-o", "single.ctp", "--name", "app", "--version", "1.0.1", "--key", "alice")
    ct("ceremony", "sign", "release.ctp", "--group", "keyholders.json", "--signer", "alice", "--signer", "bob",
       "-o", "sg-0.ctm")
    run_ceremony(s, "sg-0.ctm", "sign", "signed.ctp", transcript="sg-transcript.ctm", bundle="release.ctp")
    ct("ceremony", "rotate", "--group", "keyholders.json", "--remove", "carol", "--release", "signed.ctp", "-o", "rot-0.ctm")
    run_ceremony(s, "rot-0.ctm", "rotate", "keyholders-2.json")
    for n in names:
        ct("--home", f"home-{n}", "ceremony", "step", "keyholders-2.json")
    s.add("keyholders", "coop-chain", SEP.join([read("keyholders.json"), read("keyholders-2.json")]))
    ct("ceremony", "keygen", "--threshold", "2", "--name", "dealt", "--dealer",
       *sum((["--member", f"{n}.pub"] for n in names), []), "-o", "dk-0.ctm")
    run_ceremony(s, "dk-0.ctm", "dealer", "dealt.json")
    frames = qr.split(read("sign-1-alice.ctm"), max_version=10)
    s.add("qr", "request-frames", SEP.join(f.encode() for f in qr.split(read("sg-0.ctm"), max_version=10)))
    s.add("qr", "reply-frames", SEP.join(f.encode() for f in frames))
    s.add("qr", "one-frame", qr.split(b"a short message")[0].encode())

    for label, path in (("group", "signed.ctp"), ("single", "single.ctp"), ("unsigned", "release.ctp")):
        s.add("tar", label, read(path))
        mem = members_of(path)
        s.add("verify", label, members_input(mem))
        s.add("manifest", label, mem[B.MANIFEST])
        s.add("dsse", label, mem[B.ENVELOPE])
        s.add("statement_stream", label, b"\x05" + json_payload(mem[B.ENVELOPE]))
        for att in sorted(n for n in mem if n.startswith("signatures/attestations/")):
            s.add("statement_stream", f"{label}-{att.rsplit('/', 1)[1][:12]}", b"\x30" + json_payload(mem[att]))
        if B.STOCK in mem:
            s.add("stock", label, mem[B.STOCK])
    ct("export", "signed.ctp", "single.ctp", "-o", "airgap.tar", "--include-keys", "--policy", "policy.json",
       "--allow-unverified")
    s.add("airgap_tar", "export", read("airgap.tar"))
    s.add("airgap_index", "export", members_of("airgap.tar")["index.json"])

    from hostile import archives

    for case in archives.build(os.path.join(work, "hostile"), os.path.join(work, "airgap.tar")):
        if os.path.getsize(case.path) <= 1 << 20:
            s.add("airgap_tar", f"hostile-{case.name}", read(case.path))


def main_() -> None:
    s = Seeds()
    from_vectors(s)
    work = tempfile.mkdtemp(prefix="ct-seeds-")
    cwd = os.getcwd()
    try:
        from_ct(s, work)
    finally:
        os.chdir(cwd)
        shutil.rmtree(work, ignore_errors=True)
    s.write()


if __name__ == "__main__":
    main_()
