"""The on-call web console served at `/` by `ops-monitor serve`: issues, issue detail, scans
(live), cron, log search (with live tail) and alert deliveries. Server-rendered with Jinja2;
the small script in `static/` only adds live updates, every page reads without it."""
