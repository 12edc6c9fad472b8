"""checks: a fast, precise repository audit engine (parse, apply rules, report findings)."""

# Kept here rather than read from package metadata: importing importlib.metadata costs more than
# a whole warm audit of a small repository. It also keys the analysis cache.
__version__ = "0.1.0"
