"""One fetcher for live APIs and `file://` mirrors laid out like them.

Connectors call `get`/`get_json`/`list_directory` with a URL built from their base URL; whether that
is https://… or file://… is configuration. A mirror stores a request with a query string under a
file name that encodes the sorted query (see `mirror_path`), so paging works offline too.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

USER_AGENT = "Democrata/0.1 (+https://github.com/democrata; parliamentary knowledge base)"


class FetchError(RuntimeError):
    """A request that failed for good (after retries): the URL and status are in the message."""


@dataclass
class FetchResponse:
    url: str
    status: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)

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


_HREF = re.compile(r"""href\s*=\s*["']([^"'?#]+)["']""", re.IGNORECASE)


class Fetcher:
    def __init__(self, timeout: float = 30.0, user_agent: str = USER_AGENT) -> None:
        self.timeout = timeout
        self.user_agent = user_agent
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.timeout, headers={"User-Agent": self.user_agent}, follow_redirects=True
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def get(self, url: str, params: dict[str, Any] | None = None) -> FetchResponse:
        if url.startswith("file://"):
            path = mirror_path(url, params)
            if not path.is_file():
                raise FetchError(f"{url} ({encode_query(params)}): no such file in mirror: {path}")
            return FetchResponse(url=url, status=200, content=path.read_bytes())
        response = self.client.get(url, params=encode_query(params) or None)
        if response.status_code >= 400:
            raise FetchError(f"GET {response.request.url} failed with HTTP {response.status_code}")
        return FetchResponse(
            url=str(response.request.url),
            status=response.status_code,
            content=response.content,
            headers=dict(response.headers),
        )

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return self.get(url, params).json()

    def list_directory(self, url: str) -> list[str]:
        """Entry names in a directory: a local folder, or an HTTP server's index page (Apache style)."""
        if url.startswith("file://"):
            path = mirror_path(url)
            if not path.is_dir():
                raise FetchError(f"{url}: not a directory in mirror")
            return sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
        page = self.get(url.rstrip("/") + "/").content.decode("utf-8", errors="replace")
        names = {urllib.parse.unquote(h) for h in _HREF.findall(page)}
        return sorted(n for n in names if not n.startswith(("/", "..", "http:", "https:")))
