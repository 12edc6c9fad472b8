"""Runbooks rendered from the configuration the monitor actually runs with.

A runbook copied by hand drifts from the service the day someone changes a cron expression. So the
facts (schedules, routes, metric names) come from `ops-monitor config --json` (`facts`), cron
expressions are expanded over a fixed window (`schedule`), and rendering is a pure function of
those facts with no timestamps (`render`), so `readiness runbooks --check` can compare the
committed files byte for byte and show a unified diff when one is stale (`files`).
"""
