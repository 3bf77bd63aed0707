"""Cerro Torre: threshold-signed software releases, airgap-first."""

__version__ = "0.1.0"
