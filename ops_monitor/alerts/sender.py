"""One webhook delivery: POST the body, retry what may succeed later, with backoff and jitter.

Retried: connection failures, timeouts, 429 and 5xx answers. Not retried: any other answer (a
4xx will not change by asking again). Redirects are not followed, so only the configured URL is
ever called. Waits use full jitter (a random wait up to the exponential bound), so several
monitors retrying one receiver do not knock in step.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

USER_AGENT = "ops-monitor-alerts/1"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_seconds: float = 0.5
    cap_seconds: float = 8.0
    timeout_seconds: float = 5.0

    def wait_before(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before attempt number `attempt` (2, 3, ...)."""
        bound = min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 2))
        return rng.uniform(0, bound)


@dataclass(frozen=True)
class Outcome:
    status: str  # delivered or failed
    attempts: int
    response_status: int | None
    error: str | None


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def send(
    client: httpx.Client,
    url: str,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    policy: RetryPolicy,
    rng: random.Random,
    wait: Callable[[float], bool],
) -> Outcome:
    """Deliver `body`; `wait(seconds)` sleeps and returns False to give up (shutting down)."""
    response_status: int | None = None
    error: str | None = None
    for attempt in range(1, policy.attempts + 1):
        if attempt > 1 and not wait(policy.wait_before(attempt, rng)):
            return Outcome("failed", attempt - 1, response_status, "stopped before retrying")
        try:
            response = client.post(
                url,
                json=dict(body),
                headers={"user-agent": USER_AGENT, **headers},
                timeout=policy.timeout_seconds,
                follow_redirects=False,
            )
        except httpx.HTTPError as failure:
            response_status, error = None, f"{type(failure).__name__}: {failure}"[:300]
            continue
        response_status = response.status_code
        if 200 <= response.status_code < 300:
            return Outcome("delivered", attempt, response_status, None)
        error = f"answered {response.status_code}"
        if not _retryable(response.status_code):
            return Outcome("failed", attempt, response_status, error)
    return Outcome("failed", policy.attempts, response_status, error)
