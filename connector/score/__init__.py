"""Scoring: one jointly owned model (`mappings/scoring.toml`) applied to every unified person."""
