"""A real local HTTP server speaking the OpenAI REST protocol, for the official `openai` SDK.

Endpoints (under `/v1`, so `base_url=server.base_url` is all a client needs):

* `POST /v1/embeddings`: one vector per input, `stub_embedding(text)`: a hashed bag of words of
  `DIMENSIONS` floats, deliberately NOT unit length, so a client's normalisation is exercised. It
  honours `encoding_format` ("base64" little-endian float32, as the SDK asks by default, or "float").
  With `shuffle_data = True` the `data` items are rotated by one, so no item sits at its own index
  and a client that trusts the list order instead of `index` gets every vector wrong.
* `POST /v1/chat/completions`: a standard `chat.completion`. The reply quotes the first sentence of
  the numbered excerpts (`[n] header\\ntext`) it finds in the user message and cites each as `[n]`;
  `chat_cites` chooses which numbers (default: every excerpt received), and a number with no
  excerpt is cited anyway ("See also [9].") to test that clients drop it.

Every request is recorded (method, path, lower-cased headers incl. Authorization, parsed JSON body).
Faults are scripted per path and consumed one per request: `server.script(path, Fault(429, {...}))`.

Usage::

    with OpenAIStub() as server:
        server.script("/v1/embeddings", Fault(429, {"Retry-After": "0"}))
        embedder = OpenAIEmbedder(api_key="k", base_url=server.base_url, model="text-embedding-3-small")
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from background_server import BackgroundServer

DIMENSIONS = 1536
_TOKEN = re.compile(r"\w+", re.UNICODE)
_EXCERPT = re.compile(r"^\[(\d+)\] [^\n]*\n(.+?)(?=\n\n\[\d+\] |\n\nQuestion: |\Z)", re.S | re.M)


def stub_embedding(text: str, dimensions: int = DIMENSIONS) -> np.ndarray:
    """Deterministic, unnormalised: each word adds ±1 to a hashed bucket, plus a constant bias."""
    vector = np.zeros(dimensions, dtype=np.float32)
    vector[-1] = 0.5  # an input with no words still has a direction
    for word in _TOKEN.findall(text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        bucket = int.from_bytes(digest[:4], "little") % (dimensions - 1)
        vector[bucket] += 1.0 if digest[4] & 1 else -1.0
    return vector


def excerpts_in(prompt: str) -> dict[int, str]:
    """The numbered excerpts of a grounded-answer prompt: {n: excerpt text}."""
    return {int(m.group(1)): m.group(2).strip() for m in _EXCERPT.finditer(prompt)}


@dataclass(frozen=True)
class Fault:
    """Answer one request with this status and headers and an OpenAI-style error body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "scripted fault"


@dataclass
class StubRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0


class OpenAIStub(BackgroundServer):
    thread_name = "openai-stub"

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[StubRequest] = []
        self.shuffle_data = False
        self.chat_cites: list[int] | None = None
        self._scripts: dict[str, deque[Fault]] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, 0), self._handler_class())
        self._httpd.daemon_threads = True

    # -- lifecycle --

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    # -- scripting and inspection --

    def script(self, path: str, *faults: Fault) -> None:
        with self._lock:
            self._scripts.setdefault(path, deque()).extend(faults)

    def requests_for(self, path: str) -> list[StubRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            queue = self._scripts.get(path)
            return queue.popleft() if queue else None

    # -- the protocol --

    def _embeddings(self, body: dict) -> tuple[int, dict]:
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) for t in inputs):
            return 400, _error(
                "input must be a string or a non-empty list of strings", "invalid_request_error"
            )
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for i, text in enumerate(inputs):
            vector = stub_embedding(text)
            encoded: Any = (
                base64.b64encode(vector.astype("<f4").tobytes()).decode()
                if as_base64
                else [float(x) for x in vector]
            )
            data.append({"object": "embedding", "index": i, "embedding": encoded})
        if self.shuffle_data and len(data) > 1:
            data = data[1:] + data[:1]
        tokens = sum(len(_TOKEN.findall(t)) for t in inputs)
        return 200, {
            "object": "list",
            "data": data,
            "model": body.get("model"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    def _chat(self, body: dict) -> tuple[int, dict]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return 400, _error("messages must be a non-empty list", "invalid_request_error")
        prompt = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
        excerpts = excerpts_in(prompt)
        cites = self.chat_cites if self.chat_cites is not None else sorted(excerpts)
        parts = []
        for n in cites:
            if n in excerpts:
                first = re.split(r"(?<=[.!?])\s", excerpts[n], maxsplit=1)[0]
                parts.append(f"{first} [{n}]")
            else:
                parts.append(f"See also [{n}].")
        content = " ".join(parts) or "The excerpts do not answer the question."
        prompt_tokens = len(_TOKEN.findall(prompt))
        completion_tokens = len(_TOKEN.findall(content))
        return 200, {
            "id": f"chatcmpl-stub{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self
        routes = {"/v1/embeddings": server._embeddings, "/v1/chat/completions": server._chat}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet test output
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                path = self.path.split("?", 1)[0]
                record = StubRequest(
                    method="POST",
                    path=path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                with server._lock:
                    server.requests.append(record)
                fault = server._next_fault(path)
                if fault is not None:
                    kind = "rate_limit_exceeded" if fault.status == 429 else "server_error"
                    return self._send(record, fault.status, _error(fault.message, kind), fault.headers)
                handler = routes.get(path)
                if handler is None:
                    return self._send(record, 404, _error(f"no route {path}", "invalid_request_error"))
                if not isinstance(body, dict):
                    return self._send(
                        record, 400, _error("body must be a JSON object", "invalid_request_error")
                    )
                status, payload = handler(body)
                return self._send(record, status, payload)

            def _send(
                self, record: StubRequest, status: int, payload: dict, headers: dict | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                record.status = status
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _error(message: str, kind: str) -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}
