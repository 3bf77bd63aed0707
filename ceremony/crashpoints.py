"""Named crash points, for the tests that kill a keyholder mid-round.

``hit(name)`` does nothing unless both ``CT_TESTING=1`` and
``CT_CRASH_AT=<name>`` are set, in which case the process dies at once with
``os._exit(137)`` (as if killed by SIGKILL: no cleanup, no buffers flushed).
"""

from __future__ import annotations

import os

POINTS = ("nonce-opened", "nonce-marked", "nonce-deleted", "share-computed", "reply-written")


def hit(name: str) -> None:
    if os.environ.get("CT_TESTING") == "1" and os.environ.get("CT_CRASH_AT") == name:
        os._exit(137)
