"""Generators of hostile airgap tarballs (built in a temporary folder at test time)."""
