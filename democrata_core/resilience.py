"""A circuit breaker: after repeated failures of a dependency, fail fast for a cool-down.

During an outage of Weaviate or an embedding API, requests would otherwise each wait out their
timeouts, pile up and take the API down with the dependency. Thread-safe; one per dependency.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class CircuitOpen(RuntimeError):
    """Raised instead of calling a dependency that is known to be failing."""

    def __init__(self, name: str, retry_after_s: float) -> None:
        super().__init__(f"{name} is failing; not calling it for another {retry_after_s:.0f} s")
        self.name = name
        self.retry_after_s = retry_after_s


class CircuitBreaker:
    """closed → (failure_threshold consecutive failures) → open → (reset_after_s) → half-open:
    one trial call; success closes, failure re-opens."""

    def __init__(
        self,
        name: str,
        failure_threshold: int = 5,
        reset_after_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_after_s = reset_after_s
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._trial_running = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if self.clock() - self.opened_at >= self.reset_after_s else "open"

    def call(self, fn: Callable[[], T]) -> T:
        with self._lock:
            state = self._state()
            if state == "open" or (state == "half_open" and self._trial_running):
                remaining = self.reset_after_s - (self.clock() - (self.opened_at or 0.0))
                raise CircuitOpen(self.name, max(remaining, 0.0))
            self._trial_running = state == "half_open"
        try:
            result = fn()
        except Exception:
            with self._lock:
                self.failures += 1
                self._trial_running = False
                if state == "half_open" or self.failures >= self.failure_threshold:
                    self.opened_at = self.clock()
            raise
        with self._lock:
            self.failures = 0
            self.opened_at = None
            self._trial_running = False
        return result
