"""`WS /api/ops/broadcast`: each completed scan, pushed to every subscriber as JSON.

Message: `{"type": "scan_completed", "scan": <ScanResult>}`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, WebSocket

from ops_monitor.api.auth import require_websocket_token
from ops_monitor.api.broadcast_hub import Broadcaster
from ops_monitor.api.deps import get_broadcaster

router = APIRouter()


@router.websocket("/api/ops/broadcast", dependencies=[Depends(require_websocket_token)])
async def broadcast(
    websocket: WebSocket, broadcaster: Annotated[Broadcaster, Depends(get_broadcaster)]
) -> None:
    await broadcaster.serve(websocket)
