"""The loop that evaluates every monitor at least every 30 seconds, on its own thread.

So a missed run is known within its margin plus a minute. A failing evaluation (the database is
down) is one JSON log line and the loop goes on; the next evaluation that works catches up, and
what it could not observe meanwhile is `unknown`, never `missed`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from ops_monitor.monitors.service import CronMonitors
from ops_monitor.store.database import driver_reason

EVALUATE_EVERY_SECONDS = 30.0
_STOP_TIMEOUT_SECONDS = 30.0

log = logging.getLogger("ops_monitor.monitors")


class Evaluator:
    """`run()` evaluates, waits, and again until `stop()`. `prepare` (declaring the configured
    monitors) runs first and is retried before each evaluation until it has worked once."""

    def __init__(
        self,
        monitors: CronMonitors,
        *,
        every: float = EVALUATE_EVERY_SECONDS,
        prepare: Callable[[], None] | None = None,
        after_run: Callable[[], None] | None = None,
    ) -> None:
        self.monitors = monitors
        self.every = every
        self._prepare = prepare
        self._after_run = after_run
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run_once(self) -> None:
        try:
            if self._prepare is not None:
                self._prepare()
                self._prepare = None
            self.monitors.evaluate()
        except Exception as error:  # never let one evaluation end the loop
            reason = driver_reason(error)
            log.error(
                json.dumps(
                    {
                        "event": "monitor_evaluation_failed",
                        "error": f"{type(error).__name__}: {reason}",
                    }
                )
            )
        finally:
            if self._after_run is not None:
                self._after_run()

    def run(self) -> None:
        """Evaluations start `every` seconds apart (sooner when one overran), never later."""
        while not self._stopping.is_set():
            started = time.monotonic()
            self.run_once()
            self._stopping.wait(max(0.0, self.every - (time.monotonic() - started)))


class EvaluatorThread:
    def __init__(self, evaluator: Evaluator) -> None:
        self.evaluator = evaluator
        self.thread = threading.Thread(target=evaluator.run, name="ops-monitor-cron-monitors")
        self.thread.daemon = True

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = _STOP_TIMEOUT_SECONDS) -> None:
        self.evaluator.stop()
        self.thread.join(timeout)
