"""The query path's guards against the real Redis: rate limits, cache, coalescing, load shedding.

Each test uses tenants and keys of its own (a uuid) and deletes them afterwards. The app-level tests
swap in tighter limiters/shedders on `app.state.services`: that is configuration of the app under
test, not a patched client: the Redis, Weaviate and embedder behind it are the real ones.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from prometheus_client import REGISTRY

from democrata_serving.limits import Coalescer, LoadShedder, QueryCache, RateLimiter, cache_key


def _sample(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


@pytest.fixture(scope="module")
def redis_client(services_env):
    import redis

    client = redis.Redis.from_url(os.environ["DEMOCRATA_REDIS_URL"], socket_timeout=5)
    assert client.ping()
    yield client
    client.close()


@pytest.fixture
def new_tenant(redis_client):
    """Makes tenant names unique to this test; deletes every key they left behind."""
    made: list[str] = []

    def make() -> str:
        made.append(f"test-limits-{uuid.uuid4().hex[:12]}")
        return made[-1]

    yield make
    for tenant in made:
        keys = list(redis_client.scan_iter(match=f"*{tenant}*", count=1000))
        if keys:
            redis_client.delete(*keys)


@pytest.fixture
def dead_redis_url() -> str:
    """A Redis URL on a port nothing listens on: every command fails to connect."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def unreachable_redis(dead_redis_url):
    """Built the way the app builds its client (`from_url`), so its retry policy is the app's."""
    import redis

    client = redis.Redis.from_url(dead_redis_url, socket_timeout=0.2, socket_connect_timeout=0.2)
    yield client
    client.close()


# -- rate limiter --


def test_rate_limiter_allows_the_burst_then_refuses_and_counts_refusals(redis_client, new_tenant):
    noisy, quiet = new_tenant(), new_tenant()
    limiter = RateLimiter(redis_client, rate=0.001, burst=3)
    refused_before = _sample("democrata_rate_limited_total")

    assert [limiter.allow(noisy) for _ in range(6)] == [True, True, True, False, False, False]
    assert _sample("democrata_rate_limited_total") - refused_before == 3

    # Another tenant has a bucket of its own, untouched by the first one's refusals.
    assert [limiter.allow(quiet) for _ in range(4)] == [True, True, True, False]
    assert _sample("democrata_rate_limited_total") - refused_before == 4
    # The bucket expires on its own: an idle tenant leaves nothing behind in Redis forever.
    assert 0 < redis_client.ttl(f"rl:{noisy}") <= int(3 / 0.001) + 1


def test_rate_limiter_refills_at_its_rate(redis_client, new_tenant):
    tenant = new_tenant()
    limiter = RateLimiter(redis_client, rate=0.001, burst=3)
    assert [limiter.allow(tenant) for _ in range(4)] == [True, True, True, False]

    # Pretend the last refill was 2000 s ago: at 0.001/s that is two tokens, no more.
    redis_client.hincrbyfloat(f"rl:{tenant}", "ts", -2000)
    assert [limiter.allow(tenant) for _ in range(3)] == [True, True, False]

    # A very long idle spell refills to the burst, never beyond it.
    redis_client.hincrbyfloat(f"rl:{tenant}", "ts", -1_000_000)
    assert [limiter.allow(tenant) for _ in range(4)] == [True, True, True, False]


def test_rate_limiter_is_atomic_under_concurrent_callers(redis_client, new_tenant):
    tenant = new_tenant()
    limiter = RateLimiter(redis_client, rate=0.001, burst=5)
    start = Barrier(20)

    def call(_: int) -> bool:
        start.wait()
        return limiter.allow(tenant)

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(call, range(20)))
    assert results.count(True) == 5


def test_rate_limiter_without_redis_or_with_redis_down_allows(unreachable_redis, new_tenant):
    tenant = new_tenant()
    assert all(RateLimiter(None, rate=0.001, burst=1).allow(tenant) for _ in range(50))
    down = RateLimiter(unreachable_redis, rate=0.001, burst=1)
    assert [down.allow(tenant) for _ in range(3)] == [True, True, True]


# -- query cache --


def test_cache_key_is_namespaced_by_tenant_and_independent_of_key_order():
    payload = {"q": "fishing quotas", "limit": 10, "house": "commons"}
    reordered = {"house": "commons", "limit": 10, "q": "fishing quotas"}

    assert cache_key("alpha", "search", payload) == cache_key("alpha", "search", reordered)
    assert cache_key("alpha", "search", payload) != cache_key("beta", "search", payload)
    assert cache_key("alpha", "search", payload) != cache_key("alpha", "ask", payload)
    assert cache_key("alpha", "search", payload) != cache_key("alpha", "search", {**payload, "limit": 5})
    assert cache_key("alpha", "search", payload).startswith("q:alpha:search:")


def test_query_cache_round_trips_json_per_tenant_with_a_ttl(redis_client, new_tenant):
    import datetime as dt

    mine, theirs = new_tenant(), new_tenant()
    cache = QueryCache(redis_client, ttl_s=120)
    payload = {"q": "harbour funding", "limit": 3, "date_from": dt.date(2024, 3, 1)}
    value = {"query": "harbour funding", "count": 2, "hits": [{"rank": 1, "score": 0.5}, {"rank": 2}]}
    key = cache_key(mine, "search", payload)
    misses_before = _sample("democrata_query_cache_total", {"result": "miss"})
    hits_before = _sample("democrata_query_cache_total", {"result": "hit"})

    assert cache.get(key) is None
    cache.set(key, value)

    assert cache.get(key) == value
    assert 0 < redis_client.ttl(key) <= 120
    assert cache.get(cache_key(theirs, "search", payload)) is None  # same question, other tenant
    assert _sample("democrata_query_cache_total", {"result": "hit"}) - hits_before == 1
    assert _sample("democrata_query_cache_total", {"result": "miss"}) - misses_before == 2


def test_query_cache_with_redis_down_misses_without_raising(unreachable_redis, new_tenant):
    cache = QueryCache(unreachable_redis, ttl_s=60)
    key = cache_key(new_tenant(), "search", {"q": "x"})

    cache.set(key, {"count": 1})
    assert cache.get(key) is None
    assert QueryCache(None, ttl_s=60).get(key) is None


# -- coalescer --


async def _until(condition, steps: int = 1000) -> None:
    """Yield to the event loop until `condition()` holds (bounded by steps, not by time)."""
    for _ in range(steps):
        if condition():
            return
        await asyncio.sleep(0)


def test_identical_concurrent_requests_share_one_computation():
    async def main():
        coalescer = Coalescer()
        release = asyncio.Event()
        calls = 0

        async def compute():
            nonlocal calls
            calls += 1
            await release.wait()
            return {"answer": calls}

        joined_before = _sample("democrata_coalesced_total")
        tasks = [asyncio.create_task(coalescer.run("same", compute)) for _ in range(10)]
        # Whether the shared computation starts in this tick or the next is the event loop's business.
        await _until(lambda: _sample("democrata_coalesced_total") - joined_before >= 9 and calls == 1)
        assert _sample("democrata_coalesced_total") - joined_before == 9
        assert calls == 1 and not any(t.done() for t in tasks)
        release.set()
        results = await asyncio.gather(*tasks)
        assert calls == 1
        assert results == [{"answer": 1}] * 10
        assert all(r is results[0] for r in results)

        # Once done, the key is free: a later identical request computes afresh.
        assert await coalescer.run("same", compute) == {"answer": 2}

    asyncio.run(main())


def test_a_failure_reaches_every_waiter_and_is_not_remembered():
    class Boom(RuntimeError):
        pass

    async def main():
        coalescer = Coalescer()
        release = asyncio.Event()
        calls = 0

        async def failing():
            nonlocal calls
            calls += 1
            await release.wait()
            raise Boom("weaviate down")

        tasks = [asyncio.create_task(coalescer.run("k", failing)) for _ in range(10)]
        await asyncio.sleep(0)
        release.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert calls == 1
        assert all(isinstance(r, Boom) for r in results), results

        async def ok():
            return "recovered"

        assert await coalescer.run("k", ok) == "recovered"

    asyncio.run(main())


def test_different_keys_compute_separately_and_a_cancelled_waiter_does_not_cancel_the_rest():
    async def main():
        coalescer = Coalescer()
        release = asyncio.Event()
        calls: list[str] = []

        def compute_for(key: str):
            async def compute():
                calls.append(key)
                await release.wait()
                return f"result-{key}"

            return compute

        a = [asyncio.create_task(coalescer.run("a", compute_for("a"))) for _ in range(3)]
        b = [asyncio.create_task(coalescer.run("b", compute_for("b"))) for _ in range(3)]
        await asyncio.sleep(0)
        a[1].cancel()  # a client hanging up must not take the shared computation with it
        await asyncio.sleep(0)
        release.set()
        results = await asyncio.gather(*a, *b, return_exceptions=True)

        assert sorted(calls) == ["a", "b"]
        assert isinstance(results[1], asyncio.CancelledError)
        assert [results[0], results[2]] == ["result-a", "result-a"]
        assert results[3:] == ["result-b"] * 3

    asyncio.run(main())


def test_cancelling_the_request_that_started_the_work_spares_the_other_waiters():
    async def main():
        coalescer = Coalescer()
        release = asyncio.Event()
        calls = 0

        async def compute():
            nonlocal calls
            calls += 1
            await release.wait()
            return "shared"

        leader = asyncio.create_task(coalescer.run("k", compute))
        await asyncio.sleep(0)
        followers = [asyncio.create_task(coalescer.run("k", compute)) for _ in range(3)]
        await asyncio.sleep(0)
        leader.cancel()
        await asyncio.sleep(0)
        release.set()
        results = await asyncio.gather(leader, *followers, return_exceptions=True)
        assert isinstance(results[0], asyncio.CancelledError)
        assert results[1:] == ["shared"] * 3 and calls == 1

    asyncio.run(main())


# -- load shedder --


def test_load_shedder_refuses_past_max_in_flight_until_a_slot_is_released():
    shedder = LoadShedder(max_in_flight=2)
    shed_before = _sample("democrata_shed_total")

    assert [shedder.try_acquire(), shedder.try_acquire(), shedder.try_acquire()] == [True, True, False]
    assert _sample("democrata_shed_total") - shed_before == 1
    shedder.release()
    assert shedder.try_acquire() is True
    assert shedder.try_acquire() is False


# -- through the app --


@pytest.fixture
def app_and_client(settings, chunk_index):
    from fastapi.testclient import TestClient

    from democrata_serving.app import create_app

    chunk_index.ensure_collection()  # a no-op if the session already made it
    app = create_app(settings)
    with TestClient(app) as client:
        yield app, client


def test_search_past_the_tenant_rate_limit_is_429_with_retry_after(app_and_client, redis_client, new_tenant):
    app, client = app_and_client
    services = app.state.services
    services.limiter = RateLimiter(services.redis, rate=0.001, burst=1)
    tenant, other = new_tenant(), new_tenant()
    params = {"q": "fishing quotas for coastal communities", "limit": 3}
    refused_before = _sample("democrata_rate_limited_total")

    first = client.get("/search", params=params, headers={"X-Tenant": tenant})
    assert first.status_code == 200, first.text
    assert first.json()["count"] == len(first.json()["hits"])
    # The answer was cached under this tenant, with an expiry.
    (cached,) = redis_client.scan_iter(match=f"q:{tenant}:search:*")
    assert 0 < redis_client.ttl(cached) <= app.state.services.settings.query_cache_ttl_s

    second = client.get("/search", params=params, headers={"X-Tenant": tenant})
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) >= 1
    # The tenant header is normalised: shouting it does not buy a fresh bucket.
    assert (
        client.get("/search", params=params, headers={"X-Tenant": f"  {tenant.upper()} "}).status_code == 429
    )
    assert _sample("democrata_rate_limited_total") - refused_before == 2

    # Another tenant is unaffected, and is not served the first tenant's cached answer.
    third = client.get("/search", params=params, headers={"X-Tenant": other})
    assert third.status_code == 200, third.text
    assert len(list(redis_client.scan_iter(match=f"q:{other}:search:*"))) == 1


def test_search_is_shed_with_503_when_nothing_may_be_in_flight(app_and_client, new_tenant):
    app, client = app_and_client
    services = app.state.services
    tenant = new_tenant()

    services.shedder = LoadShedder(max_in_flight=0)
    shed = client.get("/search", params={"q": "rail fares"}, headers={"X-Tenant": tenant})
    assert shed.status_code == 503 and int(shed.headers["Retry-After"]) >= 1

    # With one slot, sequential requests all succeed: each one gives its slot back, cached or not.
    services.shedder = LoadShedder(max_in_flight=1)
    for q in ("rail fares", "rail fares", "bus fares"):
        response = client.get("/search", params={"q": q}, headers={"X-Tenant": tenant})
        assert response.status_code == 200, response.text
    assert services.shedder.in_flight == 0


def test_healthz_and_metrics(app_and_client, new_tenant):
    _, client = app_and_client
    assert (
        client.get("/search", params={"q": "budget"}, headers={"X-Tenant": new_tenant()}).status_code == 200
    )

    health = client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}

    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    for name in (
        "democrata_rate_limited_total",
        "democrata_query_cache_total",
        "democrata_coalesced_total",
        "democrata_shed_total",
        'democrata_request_seconds_count{route="search"}',
    ):
        assert name in metrics.text, name


def test_the_api_keeps_answering_with_redis_down(settings, chunk_index, dead_redis_url, new_tenant):
    from fastapi.testclient import TestClient

    from democrata_serving.app import create_app

    chunk_index.ensure_collection()
    app = create_app(settings.model_copy(update={"redis_url": dead_redis_url}))
    tenant = new_tenant()
    with TestClient(app) as client:
        for _ in range(3):  # no rate limit and no cache: every request computes, none fails
            response = client.get("/search", params={"q": "fishing"}, headers={"X-Tenant": tenant})
            assert response.status_code == 200, response.text
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["detail"] == {"weaviate": True, "redis": False}
