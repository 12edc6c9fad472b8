"""ops_monitor: the ops monitoring service (ingest, analyse, file issues, scan API, broadcast)."""
