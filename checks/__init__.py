"""checks: a fast, precise repository audit engine (parse, apply rules, report findings)."""
