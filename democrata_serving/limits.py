"""Caches, rate limits, coalescing and load shedding for the query path (Redis-backed).

Each is keyed by tenant so one noisy client cannot empty another's budget or read its cache.
All of them degrade to 'allow / miss' if Redis is unreachable: the API keeps answering.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import Counter

log = logging.getLogger(__name__)

CACHE_EVENTS = Counter("democrata_query_cache_total", "Query cache lookups", ["result"])
COALESCED = Counter("democrata_coalesced_total", "Requests answered by an identical in-flight request")
RATE_LIMITED = Counter("democrata_rate_limited_total", "Requests refused by the per-tenant rate limit")
SHED = Counter("democrata_shed_total", "Requests refused because too many were in flight")

# Sliding-window-free token bucket in one round trip: atomic under concurrency across replicas.
_TOKEN_BUCKET = """
local key, rate, burst, now = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - ts) * rate)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('EXPIRE', key, math.ceil(burst / rate) + 1)
return {allowed, tostring(tokens)}
"""


def cache_key(tenant: str, kind: str, payload: dict) -> str:
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f"q:{tenant}:{kind}:{digest}"


class QueryCache:
    def __init__(self, redis_client, ttl_s: int) -> None:
        self.redis = redis_client
        self.ttl_s = ttl_s

    def get(self, key: str) -> Any | None:
        if self.redis is None:
            return None
        try:
            raw = self.redis.get(key)
        except Exception as exc:  # noqa: BLE001 - the cache is optional by design
            log.warning("query cache unavailable: %s", exc)
            return None
        CACHE_EVENTS.labels("hit" if raw else "miss").inc()
        return json.loads(raw) if raw else None

    def set(self, key: str, value: Any) -> None:
        if self.redis is None:
            return
        try:
            self.redis.set(key, json.dumps(value, default=str), ex=self.ttl_s)
        except Exception as exc:  # noqa: BLE001
            log.warning("query cache unavailable: %s", exc)


class RateLimiter:
    """Token bucket per tenant: `rate` requests per second sustained, bursts up to `burst`."""

    def __init__(self, redis_client, rate: float, burst: int) -> None:
        self.redis = redis_client
        self.rate = rate
        self.burst = burst
        self._script = redis_client.register_script(_TOKEN_BUCKET) if redis_client is not None else None

    def allow(self, tenant: str) -> bool:
        if self._script is None:
            return True
        try:
            allowed, _ = self._script(keys=[f"rl:{tenant}"], args=[self.rate, self.burst, time.time()])
        except Exception as exc:  # noqa: BLE001
            log.warning("rate limiter unavailable, allowing: %s", exc)
            return True
        if not allowed:
            RATE_LIMITED.inc()
        return bool(allowed)


class Coalescer:
    """Identical concurrent requests share one computation (singleflight) within a process.

    The computation runs as its own task, so a client that disconnects (cancelling its request)
    does not cancel the work the other waiters are sharing.
    """

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Task] = {}

    async def run(self, key: str, compute: Callable[[], Awaitable[Any]]) -> Any:
        task = self._inflight.get(key)
        if task is not None:
            COALESCED.inc()
        else:
            task = asyncio.ensure_future(compute())
            self._inflight[key] = task
            task.add_done_callback(lambda done, key=key: self._forget(key, done))
        return await asyncio.shield(task)

    def _forget(self, key: str, task: asyncio.Task) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved: every waiter re-raises it, nobody logs it as unhandled


class LoadShedder:
    """Bounded in-flight work: past `max_in_flight` a request gets 503 at once instead of queueing."""

    def __init__(self, max_in_flight: int) -> None:
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    def try_acquire(self) -> bool:
        if self.in_flight >= self.max_in_flight:
            SHED.inc()
            return False
        self.in_flight += 1
        return True

    def release(self) -> None:
        self.in_flight -= 1
