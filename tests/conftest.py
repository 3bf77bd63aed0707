"""Shared fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def registry_server():
    """A real OCI registry (docker-registry) on 127.0.0.1 for the whole session."""
    from registry_support import RegistryServer

    server = RegistryServer()
    yield server
    server.stop()
