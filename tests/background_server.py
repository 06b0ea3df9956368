"""An HTTP server on a loopback port in a background thread: the shared base of the test servers."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from typing import Self


class BackgroundServer:
    """Subclasses set `self._httpd` (bound to port 0) in __init__ and add their own handlers."""

    _httpd: ThreadingHTTPServer
    thread_name = "test-server"

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
