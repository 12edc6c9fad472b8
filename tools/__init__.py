"""Tooling for this repository's own gates (not shipped in the wheel)."""
