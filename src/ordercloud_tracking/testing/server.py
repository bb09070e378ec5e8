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
    """A fake served over HTTP/1.1 on loopback, at :attr:`url`.

    :meth:`FakeOrderCloud.serve` makes one and starts it: use it as a context manager (leaving the block
    stops it), or call :meth:`stop`. The socket is bound when the object is made, so :attr:`port` is
    known at once (``port=0`` picks a free one). Made directly, it serves only after :meth:`start` —
    and :meth:`stop` (or leaving a ``with`` block) must not come before :meth:`start`: it would wait
    forever.

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
        """The address the server listens on (``127.0.0.1`` by default).

        >>> from ordercloud_tracking.testing import FakeOrderCloud
        >>> with FakeOrderCloud().serve() as server:
        ...     server.host, server.url == f"http://{server.host}:{server.port}"
        ('127.0.0.1', True)
        """
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        """The port the server listens on: the one asked for, or the free one picked for ``port=0``.

        >>> from ordercloud_tracking.testing import FakeOrderCloud
        >>> with FakeOrderCloud().serve(port=0) as server:
        ...     1024 <= server.port <= 65535
        True
        """
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL to give a client (``http://127.0.0.1:PORT``)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeServer:
        """Start serving on a daemon thread and return the server (call it once).

        :meth:`FakeOrderCloud.serve` already calls it; call it yourself only for a ``FakeServer`` you made.

        >>> server = FakeServer(FakeOrderCloud()).start()     # doctest: +SKIP
        >>> server.url                                       # doctest: +SKIP
        'http://127.0.0.1:53817'
        """
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and wait (up to 5 seconds) for the thread to end.

        Leaving the ``with`` block calls it. On a server that was never started it just closes the socket.

        >>> server = FakeOrderCloud().serve()     # doctest: +SKIP
        >>> server.stop()                         # doctest: +SKIP
        """
        started = self._thread.ident is not None
        if started:
            self._server.shutdown()
        self._server.server_close()
        if started:
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
        if not self._thread.is_alive() and self._thread.ident is None:
            self.start()  # a FakeServer made directly starts when the block is entered
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
