"""Run a :class:`FakeOrderCloud` as a real HTTP/1.1 server on loopback (standard library only).

The handler is an adapter over the fake's front door (:meth:`FakeOrderCloud.exchange` and
:meth:`FakeOrderCloud.deliver`); what it adds is HTTP/1.1 framing. Bodies come with a ``Content-Length``
of ASCII digits or ``Transfer-Encoding: chunked``; a malformed length or chunk answers 400, a body over
:data:`MAX_BODY` bytes 413, another transfer coding 501 — each with an OrderCloud error body, and the
connection is closed, since the rest of the stream can no longer be trusted.
"""

from __future__ import annotations

import http.server
import sys
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from ._wire import FakeRequest, FakeResponse, error_body

if TYPE_CHECKING:
    from .fake import FakeOrderCloud

__all__ = ["MAX_BODY", "FakeServer"]

#: The largest request body the server reads (bytes); a longer one answers 413.
MAX_BODY = 16 * 1024 * 1024


class _BadFraming(Exception):
    """The request's body framing is unusable: answer ``status`` and close the connection."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.response = FakeResponse(status, error_body(code, message))


def _length(values: list[str]) -> int:
    if len(set(values)) > 1:
        raise _BadFraming(400, "Request.InvalidContentLength", "Conflicting Content-Length headers.")
    text = values[0].strip()
    if not (text.isascii() and text.isdigit()):
        raise _BadFraming(400, "Request.InvalidContentLength", "Content-Length must be a whole number of bytes.")
    if len(text) > 12 or int(text) > MAX_BODY:
        raise _BadFraming(413, "Request.TooLarge", f"The request body is larger than {MAX_BODY} bytes.")
    return int(text)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm and delayed ACKs every keep-alive
    # request then waits ~40 ms for the second one.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None  # never print request lines: they may carry anonUserToken

    def _chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            size_text = line.split(b";", 1)[0].strip()
            if not line.endswith(b"\n") or not size_text or not all(c in b"0123456789abcdefABCDEF" for c in size_text):
                raise _BadFraming(400, "Request.InvalidChunk", "Malformed chunked request body.")
            size = int(size_text, 16)
            if len(body) + size > MAX_BODY:
                raise _BadFraming(413, "Request.TooLarge", f"The request body is larger than {MAX_BODY} bytes.")
            if size == 0:
                break
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _BadFraming(400, "Request.InvalidChunk", "Malformed chunked request body.")
            body += chunk
        for _ in range(100):  # trailers, up to the empty line
            if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                return bytes(body)
        raise _BadFraming(400, "Request.InvalidChunk", "Too many trailer fields.")

    def _body(self) -> bytes:
        coding = self.headers.get_all("Transfer-Encoding")
        if coding:
            if [c.strip().lower() for c in ",".join(coding).split(",")] != ["chunked"]:
                raise _BadFraming(501, "NotImplemented", "Only the chunked transfer coding is supported.")
            if self.headers.get("Content-Length") is not None:
                self.close_connection = True  # both framings: do not trust what follows (RFC 9112 §6.1)
            return self._chunked()
        lengths = self.headers.get_all("Content-Length")
        length = _length(lengths) if lengths else 0
        return self.rfile.read(length) if length else b""

    def _send(self, response: FakeResponse) -> None:
        content = response.content() if response.has_body else b""
        self.send_response(response.status)
        if response.has_body:  # a 204 has no body: no Content-Type, and it must not send Content-Length
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.has_body:
            self.send_header("Content-Length", str(len(content)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if content:
            self.wfile.write(content)

    def _serve(self) -> None:
        fake = self.server.fake
        try:
            body = self._body()
        except _BadFraming as bad:
            self.close_connection = True
            self._send(bad.response)
            return
        path, _, query = self.path.partition("?")
        request = FakeRequest(
            method=self.command,
            path=unquote(path),
            query=tuple(parse_qsl(query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        outcome = fake.exchange(request)
        fake.deliver(outcome.emissions)
        if outcome.delay:
            time.sleep(outcome.delay)
        if outcome.response is None or outcome.lost is not None:
            self.close_connection = True  # connect: never answered; read_timeout: processed, the answer is lost
            return
        self._send(outcome.response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 resets connections under a burst of concurrent clients.
    request_queue_size = 128
    fake: FakeOrderCloud

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client went away (a reset, a broken pipe): nothing to report
        super().handle_error(request, client_address)


class FakeServer:
    """A fake served over HTTP/1.1 on loopback, at :attr:`url`."""

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
        """The address the server listens on (``127.0.0.1`` by default)."""
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        """The port the server listens on: the one asked for, or the free one picked for ``port=0``."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL to give a client (``http://127.0.0.1:PORT``)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeServer:
        """Start serving on a daemon thread and return the server (call it once)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and wait (up to 5 seconds) for the thread to end."""
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
