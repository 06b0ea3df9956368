"""One fetcher for live APIs and `file://` mirrors laid out like them.

Connectors call `get`/`get_json`/`list_directory` with a URL built from their base URL; whether that
is https://… or file://… is configuration. A mirror stores a request with a query string under a
file name that encodes the sorted query (see `mirror_path`), so paging works offline too. A
query-less resource that is also a folder (`/api/v1/Bills/2818` beside `/api/v1/Bills/2818/Stages`)
is stored as `<path>@` (see `mirror_file`); `mirror_queries` lists the queries a mirror recorded.

Over HTTP the fetcher is polite and robust, because the parliamentary APIs publish no rate limit and
ask callers to cache:

* connect/read timeouts and a User-Agent naming the project;
* retries (tenacity) with exponential backoff and full jitter on 429, 5xx, transport errors and
  truncated bodies, honouring `Retry-After` (seconds or HTTP date) up to `max_retry_after`; other
  4xx fail at once;
* at most `max_per_host` requests in flight per host, across threads;
* conditional requests: ETag/Last-Modified are remembered per URL and sent back; a 304 returns the
  cached body with `not_modified=True`;
* counters (`stats`, `retries`, `throttled`) for metrics and logs.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import re
import threading
import urllib.parse
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

log = logging.getLogger(__name__)

USER_AGENT = "Democrata/0.1 (+https://github.com/democrata; parliamentary knowledge base)"

#: Statuses worth another try: rate limiting and server-side failures (not "Not Implemented" or
#: "HTTP Version Not Supported", which another try will not change).
RETRY_STATUSES = frozenset({429} | set(range(500, 600))) - {501, 505}


class FetchError(RuntimeError):
    """A request that failed for good (after retries): the URL and status are in the message."""

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class TruncatedBodyError(FetchError):
    """The body ended before its Content-Length (connection closed early).

    Transient: the retry policy retries it. When retries run out it is raised with `partial`, the
    bytes that did arrive, so a caller may salvage the complete records in them.
    """

    def __init__(self, message: str, *, url: str, received: int, expected: int | None, partial: bytes):
        super().__init__(message, url=url)
        self.received = received
        self.expected = expected
        self.partial = partial


class _Transient(Exception):
    """Internal: one attempt failed in a way worth retrying."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class _TransientTruncation(_Transient):
    def __init__(self, error: TruncatedBodyError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class FetchResponse:
    url: str
    status: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)
    #: True when the server answered 304 and `content` is the body cached from an earlier 200.
    not_modified: bool = False

    def json(self) -> Any:
        return json.loads(self.content)


def encode_query(params: dict[str, Any] | None) -> str:
    """Sorted, stable query string; lists become repeated keys."""
    if not params:
        return ""
    items: list[tuple[str, str]] = []
    for key in sorted(params):
        value = params[key]
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            items.extend((key, str(v)) for v in value)
        else:
            items.append((key, str(value)))
    return urllib.parse.urlencode(items)


def mirror_path(url: str, params: dict[str, Any] | None = None) -> Path:
    """Where a `file://` mirror keeps the response to `url?params`.

    Without a query: the path itself. With one: `<path>@<sorted-query>` with characters unsafe in
    file names percent-encoded, e.g. `…/api/v1/Bills@Skip=0&Take=20`.
    """
    parsed = urllib.parse.urlparse(url)
    path = Path(urllib.parse.unquote(parsed.path))
    query = "&".join(q for q in (parsed.query, encode_query(params)) if q)
    if not query:
        return path
    return path.with_name(path.name + "@" + query.replace("/", "%2F"))


def mirror_file(path: Path) -> Path | None:
    """The file holding `path`'s response, or None.

    A REST resource can also be a "directory" (`/api/v1/Bills/2818` and `/api/v1/Bills/2818/Stages`);
    a file system cannot hold both, so a query-less response whose path is a folder is stored beside
    it as `<path>@` (the `@` convention with an empty query).
    """
    if path.is_file():
        return path
    sibling = path.with_name(path.name + "@")
    return sibling if sibling.is_file() else None


def mirror_queries(url: str) -> list[dict[str, list[str]]]:
    """The queries a `file://` mirror recorded for `url` (from the `<name>@<query>` files beside it).

    Lets a connector replay exactly the searches a mirror holds (e.g. a date window). Over HTTP an
    API cannot be listed, so the answer is empty.
    """
    if not url.startswith("file://"):
        return []
    path = mirror_path(url)
    if not path.parent.is_dir():
        return []
    prefix = path.name + "@"
    found = []
    for entry in sorted(path.parent.iterdir()):
        if entry.is_file() and entry.name.startswith(prefix) and len(entry.name) > len(prefix):
            query = entry.name[len(prefix) :].replace("%2F", "/")
            found.append(urllib.parse.parse_qs(query, keep_blank_values=True))
    return found


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date; None if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


# --- tolerant decoding -------------------------------------------------------------------------


@dataclass
class SalvagedArray:
    """The complete items of a JSON array that arrived cut or garbled, and what was lost."""

    items: list[Any]
    #: Why decoding stopped early (None when the array was complete).
    error: str | None = None
    #: Up to 500 characters of the undecodable tail, for quarantine.
    excerpt: str = ""


_ITEMS_KEY = re.compile(r'"items"\s*:\s*\[')


def salvage_json_array(content: bytes | str, key: str | None = None) -> SalvagedArray | None:
    """Decode a JSON array item by item, keeping every complete item before a fault.

    The array is the top-level value, or the one under `"key": [` inside a top-level object (the
    Bills API's `{"items": [...]}` page). Returns None when no array can be found at all.
    """
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    text = text.lstrip("\ufeff")
    stripped = text.lstrip()
    if stripped.startswith("["):
        pos = len(text) - len(stripped) + 1
    else:
        pattern = _ITEMS_KEY if key in (None, "items") else re.compile(rf'"{re.escape(key)}"\s*:\s*\[')
        match = pattern.search(text)
        if match is None:
            return None
        pos = match.end()
    decoder = json.JSONDecoder()
    items: list[Any] = []
    n = len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
        if pos >= n:
            return SalvagedArray(items, "body ends inside the array", "")
        if text[pos] == "]":
            return SalvagedArray(items)
        if items:
            if text[pos] != ",":
                return SalvagedArray(items, f"expected ',' at character {pos}", text[pos : pos + 500])
            pos += 1
            while pos < n and text[pos] in " \t\r\n":
                pos += 1
        try:
            item, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            return SalvagedArray(
                items, f"undecodable item at character {pos}: {exc.msg}", text[pos : pos + 500]
            )
        items.append(item)
        pos = end


# --- conditional request validators ------------------------------------------------------------


@dataclass
class CachedValidators:
    etag: str | None
    last_modified: str | None
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)


class ValidatorStore(Protocol):
    """Where ETag/Last-Modified (and the body they validate) are kept, keyed by full request URL."""

    def get(self, url: str) -> CachedValidators | None: ...

    def set(self, url: str, entry: CachedValidators) -> None: ...


class MemoryValidatorStore:
    """Thread-safe in-memory store, least recently used entries dropped beyond `max_entries`."""

    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, CachedValidators] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str) -> CachedValidators | None:
        with self._lock:
            entry = self._entries.get(url)
            if entry is not None:
                self._entries.move_to_end(url)
            return entry

    def set(self, url: str, entry: CachedValidators) -> None:
        with self._lock:
            self._entries[url] = entry
            self._entries.move_to_end(url)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


# --- the fetcher --------------------------------------------------------------------------------

_HREF = re.compile(r"""href\s*=\s*["']([^"'?#]+)["']""", re.IGNORECASE)

_COUNTERS = ("requests", "retries", "throttled", "server_errors", "transport_errors", "truncated",
             "not_modified", "failures")  # fmt: skip


class Fetcher:
    """GET over HTTP(S) with retries, per-host limits and conditional requests; or from a mirror.

    `timeout` is the read timeout (kept first for compatibility); `connect_timeout` the connect one.
    `max_attempts` counts the first try. Backoff before retry n is uniform in
    [0, min(backoff_max, backoff_base * 2**(n-1))] ("full jitter"), unless the server sent
    `Retry-After`, which is honoured up to `max_retry_after` seconds.
    """

    def __init__(
        self,
        timeout: float = 30.0,
        user_agent: str = USER_AGENT,
        *,
        connect_timeout: float = 10.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 120.0,
        max_per_host: int = 4,
        conditional: bool = True,
        validators: ValidatorStore | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if max_per_host < 1:
            raise ValueError("max_per_host must be >= 1")
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.user_agent = user_agent
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.max_per_host = max_per_host
        self.conditional = conditional
        self.validators: ValidatorStore = validators if validators is not None else MemoryValidatorStore()
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._host_slots: dict[str, threading.BoundedSemaphore] = {}
        self._counts = dict.fromkeys(_COUNTERS, 0)
        self._jitter = wait_random_exponential(multiplier=backoff_base, max=backoff_max)

    # -- lifecycle --

    @property
    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
                    headers={"User-Agent": self.user_agent},
                    follow_redirects=True,
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- counters --

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    @property
    def stats(self) -> dict[str, int]:
        """A snapshot: requests sent, retries, 429s (`throttled`), 5xx, transport errors, truncated
        bodies, 304s, and requests that failed for good."""
        with self._lock:
            return dict(self._counts)

    @property
    def retries(self) -> int:
        return self.stats["retries"]

    @property
    def throttled(self) -> int:
        return self.stats["throttled"]

    # -- per-host cap --

    def _slot(self, url: str) -> threading.BoundedSemaphore:
        host = urllib.parse.urlsplit(url).netloc.lower()
        with self._lock:
            slot = self._host_slots.get(host)
            if slot is None:
                slot = self._host_slots[host] = threading.BoundedSemaphore(self.max_per_host)
            return slot

    # -- retry policy --

    def _wait(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_retry_after)
        return self._jitter(retry_state)

    def _before_sleep(self, retry_state: RetryCallState) -> None:
        self._count("retries")
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        log.warning(
            "GET %s: %s; retry %d/%d in %.2fs",
            retry_state.args[0] if retry_state.args else "?",
            exc,
            retry_state.attempt_number,
            self.max_attempts - 1,
            wait,
        )

    # -- requests --

    def get(self, url: str, params: dict[str, Any] | None = None) -> FetchResponse:
        if url.startswith("file://"):
            path = mirror_path(url, params)
            found = mirror_file(path)
            if found is None:
                raise FetchError(
                    f"{url} ({encode_query(params)}): no such file in mirror: {path}", url=url, status=404
                )
            return FetchResponse(url=url, status=200, content=found.read_bytes())
        query = encode_query(params)
        full_url = f"{url}{'&' if '?' in url else '?'}{query}" if query else url
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt, full_url)
        except _TransientTruncation as exc:
            self._count("failures")
            err = exc.error
            raise TruncatedBodyError(
                f"GET {full_url}: {err.args[0]} (gave up after {self.max_attempts} attempts)",
                url=full_url,
                received=err.received,
                expected=err.expected,
                partial=err.partial,
            ) from exc
        except _Transient as exc:
            self._count("failures")
            raise FetchError(
                f"GET {full_url} failed after {self.max_attempts} attempts: {exc.reason}",
                url=full_url,
                status=exc.status,
            ) from exc
        except FetchError:
            self._count("failures")
            raise

    def _attempt(self, full_url: str) -> FetchResponse:
        headers: dict[str, str] = {}
        cached = self.validators.get(full_url) if self.conditional else None
        if cached is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        client = self.client
        with self._slot(full_url):
            self._count("requests")
            try:
                with client.stream("GET", full_url, headers=headers) as response:
                    status = response.status_code
                    resp_headers = dict(response.headers)
                    final_url = str(response.url)
                    chunks: list[bytes] = []
                    try:
                        for chunk in response.iter_bytes():
                            chunks.append(chunk)
                    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.DecodingError) as exc:
                        self._count("truncated")
                        raise _TransientTruncation(
                            self._truncation(final_url, response, b"".join(chunks), str(exc))
                        ) from exc
                    content = b"".join(chunks)
                    expected = _content_length(response)
                    if (
                        expected is not None
                        and status not in (204, 304)
                        and response.num_bytes_downloaded < expected
                    ):
                        self._count("truncated")
                        raise _TransientTruncation(self._truncation(final_url, response, content, None))
            except httpx.TimeoutException as exc:
                self._count("transport_errors")
                raise _Transient(f"timeout ({type(exc).__name__})") from exc
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                self._count("transport_errors")
                raise _Transient(f"transport error ({type(exc).__name__}: {exc})") from exc
            except httpx.HTTPError as exc:  # invalid URL, unsupported protocol, too many redirects …
                raise FetchError(f"GET {full_url}: {type(exc).__name__}: {exc}", url=full_url) from exc

        if status == 304:
            if cached is None:
                raise FetchError(f"GET {full_url}: HTTP 304 without a cached body", url=full_url, status=304)
            self._count("not_modified")
            return FetchResponse(
                url=final_url,
                status=304,
                content=cached.content,
                headers={**cached.headers, **resp_headers},
                not_modified=True,
            )
        if status in RETRY_STATUSES:
            self._count("throttled" if status == 429 else "server_errors")
            retry_after = parse_retry_after(resp_headers.get("retry-after"))
            raise _Transient(f"HTTP {status}", status=status, retry_after=retry_after)
        if status >= 400:
            raise FetchError(f"GET {full_url} failed with HTTP {status}", url=full_url, status=status)
        if self.conditional and status == 200:
            etag, last_modified = resp_headers.get("etag"), resp_headers.get("last-modified")
            if etag or last_modified:
                self.validators.set(full_url, CachedValidators(etag, last_modified, content, resp_headers))
        return FetchResponse(url=final_url, status=status, content=content, headers=resp_headers)

    @staticmethod
    def _truncation(
        url: str, response: httpx.Response, partial: bytes, cause: str | None
    ) -> TruncatedBodyError:
        expected = _content_length(response)
        received = response.num_bytes_downloaded
        message = f"body truncated: received {received} of {expected if expected is not None else '?'} bytes"
        if cause:
            message += f" ({cause})"
        return TruncatedBodyError(message, url=url, received=received, expected=expected, partial=partial)

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return self.get(url, params).json()

    def list_directory(self, url: str) -> list[str]:
        """Entry names in a directory: a local folder, or an HTTP server's index page (Apache style)."""
        if url.startswith("file://"):
            path = mirror_path(url)
            if not path.is_dir():
                raise FetchError(f"{url}: not a directory in mirror", url=url)
            return sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
        page = self.get(url.rstrip("/") + "/").content.decode("utf-8", errors="replace")
        names = {urllib.parse.unquote(h) for h in _HREF.findall(page)}
        return sorted(n for n in names if not n.startswith(("/", "..", "http:", "https:")))


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    if value is None or "," in value:
        return None
    try:
        return int(value)
    except ValueError:
        return None
