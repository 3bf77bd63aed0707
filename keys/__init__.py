"""A holder's keys: identity keys, sealed key files, the home's key store, FROST share storage."""
