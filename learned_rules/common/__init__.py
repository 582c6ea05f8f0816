"""Pieces every system (rules, TVAE) shares: errors, registries, writers, checkpoints."""
