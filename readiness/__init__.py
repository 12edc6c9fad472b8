"""readiness: plans as code, gates with evidence, reports and runbooks."""
