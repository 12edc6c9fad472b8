"""checks: a fast, precise repository audit engine (parse, apply rules, report findings)."""

# Read from the file the build writes from the git tag (hatch-vcs) rather than from package
# metadata: importing importlib.metadata costs more than a whole warm audit of a small
# repository. It also keys the analysis cache.
try:
    from checks._version import __version__ as __version__
except ImportError:  # a source tree that was never built or installed
    __version__ = "0.0.0.dev0"
