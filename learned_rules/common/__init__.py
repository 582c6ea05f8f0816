"""Pieces shared by every system (remember rules, TVAE): errors, registries, writers, checkpoints."""
