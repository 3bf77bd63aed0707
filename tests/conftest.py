"""Shared fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def private_default_home(tmp_path_factory):
    """The default home ($XDG_DATA_HOME/cerro-torre) of this test session is a fresh folder, so a
    command run without --home never reads or writes the machine's real one (other runs write it)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
        yield


@pytest.fixture(scope="session")
def registry_server():
    """A real OCI registry (docker-registry) on 127.0.0.1 for the whole session."""
    from registry_support import RegistryServer

    server = RegistryServer()
    yield server
    server.stop()
