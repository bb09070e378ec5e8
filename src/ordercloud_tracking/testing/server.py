"""Run a :class:`FakeOrderCloud` as a real HTTP/1.1 server on loopback (standard library only)."""

from __future__ import annotations

import http.server
import threading
import time
from typing import TYPE_CHECKING, Any

from ._api import FakeRequest

if TYPE_CHECKING:
    from .fake import FakeOrderCloud

__all__ = ["FakeServer"]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm and delayed ACKs every keep-alive
    # request then waits ~40 ms for the second one.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None  # never print request lines: they may carry anonUserToken

    def _serve(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        from urllib.parse import parse_qsl, unquote

        request = FakeRequest(
            method=self.command,
            path=unquote(path),
            query=tuple(parse_qsl(query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        fault = fake.faults.take(request.method, request.path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.error == "connect":
            fake._journal(request, None, "connect")
            self.close_connection = True
            return
        if fault is not None and fault.status is not None:
            response = fake._fault_response(fault)
            fake._journal(request, response.status, f"status {fault.status}")
        else:
            response, emissions = fake.process(request)
            fake._journal(request, response.status, fault.error if fault else None)
            for emission in emissions:
                fake._emit_sync(emission)
            if fault is not None and fault.error == "read_timeout":
                self.close_connection = True  # processed, but the answer is lost
                return
        content = response.content()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if content:
            self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOrderCloud


class FakeServer:
    """A running fake on ``url``. Use as a context manager, or call :meth:`stop`.

    >>> with FakeOrderCloud().serve() as server:     # doctest: +SKIP
    ...     OrderCloud(client_id=..., client_secret=..., base_url=server.url)
    """

    def __init__(self, fake: FakeOrderCloud, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake
        self._server = _Server((host, port), _Handler)
        self._server.fake = fake
        # A short poll interval: stop() (shutdown) waits up to one interval, 0.5 s by default, in every test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="FakeOrderCloud", daemon=True
        )

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL to give a client (``http://127.0.0.1:PORT``)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Block until interrupted (the command-line ``serve``)."""
        try:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
