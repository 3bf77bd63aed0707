"""Keyholder-set records, lineage and chain walking, and the verifier's policy."""
