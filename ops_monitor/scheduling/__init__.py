"""The parts of the scan scheduler: schedules, tick locks, metrics and cron health.

`scheduling/scheduler.py` composes them into the loop that `ops-monitor serve` and
`ops-monitor scheduler` run.
"""
