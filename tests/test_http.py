"""The fetcher against a real local HTTP server (tests/replay_server.py): no client monkeypatching."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import threading
import time
from pathlib import Path

import pytest
from replay_server import ReplayServer, Serve, Status

from democrata_core.http import (
    USER_AGENT,
    Fetcher,
    FetchError,
    MemoryValidatorStore,
    TruncatedBodyError,
    mirror_path,
    parse_retry_after,
    salvage_json_array,
)

PAGE = [{"id": i, "title": f"item {i}"} for i in range(5)]


@pytest.fixture()
def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    for rel, body in {
        "api/items@Skip=0&Take=5": json.dumps(PAGE, indent=1),
        "api/item.json": json.dumps({"id": 1}),
        "api/slow.json": json.dumps({"slow": True}),
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    return root


@pytest.fixture()
def server(mirror: Path):
    with ReplayServer(mirror) as srv:
        yield srv


def fast_fetcher(**kwargs) -> Fetcher:
    """Tiny backoff so retries cost milliseconds."""
    kwargs.setdefault("backoff_base", 0.01)
    kwargs.setdefault("backoff_max", 0.05)
    kwargs.setdefault("max_attempts", 4)
    return Fetcher(**kwargs)


def test_serves_mirror_by_path_and_sorted_query_with_user_agent(server: ReplayServer) -> None:
    with fast_fetcher() as fetcher:
        data = fetcher.get_json(server.url + "/api/items", {"Take": 5, "Skip": 0})
    assert data == PAGE
    (request,) = server.requests
    assert request.query == "Skip=0&Take=5"
    assert request.headers["user-agent"] == USER_AGENT
    assert "Democrata" in request.headers["user-agent"]


def test_429_retry_after_seconds_is_honoured(server: ReplayServer) -> None:
    server.script("/api/item.json", Status(429, headers={"Retry-After": "1"}))
    with fast_fetcher() as fetcher:
        response = fetcher.get(server.url + "/api/item.json")
        assert response.json() == {"id": 1}
        assert fetcher.throttled == 1
        assert fetcher.retries == 1
    first, second = server.requests_for("/api/item.json")
    assert (first.status, second.status) == (429, 200)
    # Behaviour check: the second request waited for Retry-After, not for the tiny backoff.
    assert second.started - first.finished >= 0.95


def test_retry_after_is_capped_by_max_wait(server: ReplayServer) -> None:
    server.script("/api/item.json", Status(503, headers={"Retry-After": "3600"}))
    with fast_fetcher(max_retry_after=0.1) as fetcher:
        started = time.monotonic()
        assert fetcher.get_json(server.url + "/api/item.json") == {"id": 1}
        assert time.monotonic() - started < 5


def test_parse_retry_after_seconds_and_http_date() -> None:
    now = dt.datetime(2025, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("2") == 2.0
    assert (
        parse_retry_after(email.utils.format_datetime(now + dt.timedelta(seconds=30), usegmt=True), now) == 30
    )
    assert (
        parse_retry_after(email.utils.format_datetime(now - dt.timedelta(seconds=30), usegmt=True), now) == 0
    )
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_500_is_retried_then_succeeds(server: ReplayServer) -> None:
    server.script("/api/item.json", Status(500, body=b"oops"))
    with fast_fetcher() as fetcher:
        assert fetcher.get_json(server.url + "/api/item.json") == {"id": 1}
        assert fetcher.stats["server_errors"] == 1
        assert fetcher.retries == 1
    assert [r.status for r in server.requests] == [500, 200]


def test_permanent_500_raises_after_max_attempts(server: ReplayServer) -> None:
    server.always("/api/item.json", Status(500))
    with fast_fetcher(max_attempts=3) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(server.url + "/api/item.json")
    assert "/api/item.json" in str(info.value) and "HTTP 500" in str(info.value)
    assert info.value.status == 500
    assert len(server.requests) == 3
    assert fetcher.stats["failures"] == 1


def test_client_errors_other_than_429_are_not_retried(server: ReplayServer) -> None:
    with fast_fetcher() as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(server.url + "/api/missing.json")
    assert info.value.status == 404
    assert len(server.requests) == 1
    assert fetcher.retries == 0


def test_per_host_concurrency_cap_holds_across_threads(server: ReplayServer) -> None:
    server.always("/api/slow.json", Serve(delay=0.2))
    fetcher = fast_fetcher(max_per_host=2)
    errors: list[BaseException] = []

    def hit() -> None:
        try:
            fetcher.get(server.url + "/api/slow.json")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fetcher.close()
    assert not errors
    assert len(server.requests) == 8
    assert server.max_in_flight == 2


def test_conditional_get_returns_cached_body_on_304(server: ReplayServer) -> None:
    store = MemoryValidatorStore()
    with fast_fetcher(validators=store) as fetcher:
        first = fetcher.get(server.url + "/api/items", {"Skip": 0, "Take": 5})
        second = fetcher.get(server.url + "/api/items", {"Skip": 0, "Take": 5})
        assert fetcher.stats["not_modified"] == 1
    assert (first.status, first.not_modified) == (200, False)
    assert (second.status, second.not_modified) == (304, True)
    assert second.content == first.content and second.json() == PAGE
    sent = [r.headers.get("if-none-match") for r in server.requests]
    assert sent[0] is None and sent[1] == first.headers["etag"]
    assert [r.status for r in server.requests] == [200, 304]
    assert len(store) == 1


def test_conditional_requests_can_be_disabled(server: ReplayServer) -> None:
    with fast_fetcher(conditional=False) as fetcher:
        fetcher.get(server.url + "/api/item.json")
        again = fetcher.get(server.url + "/api/item.json")
    assert again.status == 200 and not again.not_modified
    assert all("if-none-match" not in r.headers for r in server.requests)


def test_truncated_body_is_retried(server: ReplayServer) -> None:
    server.script("/api/items", Serve(truncate_to=20))
    with fast_fetcher() as fetcher:
        assert fetcher.get_json(server.url + "/api/items", {"Skip": 0, "Take": 5}) == PAGE
        assert fetcher.stats["truncated"] == 1
        assert fetcher.retries == 1
    assert len(server.requests) == 2


def test_truncated_body_that_persists_raises_with_url_and_partial_bytes(server: ReplayServer) -> None:
    server.always("/api/items", Serve(truncate_to=40))
    with fast_fetcher(max_attempts=2) as fetcher, pytest.raises(TruncatedBodyError) as info:
        fetcher.get(server.url + "/api/items", {"Skip": 0, "Take": 5})
    err = info.value
    assert isinstance(err, FetchError)
    assert "/api/items?Skip=0&Take=5" in str(err) and "truncated" in str(err)
    assert err.received == 40 and err.expected is not None and err.expected > 40
    assert err.partial == (server.root / "api/items@Skip=0&Take=5").read_bytes()[:40]
    assert len(server.requests) == 2


def test_read_timeout_is_retried(server: ReplayServer) -> None:
    server.script("/api/item.json", Serve(delay=1.0))
    with fast_fetcher(timeout=0.3) as fetcher:
        assert fetcher.get_json(server.url + "/api/item.json") == {"id": 1}
        assert fetcher.stats["transport_errors"] == 1


def test_connection_refused_raises_fetch_error_after_retries() -> None:
    with ReplayServer(Path(".")) as srv:
        url = srv.url
    with fast_fetcher(max_attempts=2, connect_timeout=0.5) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(url + "/anything")
    assert "after 2 attempts" in str(info.value)
    assert fetcher.retries == 1


def test_file_mirror_is_unchanged(mirror: Path) -> None:
    base = mirror.as_uri()
    assert mirror_path(base + "/api/items", {"Take": 5, "Skip": 0}) == mirror / "api/items@Skip=0&Take=5"
    fetcher = Fetcher()
    response = fetcher.get(base + "/api/items", {"Skip": 0, "Take": 5})
    assert response.status == 200 and response.json() == PAGE and not response.not_modified
    with pytest.raises(FetchError, match="no such file in mirror"):
        fetcher.get(base + "/api/items", {"Skip": 5, "Take": 5})
    assert fetcher.list_directory(base + "/api") == ["item.json", "items@Skip=0&Take=5", "slow.json"]


def test_salvage_json_array_keeps_complete_items() -> None:
    text = json.dumps(PAGE, indent=1)
    cut = text[: text.index('"item 3"') + 3]
    salvaged = salvage_json_array(cut.encode())
    assert salvaged is not None
    assert salvaged.items == PAGE[:3] and salvaged.error and salvaged.excerpt.startswith("{")
    whole = salvage_json_array(json.dumps({"items": PAGE, "totalResults": 9}))
    assert whole is not None and whole.items == PAGE and whole.error is None
    assert salvage_json_array(b'{"no": "array"}') is None
