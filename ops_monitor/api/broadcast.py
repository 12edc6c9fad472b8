"""`WS /api/ops/broadcast`: each completed scan, pushed to every subscriber as JSON.

Message: `{"type": "scan_completed", "scan": <ScanResult>}`. A browser first asks
`POST /api/ops/broadcast/ticket` (with the bearer token) for a ticket, then connects to
`/api/ops/broadcast?ticket=<ticket>`, so the token never appears in a URL.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, WebSocket
from pydantic import BaseModel

from ops_monitor.api.auth import require_websocket_token
from ops_monitor.api.broadcast_hub import Broadcaster
from ops_monitor.api.deps import get_broadcaster
from ops_monitor.api.errors import error_responses
from ops_monitor.api.tickets import TicketBook

router = APIRouter()


class Ticket(BaseModel):
    ticket: str
    expires_in: int


@router.post(
    "/api/ops/broadcast/ticket",
    response_model=Ticket,
    responses=error_responses(401),
    tags=["broadcast"],
)
def broadcast_ticket(request: Request) -> Ticket:
    """A single-use ticket for `WS /api/ops/broadcast?ticket=...`, valid for a few seconds."""
    tickets: TicketBook = request.app.state.tickets
    return Ticket(ticket=tickets.issue(), expires_in=int(tickets.lifetime))


@router.websocket("/api/ops/broadcast", dependencies=[Depends(require_websocket_token)])
async def broadcast(
    websocket: WebSocket, broadcaster: Annotated[Broadcaster, Depends(get_broadcaster)]
) -> None:
    await broadcaster.serve(websocket)
