"""Analysis: turn raw log messages into templates, fingerprints and issue candidates."""
