"""Browser sessions: `GET /login` takes the token once and answers with a signed cookie.

The cookie holds a session id and an expiry, signed with HMAC-SHA256 under a key derived from the
monitor's token (so rotating the token ends every session, and replicas sharing a token accept
each other's cookies); without a token the key is random per process. It is HttpOnly,
SameSite=Strict, and Secure when the request came over TLS. State-changing forms carry a CSRF
token: an HMAC of the session id under the same key, checked on every POST. The API itself keeps
bearer tokens: a cookie is honoured only by the console, its WebSocket, and `/docs`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.responses import Response

COOKIE = "ops_session"
LOGIN_COOKIE = "ops_login"
LIFETIME_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Session:
    sid: str
    expires: int
    fresh: bool = False  # made for this request (no login needed): set its cookie


class SessionKeys:
    """Signs and checks session cookies and CSRF tokens."""

    def __init__(self, token: str | None, *, lifetime: int = LIFETIME_SECONDS) -> None:
        secret = token.encode() if token else secrets.token_bytes(32)
        self._key = hashlib.sha256(b"ops-monitor session\x00" + secret).digest()
        self.lifetime = lifetime
        self.login_required = bool(token)
        self._token = token

    def _sign(self, data: bytes) -> str:
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def token_ok(self, presented: str) -> bool:
        if not self._token:
            return True
        return secrets.compare_digest(presented.encode(), self._token.encode())

    def new_session(self, *, fresh: bool = False) -> Session:
        return Session(secrets.token_urlsafe(18), int(time.time()) + self.lifetime, fresh)

    def cookie_value(self, session: Session) -> str:
        raw = json.dumps({"sid": session.sid, "exp": session.expires}).encode()
        payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")  # no quoting in the cookie
        return f"{payload}.{self._sign(payload.encode())}"

    def read(self, value: str | None) -> Session | None:
        """The session a cookie holds, or None when it is missing, forged or expired."""
        if not value or "." not in value:
            return None
        payload, _, signature = value.rpartition(".")
        if not hmac.compare_digest(signature, self._sign(payload.encode())):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            session = Session(str(data["sid"]), int(data["exp"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > time.time() else None

    def csrf(self, session: Session) -> str:
        return self._sign(b"csrf\x00" + session.sid.encode())

    def csrf_ok(self, session: Session, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented, self.csrf(session))

    def login_nonce_token(self, nonce: str) -> str:
        return self._sign(b"login\x00" + nonce.encode())


def keys_of(connection: HTTPConnection) -> SessionKeys:
    keys = getattr(connection.app.state, "session_keys", None)
    if not isinstance(keys, SessionKeys):
        keys = SessionKeys(connection.app.state.token)
        connection.app.state.session_keys = keys
    return keys


def current_session(connection: HTTPConnection) -> Session | None:
    return keys_of(connection).read(connection.cookies.get(COOKIE))


def set_cookie(
    response: Response, connection: HTTPConnection, name: str, value: str, age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=connection.url.scheme in ("https", "wss"),
    )


def start_session(response: Response, connection: HTTPConnection, session: Session) -> None:
    keys = keys_of(connection)
    set_cookie(response, connection, COOKIE, keys.cookie_value(session), keys.lifetime)


def end_session(response: Response, connection: HTTPConnection) -> None:
    response.delete_cookie(
        COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=connection.url.scheme in ("https", "wss"),
    )
