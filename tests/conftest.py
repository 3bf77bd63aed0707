"""Every test gets its own default home: ``ct`` without ``--home`` resolves to $XDG_DATA_HOME/cerro-torre,
and a verifier's home records the epochs it verified (HOME/governance), so tests must not share one."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_default_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
