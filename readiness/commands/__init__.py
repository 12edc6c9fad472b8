"""The `readiness` subcommands, one module each; `readiness.cli` assembles them."""
