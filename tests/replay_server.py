"""A real local HTTP server that replays a `file://` mirror, with scriptable faults.

Serves `GET /<path>?<query>` from `root / mirror_path(path?query)` (the query canonicalised the way
`encode_query` sorts it), so a connector pointed at `server.url` walks the same files it reads from
the mirror. Every request is recorded (arrival/finish time, path, headers) and the server tracks how
many requests were in flight at once, overall and per path.

Faults are scripted per path: `server.script(target, action, action, …)` queues actions consumed one
per request; `server.always(target, action)` applies after the queue is empty. `target` is either a
bare path (`/data/x.json`, any query) or path plus canonical query (`/data/x.json?a=1&b=2`), the
latter taking precedence. Actions: `Status` (any status, headers and body), `Serve` (the mirror
file, optionally slow, garbled or truncated). Served files carry an ETag (sha256 of the body) and a
304 answers a matching If-None-Match.

Usage::

    with ReplayServer(mirror_root / "commons_votes") as server:
        server.script("/data/division/1873.json", Status(429, headers={"Retry-After": "1"}))
        connector = CommonsVotesConnector(base_url=server.url)
"""

from __future__ import annotations

import hashlib
import threading
import time
import urllib.parse
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from background_server import BackgroundServer

from democrata_core.http import mirror_file, mirror_path


@dataclass(frozen=True)
class Status:
    """Answer with this status, headers and body (no mirror file involved)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Serve:
    """Serve the mirror file.

    delay: seconds to sleep before answering (a slow endpoint).
    truncate_to: send only this many body bytes while announcing the full Content-Length, then
        close the connection (a truncated body).
    cut_to: send only this many body bytes with a Content-Length that matches them (a body garbled
        at the source: the transfer is fine, the JSON is not).
    etag: send an ETag and answer a matching If-None-Match with 304.
    """

    delay: float = 0.0
    truncate_to: int | None = None
    cut_to: int | None = None
    etag: bool = True


@dataclass
class RequestRecord:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    started: float
    finished: float = 0.0
    status: int = 0

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


def canonical_query(query: str) -> str:
    """Sorted by key (stable for repeated keys), re-encoded like `encode_query`."""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    return urllib.parse.urlencode(sorted(pairs, key=lambda kv: kv[0]))


class ReplayServer(BackgroundServer):
    thread_name = "replay-server"

    def __init__(self, root: Path, host: str = "127.0.0.1") -> None:
        self.root = Path(root)
        self.requests: list[RequestRecord] = []
        self.max_in_flight = 0
        self.max_in_flight_by_path: Counter[str] = Counter()
        self._in_flight = 0
        self._in_flight_by_path: Counter[str] = Counter()
        self._scripts: dict[str, deque[Status | Serve]] = {}
        self._always: dict[str, Status | Serve] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, 0), self._handler_class())
        self._httpd.daemon_threads = True

    # -- lifecycle --

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # -- scripting --

    def script(self, target: str, *actions: Status | Serve) -> None:
        with self._lock:
            self._scripts.setdefault(self._key(target), deque()).extend(actions)

    def always(self, target: str, action: Status | Serve) -> None:
        with self._lock:
            self._always[self._key(target)] = action

    def requests_for(self, target: str) -> list[RequestRecord]:
        key = self._key(target)
        with self._lock:
            return [r for r in self.requests if key in (r.path, r.target)]

    @staticmethod
    def _key(target: str) -> str:
        path, _, query = target.partition("?")
        return f"{path}?{canonical_query(query)}" if query else path

    def _next_action(self, path: str, target: str) -> Status | Serve:
        with self._lock:
            for key in (target, path):
                queue = self._scripts.get(key)
                if queue:
                    return queue.popleft()
            for key in (target, path):
                if key in self._always:
                    return self._always[key]
        return Serve()

    # -- the handler --

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet test output
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                split = urllib.parse.urlsplit(self.path)
                path, query = split.path, canonical_query(split.query)
                record = RequestRecord(
                    method="GET",
                    path=path,
                    query=query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    started=time.monotonic(),
                )
                with server._lock:
                    server.requests.append(record)
                    server._in_flight += 1
                    server._in_flight_by_path[path] += 1
                    server.max_in_flight = max(server.max_in_flight, server._in_flight)
                    server.max_in_flight_by_path[path] = max(
                        server.max_in_flight_by_path[path], server._in_flight_by_path[path]
                    )
                try:
                    self._respond(path, record)
                finally:
                    record.finished = time.monotonic()
                    with server._lock:
                        server._in_flight -= 1
                        server._in_flight_by_path[path] -= 1

            def _respond(self, path: str, record: RequestRecord) -> None:
                action = server._next_action(path, record.target)
                if isinstance(action, Status):
                    return self._send(record, action.status, action.body, action.headers)
                if action.delay:
                    time.sleep(action.delay)
                file = mirror_file(
                    server.root
                    / mirror_path(
                        "http://replay" + path + (f"?{record.query}" if record.query else "")
                    ).relative_to("/")
                )
                if file is None:
                    return self._send(
                        record, 404, b'{"error": "not in mirror"}', {"Content-Type": "application/json"}
                    )
                body = file.read_bytes()
                headers = {"Content-Type": "application/json; charset=utf-8"}
                if action.etag:
                    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
                    headers["ETag"] = etag
                    if record.headers.get("if-none-match") == etag:
                        return self._send(record, 304, b"", {"ETag": etag})
                if action.cut_to is not None:
                    body = body[: action.cut_to]
                if action.truncate_to is not None:
                    record.status = 200
                    self.send_response(200)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body[: action.truncate_to])
                    self.wfile.flush()
                    self.close_connection = True
                    return None
                return self._send(record, 200, body, headers)

            def _send(self, record: RequestRecord, status: int, body: bytes, headers: dict[str, str]) -> None:
                record.status = status  # before the bytes leave: a client may inspect it on return
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if status not in (204, 304):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status not in (204, 304) and body:
                    self.wfile.write(body)

        return Handler
