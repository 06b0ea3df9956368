from __future__ import annotations

import pytest

from democrata_core.resilience import CircuitBreaker, CircuitOpen


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def boom():
    raise ConnectionError("down")


def test_opens_after_consecutive_failures_then_fails_fast():
    clock = Clock()
    breaker = CircuitBreaker("weaviate", failure_threshold=3, reset_after_s=10, clock=clock)
    calls = []
    for _ in range(3):
        with pytest.raises(ConnectionError):
            breaker.call(lambda: calls.append(1) or boom())
    assert breaker.state == "open" and len(calls) == 3
    with pytest.raises(CircuitOpen) as err:
        breaker.call(lambda: calls.append(1))
    assert len(calls) == 3  # the dependency was not called
    assert err.value.retry_after_s == pytest.approx(10)


def test_half_open_trial_success_closes_and_failure_reopens():
    clock = Clock()
    breaker = CircuitBreaker("embedder", failure_threshold=1, reset_after_s=5, clock=clock)
    with pytest.raises(ConnectionError):
        breaker.call(boom)
    clock.now = 5
    assert breaker.state == "half_open"
    with pytest.raises(ConnectionError):
        breaker.call(boom)  # the trial fails: open again for a full cool-down
    assert breaker.state == "open"
    clock.now = 10
    assert breaker.call(lambda: "ok") == "ok"
    assert breaker.state == "closed" and breaker.failures == 0


def test_a_success_resets_the_failure_count():
    breaker = CircuitBreaker("x", failure_threshold=2, reset_after_s=5, clock=Clock())
    with pytest.raises(ConnectionError):
        breaker.call(boom)
    breaker.call(lambda: None)
    with pytest.raises(ConnectionError):
        breaker.call(boom)
    assert breaker.state == "closed"


def test_api_answers_503_and_then_fails_fast_while_weaviate_is_down():
    import socket

    from fastapi.testclient import TestClient

    from democrata_core.settings import Settings
    from democrata_serving.app import create_app

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    app = create_app(Settings(redis_url=None, weaviate_http_port=dead, weaviate_grpc_port=dead))
    app.state.services.backend = CircuitBreaker("search backend", failure_threshold=2, reset_after_s=60)
    with TestClient(app) as client:
        for _ in range(2):
            response = client.get("/search", params={"q": "harbour dues"})
            assert response.status_code == 503
            assert "search backend unavailable" in response.json()["detail"]
        fast = client.get("/search", params={"q": "harbour dues"})
        assert fast.status_code == 503 and "is failing" in fast.json()["detail"]
        assert int(fast.headers["Retry-After"]) >= 59
        assert client.get("/readyz").status_code == 503
