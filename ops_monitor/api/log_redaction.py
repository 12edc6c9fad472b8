"""Keep credentials out of the server's log.

uvicorn's access line carries the request's query string, and a WebSocket client may still pass
the token as `?token=` (or a ticket as `?ticket=`): the filter here rewrites the value to
`<redacted>` in every record of the loggers it is attached to, before any handler formats it.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

REDACTED = "<redacted>"
SECRET_PARAMETERS = ("token", "ticket", "access_token")
_SECRET_IN_QUERY = re.compile(
    r"([?&;](?:" + "|".join(SECRET_PARAMETERS) + r")=)[^&;\s\"']*", re.IGNORECASE
)
_FILTER_NAME = "ops-monitor-redact-secrets"


def redact(text: str) -> str:
    """`text` with the value of every secret query parameter replaced by `<redacted>`."""
    return _SECRET_IN_QUERY.sub(r"\1" + REDACTED, text)


class RedactSecrets(logging.Filter):
    """Redacts secret query parameters in a record's message and its arguments (uvicorn passes
    the path as an argument of `'%s - "%s %s HTTP/%s" %d'`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def with_redaction(log_config: dict[str, Any]) -> dict[str, Any]:
    """A copy of a `logging.config.dictConfig` configuration whose every logger redacts."""
    config = copy.deepcopy(log_config)
    config.setdefault("filters", {})[_FILTER_NAME] = {"()": RedactSecrets}
    for logger in config.get("loggers", {}).values():
        logger["filters"] = [*logger.get("filters", []), _FILTER_NAME]
    return config
