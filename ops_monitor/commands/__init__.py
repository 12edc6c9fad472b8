"""The `ops-monitor` subcommands, one module each."""
