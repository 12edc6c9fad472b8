"""Triage specialist: groups open ops issues by owner and answers /triage."""

import json

from workers import Response, WorkerEntrypoint

OWNERS = {"stability": "platform", "performance": "runtime"}
# Before the monitor binding this worker read "DB_OPS" itself; see TRIAGE.md.


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        issues = await self.env.ORCHESTRATOR_OPS_MONITOR.getOpenIssues(50)
        grouped = {}
        for issue in issues.to_py():
            owner = OWNERS.get(issue["category"], "unassigned")
            grouped.setdefault(owner, []).append(issue["title"])
        return Response(json.dumps(grouped), headers={"content-type": "application/json"})

    async def stale_scans(self):
        statement = self.env.DB_OPS.prepare(
            "SELECT id FROM ops_scans WHERE status = 'running' AND started_at < datetime('now', '-1 hour')"
        )
        rows = await statement.all()
        return [row.id for row in rows.results.to_py()]
