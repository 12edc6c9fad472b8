"""Short-lived, single-use tickets that let a browser open the broadcast WebSocket without the
token in its URL (a URL ends up in logs, proxies and history; a spent ticket is worth nothing).

A ticket is `<expiry>.<nonce>.<signature>`, signed with the token (HMAC-SHA256): any replica
sharing the token can check it without shared state. Each process remembers the nonces it has
redeemed until they expire, so a ticket opens one connection.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable

TICKET_SECONDS = 30


class TicketBook:
    """Issues and redeems tickets for one token."""

    def __init__(
        self,
        token: str | None,
        *,
        lifetime: float = TICKET_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = (token or "").encode()
        self.lifetime = lifetime
        self._clock = clock
        self._spent: dict[str, float] = {}  # nonce -> expiry
        self._lock = threading.Lock()

    def issue(self) -> str:
        expiry = int(self._clock() + self.lifetime)
        payload = f"{expiry}.{secrets.token_hex(16)}"
        return f"{payload}.{self._sign(payload)}"

    def redeem(self, ticket: str) -> bool:
        """Whether `ticket` is genuine, unexpired and not used before; using it spends it."""
        expiry_text, _, rest = ticket.partition(".")
        nonce, _, signature = rest.partition(".")
        if not (expiry_text.isdigit() and nonce and signature):
            return False
        payload = f"{expiry_text}.{nonce}"
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return False
        now = self._clock()
        expiry = int(expiry_text)
        if expiry <= now:
            return False
        with self._lock:
            for old in [n for n, until in self._spent.items() if until <= now]:
                del self._spent[old]
            if nonce in self._spent:
                return False
            self._spent[nonce] = expiry
        return True

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()
