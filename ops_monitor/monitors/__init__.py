"""Cron monitors for the monitored system's own jobs.

The jobs check in (Sentry-style `in_progress`/`ok`/`error`, or healthchecks-style pings with a
per-monitor key); the scheduler evaluates every monitor at least every 30 seconds; failures
become issues through the same filing as log issues. `machine.py` holds every rule as a pure
function of a monitor, its open runs and a moment; the rest is input, storage and output.
"""
