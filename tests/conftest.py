"""Shared fixtures.

Every test module, and every test, gets its own default home: ``ct`` without ``--home`` resolves to
$XDG_DATA_HOME/cerro-torre, and a verifier's home records the epochs it verified (HOME/governance), so no
two of them may share one (nor the real one).  The module-scoped fixture covers module-scoped fixtures
(autouse fixtures of a scope are set up before the others of that scope)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", autouse=True)
def _module_default_home(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-module")))
        yield


@pytest.fixture(autouse=True)
def _own_default_home(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))


@pytest.fixture(scope="session")
def registry_server():
    """A real OCI registry (docker-registry) on 127.0.0.1 for the whole session."""
    from registry_support import RegistryServer

    server = RegistryServer()
    yield server
    server.stop()
