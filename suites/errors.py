"""The few, flat exceptions of Cerro Torre.

Every error a user can see is a :class:`CTError`: one lowercase line of
message, zero or more ``hint:`` lines, and the documented exit code
(``spec/exit-codes.md``).  The CLI prints ``error: <message>`` and each hint
as ``hint: <hint>`` on stderr, and exits with ``exit_code``.
"""

from __future__ import annotations


class CTError(Exception):
    """Base of every user-visible error."""

    exit_code = 70

    def __init__(self, message: str, *hints: str) -> None:
        super().__init__(message)
        self.message = message
        self.hints = tuple(h for h in hints if h)

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class HashMismatch(CTError):
    """A digest did not match (exit 1)."""

    exit_code = 1


class SignatureInvalid(CTError):
    """A signature did not verify, or too few did (exit 2)."""

    exit_code = 2


class KeyNotTrusted(CTError):
    """The signing key is not in the trust the verifier pinned (exit 3)."""

    exit_code = 3


class PolicyRejected(CTError):
    """The policy forbids what was presented (exit 4)."""

    exit_code = 4


class Malformed(CTError):
    """Input that cannot be parsed or breaks its format (exit 10)."""

    exit_code = 10


class CeremonyError(CTError):
    """A ceremony message out of place: replay, wrong ceremony, wrong sender, nonce reuse (exit 11)."""

    exit_code = 11


class WrongPassphrase(CTError):
    """A sealed key file did not open with the passphrase given, none was given, or a new one is too
    weak (exit 20)."""

    exit_code = 20


class NotFound(CTError):
    """A named key, file or record does not exist (exit 21)."""

    exit_code = 21


class AlreadyExists(CTError):
    """Refusing to overwrite something that exists (exit 22)."""

    exit_code = 22


class Unavailable(CTError):
    """A backend or external tool is not installed (exit 30)."""

    exit_code = 30


class UsageError(CTError):
    """The command line is wrong (exit 64)."""

    exit_code = 64


class SelfTestFailed(CTError):
    """A known-answer self-test failed (exit 70)."""

    exit_code = 70


# The table of spec/exit-codes.md: code -> what it means.  `ct help exit-codes` and the TUI print it.
EXIT_CODES: dict[int, str] = {
    0: "success; for verify: the bundle is valid",
    1: "hash mismatch: a file's digest differs from the signed one",
    2: "signature invalid, or fewer valid signatures than the threshold",
    3: "key not trusted: the signer is not in the pinned trust",
    4: "policy rejection: the policy forbids the suite, signer, registry or epoch",
    10: "malformed input: bundle, message, key file, tarball or JSON cannot be parsed",
    11: "ceremony error: replayed, misdirected or out-of-order message, nonce reuse",
    20: "passphrase: wrong for a sealed key file, none given (at the prompt, or an empty `--passphrase-file` or "
        "`CT_PASSPHRASE`), or too weak for a new key",
    21: "not found: a key id, file or record does not exist",
    22: "already exists: refusing to overwrite",
    30: "unavailable: a backend or external tool is not installed",
    64: "usage: the command line is wrong",
    70: "self-test failed, or internal error (run with -v and report it)",
    74: "i/o error: a file or folder could not be written or read (disk full, permission refused, read-only or "
        "failing media); the error names the file, or the folder of the temp file ct was writing",
    130: "interrupted",
    141: "closed pipe: the program reading the output stopped (as for a process killed by SIGPIPE)",
}
