"""The parts of the scan scheduler: schedules, tick locks, metrics and cron health.

`ops_monitor/scheduler.py` composes them into the loop that `ops-monitor serve` and
`ops-monitor scheduler` run.
"""
