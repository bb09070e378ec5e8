"""Shared pieces of the benchmarks: a loopback OrderCloud stand-in, realistic bodies, timing, and rows.

Rules (DESIGN §6): every benchmark runs its subjects side by side in one process launch, against the
same loopback server, interleaved round by round so that drift hits all of them equally; the result
is a *ratio* to a named base (the peer SDK ``ordercloud-python`` or raw httpx), never an absolute time.
Nothing here touches the network beyond 127.0.0.1.

The row format every ``bench_*.run()`` returns (``run.py`` turns them into ``docs/benchmarks.md``)::

    {"benchmark": "tracking_events.get (sync)", "subject": "ordercloud_tracking OrderCloud",
     "median_s": 2.1e-4, "base": "ordercloud-python SyncOrderCloudClient", "base_median_s": 3.5e-4,
     "ratio": 0.6, "target": "<= 0.8x", "met": True}

Optional keys: ``spread`` (the relative interquartile range of the subject's per-round medians, a
noise indicator), ``note`` (one line shown under the table). A row whose ``target`` is ``""`` is
informational: ``met`` is ``None`` there.

The server
----------
:class:`LoopbackServer` is a tiny HTTP/1.1 keep-alive server on raw sockets (one thread per
connection, every response body pre-encoded), so that per request it does little more than one
``recv`` and one ``sendall``. By default it runs in a *separate process* (``mode="process"``): a
server thread inside the measured process would take the GIL from the client under test and add its
own CPU time to every subject; in its own process it only adds loopback latency. ``mode="thread"``
is there for comparison (or set ``BENCH_SERVER_MODE=thread``). :func:`server_floor` measures what one request costs with a raw-socket
client, i.e. the part of every figure that is not client cost.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "LoopbackServer",
    "Timing",
    "access_token",
    "async_environment_note",
    "ROWS_MARKER",
    "atime_interleaved",
    "format_seconds",
    "format_table",
    "import_time",
    "line_item",
    "line_items_page",
    "machine_info",
    "main",
    "module_hidden",
    "row",
    "server_floor",
    "time_interleaved",
    "tracking_event",
]

CLIENT_ID = "A1B2C3D4-0000-4000-8000-00000000B3C4"
CLIENT_SECRET = "bench-client-secret-not-a-real-one"  # loopback only

# ------------------------------------------------------------------------------------------ bodies


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def access_token(*, expires_in: int = 36000) -> str:
    """A JWT shaped like OrderCloud's (unsigned: nothing here verifies it)."""
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "kid": "bench"}
    claims = {
        "usr": "bench-integration",
        "cid": CLIENT_ID.lower(),
        "u": "1234567",
        "usrtype": "admin",
        "role": ["FullAccess", "TrackingEventAdmin", "TrackingEventReader"],
        "iss": "https://auth.ordercloud.io",
        "aud": "https://api.ordercloud.io",
        "exp": now + expires_in,
        "nbf": now - 5,
    }
    signature = _b64(b"\x00" * 256)
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}.{signature}"


def tracking_event(event_id: str = "te-submit-web") -> dict[str, Any]:
    """A ``TrackingEvent`` as ``GET /v1/integrations/trackingEvents/{id}`` returns it (reference §1.2)."""
    return {
        "ID": event_id,
        "EventType": "OrderSubmitted",
        "ClientID": CLIENT_ID,
        "Name": "Web storefront order submitted",
        "ConfigData": {"Channel": "web", "IncludeLineItems": True, "Market": "en-GB"},
        "DeliveryConfigID": "dc-send-and-http",
    }


def _address(i: int, kind: str) -> dict[str, Any]:
    return {
        "ID": f"addr-{kind}-{i % 7}",
        "DateCreated": "2025-11-02T08:15:42.113+00:00",
        "CompanyName": "Northwind Outfitters Ltd" if kind == "from" else None,
        "FirstName": "Ada" if kind == "ship" else None,
        "LastName": "Lovelace" if kind == "ship" else None,
        "Street1": f"{100 + i} Harbour Street",
        "Street2": "Unit 4" if i % 3 == 0 else None,
        "City": "Bristol",
        "State": None,
        "Zip": "BS1 5TT",
        "Country": "GB",
        "Phone": "+44 117 496 0000",
        "AddressName": "Home" if kind == "ship" else "Main warehouse",
        "xp": {"Verified": True, "DeliveryNotes": "Leave with reception"},
    }


def line_item(i: int, order_id: str = "o-bench-1") -> dict[str, Any]:
    """A hydrated ``LineItem`` (reference §7.2-7.3): Product, Variant, Specs, addresses, money, dates, xp."""
    quantity = 1 + i % 4
    unit = round(9.99 + (i % 17) * 3.25, 2)
    subtotal = round(unit * quantity, 2)
    discount = round(subtotal * 0.1, 2) if i % 5 == 0 else 0
    return {
        "ID": f"li-{i:04d}",
        "ProductID": f"prod-{i % 40:03d}",
        "Quantity": quantity,
        "BundleItemID": None,
        "IsBundle": False,
        "DateAdded": f"2026-03-14T10:{i % 60:02d}:33.{i % 1000:03d}+00:00",
        "QuantityShipped": 0,
        "UnitPrice": unit,
        "PromotionDiscount": discount,
        "LineTotal": round(subtotal - discount, 2),
        "LineSubtotal": subtotal,
        "CostCenter": None,
        "DateNeeded": "2026-03-21T00:00:00+00:00" if i % 6 == 0 else None,
        "ShippingAccount": None,
        "ShippingAddressID": f"addr-ship-{i % 7}",
        "ShipFromAddressID": "addr-from-0",
        "Product": {
            "ID": f"prod-{i % 40:03d}",
            "Name": f"Merino Crew Sweater {i % 40}",
            "Description": "Midweight merino crew neck, machine washable, responsibly sourced wool.",
            "Returnable": True,
            "QuantityMultiplier": 1,
            "ShipWeight": 0.45,
            "ShipHeight": 4.0,
            "ShipWidth": 30.0,
            "ShipLength": 38.5,
            "DefaultSupplierID": "sup-northwind",
            "ParentID": f"prod-parent-{i % 10}",
            "xp": {
                "Brand": "Northwind",
                "Category": "knitwear",
                "Images": [{"Url": f"https://cdn.example.com/p/{i % 40}.jpg"}],
            },
        },
        "Variant": {
            "ID": f"prod-{i % 40:03d}-{('S', 'M', 'L', 'XL')[i % 4]}",
            "Name": f"Merino Crew Sweater {i % 40}, size {('S', 'M', 'L', 'XL')[i % 4]}",
            "Description": None,
            "ShipWeight": 0.45,
            "ShipHeight": None,
            "ShipWidth": None,
            "ShipLength": None,
            "xp": {"Sku": f"NW-MCS-{i % 40:03d}-{i % 4}"},
        },
        "ShippingAddress": _address(i, "ship"),
        "ShipFromAddress": _address(0, "from"),
        "SupplierID": "sup-northwind",
        "InventoryRecordID": None,
        "PriceScheduleID": f"ps-{i % 40:03d}",
        "IsOnSale": i % 5 == 0,
        "PriceOverridden": False,
        "Specs": [
            {
                "SpecID": "size",
                "Name": "Size",
                "OptionID": ("S", "M", "L", "XL")[i % 4],
                "Value": ("Small", "Medium", "Large", "Extra large")[i % 4],
                "PriceMarkupType": "NoMarkup",
                "PriceMarkup": None,
            },
            {
                "SpecID": "colour",
                "Name": "Colour",
                "OptionID": "navy",
                "Value": "Navy",
                "PriceMarkupType": "AmountPerQuantity",
                "PriceMarkup": 2.5,
            },
        ],
        "IncomingOrderID": None,
        "OutgoingOrderID": order_id,
        "InvitationID": None,
        "xp": {"GiftWrap": i % 2 == 0, "Personalisation": {"Text": "Happy birthday"} if i % 9 == 0 else None},
    }


def line_items_page(n: int = 100, order_id: str = "o-bench-1") -> dict[str, Any]:
    """``ListPage<LineItem>`` with ``n`` hydrated items (reference §7.8)."""
    return {
        "Items": [line_item(i, order_id) for i in range(n)],
        "Meta": {"Page": 1, "PageSize": n, "TotalCount": n, "TotalPages": 1, "ItemRange": [1, n], "NextPageKey": None},
    }


# ------------------------------------------------------------------------------------------ server

_REASONS = {200: b"OK", 401: b"Unauthorized", 404: b"Not Found", 405: b"Method Not Allowed"}


def _response(status: int, body: bytes) -> bytes:
    head = (
        b"HTTP/1.1 %d %s\r\n"
        b"Content-Type: application/json; charset=utf-8\r\n"
        b"Content-Length: %d\r\n"
        b"Date: Sat, 14 Mar 2026 10:21:33 GMT\r\n"
        b"Cache-Control: no-cache\r\n"
        b"\r\n"
    ) % (status, _REASONS.get(status, b"Error"), len(body))
    return head + body


def _error(status: int, code: str, message: str) -> bytes:
    return _response(status, json.dumps({"Errors": [{"ErrorCode": code, "Message": message, "Data": None}]}).encode())


class _Routes:
    """Pre-encoded responses; ``respond`` maps a request head (and body) to bytes."""

    def __init__(self, page_size: int) -> None:
        token = json.dumps({"access_token": access_token(), "token_type": "bearer", "expires_in": 36000}).encode()
        self.token = _response(200, token)
        self.page = _response(200, json.dumps(line_items_page(page_size)).encode())
        self.events: dict[bytes, bytes] = {}
        self.unauthorized = _error(401, "InvalidToken", "Access token is invalid or expired.")

    def respond(self, method: bytes, target: bytes, head: bytes) -> bytes:
        path = target.split(b"?", 1)[0]
        if path == b"/oauth/token":
            return self.token if method == b"POST" else _error(405, "MethodNotAllowed", "Use POST")
        if b"\nauthorization: bearer " not in head.lower():
            return self.unauthorized
        if method != b"GET":
            return _error(405, "MethodNotAllowed", "The benchmark server only answers GET under /v1")
        if path.startswith(b"/v1/integrations/trackingEvents/"):
            event_id = path.rsplit(b"/", 1)[1]
            cached = self.events.get(event_id)
            if cached is None:
                body = json.dumps(tracking_event(event_id.decode("ascii", "replace"))).encode()
                cached = self.events[event_id] = _response(200, body)
            return cached
        if path == b"/v1/cart/lineitems" or (path.startswith(b"/v1/orders/") and path.endswith(b"/lineitems")):
            return self.page
        return _error(404, "NotFound", f"No route for {path.decode('ascii', 'replace')}")


def _serve_connection(conn: socket.socket, routes: _Routes) -> None:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffer = b""
    with conn:
        while True:
            end = buffer.find(b"\r\n\r\n")
            while end < 0:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
                end = buffer.find(b"\r\n\r\n")
            head, buffer = buffer[: end + 2], buffer[end + 4 :]
            request_line, _, _ = head.partition(b"\r\n")
            method, target, _ = request_line.split(b" ", 2)
            lower = head.lower()
            at = lower.find(b"\ncontent-length:")
            if at >= 0:
                length = int(lower[at + 16 : lower.index(b"\r\n", at + 1)])
                while len(buffer) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                buffer = buffer[length:]
            conn.sendall(routes.respond(method, target, head))
            if b"\nconnection: close" in lower:
                return


def _accept_loop(listener: socket.socket, routes: _Routes) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:  # closed
            return
        threading.Thread(target=_serve_connection, args=(conn, routes), daemon=True).start()


def _listen() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    return listener


class LoopbackServer:
    """OrderCloud stand-in on 127.0.0.1: ``/oauth/token``, tracking events and line-item pages.

    >>> with LoopbackServer() as server:                      # doctest: +SKIP
    ...     httpx.get(f"{server.base_url}/v1/cart/lineitems", headers={"Authorization": "Bearer x"})
    """

    def __init__(self, *, mode: str | None = None, page_size: int = 100) -> None:
        mode = mode or os.environ.get("BENCH_SERVER_MODE", "process")
        if mode not in ("process", "thread"):
            raise ValueError("mode is 'process' or 'thread'")
        self.mode = mode
        self.page_size = page_size
        self.port = 0
        self._listener: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no ``/v1``)."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LoopbackServer:
        if self.mode == "thread":
            self._listener = _listen()
            self.port = self._listener.getsockname()[1]
            threading.Thread(target=_accept_loop, args=(self._listener, _Routes(self.page_size)), daemon=True).start()
        else:
            self._process = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "--serve", str(self.page_size)],
                stdout=subprocess.PIPE,
                stdin=subprocess.PIPE,
            )
            assert self._process.stdout is not None
            self.port = int(self._process.stdout.readline())
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._listener is not None:
            self._listener.close()
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()  # the server exits when its stdin closes
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def _serve_forever(page_size: int) -> None:
    listener = _listen()
    threading.Thread(target=_accept_loop, args=(listener, _Routes(page_size)), daemon=True).start()
    print(listener.getsockname()[1], flush=True)
    sys.stdin.read()  # until the parent closes the pipe (or dies)
    listener.close()


def server_floor(server: LoopbackServer, path: str, *, iterations: int = 300, rounds: int = 9) -> float:
    """Median seconds per keep-alive GET with a raw-socket client: loopback plus server, no client cost."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nAuthorization: Bearer x\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def once() -> None:
            conn.sendall(request)
            data = conn.recv(65536)
            end = data.find(b"\r\n\r\n")
            while end < 0:
                data += conn.recv(65536)
                end = data.find(b"\r\n\r\n")
            at = data.lower().find(b"\ncontent-length:")
            length = int(data[at + 16 : data.index(b"\r\n", at + 1)])
            while len(data) < end + 4 + length:
                data += conn.recv(65536)

        return time_interleaved({"floor": once}, iterations=iterations, rounds=rounds)["floor"].median_s


# ------------------------------------------------------------------------------------------ timing


@dataclass
class Timing:
    """Per-call seconds of one subject: one sample per round (the mean over that round's iterations)."""

    samples: list[float] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        """Interquartile range of the round samples relative to the median."""
        if len(self.samples) < 4:
            return 0.0
        q1, _, q3 = statistics.quantiles(self.samples, n=4)
        return (q3 - q1) / self.median_s


def _orders(names: Sequence[str], rounds: int) -> list[list[str]]:
    # Rotate the order every round so that no subject always runs first (or right after another).
    n = len(names)
    return [list(names[r % n :]) + list(names[: r % n]) for r in range(rounds)]


def time_interleaved(
    subjects: Mapping[str, Callable[[], object]], *, iterations: int, rounds: int, warmup: int | None = None
) -> dict[str, Timing]:
    """Call each subject ``iterations`` times per round, subjects alternating, for ``rounds`` rounds."""
    for fn in subjects.values():
        for _ in range(iterations if warmup is None else warmup):
            fn()
    timings = {name: Timing() for name in subjects}
    for order in _orders(list(subjects), rounds):
        for name in order:
            fn = subjects[name]
            gc.collect()
            started = time.perf_counter()
            for _ in range(iterations):
                fn()
            timings[name].samples.append((time.perf_counter() - started) / iterations)
    return timings


async def atime_interleaved(
    subjects: Mapping[str, Callable[[], Awaitable[object]]],
    *,
    iterations: int,
    rounds: int,
    warmup: int | None = None,
) -> dict[str, Timing]:
    """:func:`time_interleaved` for coroutine functions, all on the running event loop."""
    for fn in subjects.values():
        for _ in range(iterations if warmup is None else warmup):
            await fn()
    timings = {name: Timing() for name in subjects}
    for order in _orders(list(subjects), rounds):
        for name in order:
            fn = subjects[name]
            gc.collect()
            started = time.perf_counter()
            for _ in range(iterations):
                await fn()
            timings[name].samples.append((time.perf_counter() - started) / iterations)
    return timings


_IMPORT_PROBE = "import time, sys\nt = time.perf_counter()\n{stmt}\nsys.stdout.write(repr(time.perf_counter() - t))\n"


def import_time(statements: Mapping[str, str], *, runs: int = 15) -> dict[str, Timing]:
    """Seconds each import statement takes in a fresh interpreter (alternating, ``runs`` each).

    Only the statement is timed, not interpreter start-up, which every subject pays alike. Byte code is
    compiled by a first, untimed run of each.
    """
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    def once(stmt: str) -> float:
        out = subprocess.run(
            [sys.executable, "-c", _IMPORT_PROBE.format(stmt=stmt)], capture_output=True, text=True, check=True, env=env
        ).stdout
        return float(out)

    for stmt in statements.values():
        once(stmt)
    timings = {name: Timing() for name in statements}
    for order in _orders(list(statements), runs):
        for name in order:
            timings[name].samples.append(once(statements[name]))
    return timings


class _MissingModule:
    """A ``sys.meta_path`` finder under which ``import NAME`` fails as it does when NAME is not installed.

    The failure costs what a real one costs: the path finder scans every ``sys.path`` entry for a
    module that is not there, then the import raises ``ModuleNotFoundError``.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname == self.name:
            import importlib.machinery

            importlib.machinery.PathFinder.find_spec(f"{self.name}_is_not_installed")
            raise ModuleNotFoundError(f"No module named {self.name!r}", name=self.name)


@contextlib.contextmanager
def module_hidden(name: str) -> Any:
    """While inside, ``import name`` fails as if the distribution were not installed."""
    finder = _MissingModule(name)
    saved = sys.modules.pop(name, None)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        if saved is not None:
            sys.modules[name] = saved


def async_environment_note() -> str | None:
    """A note for async rows when httpcore pays a failed ``import sniffio`` on every request."""
    import importlib.util

    if importlib.util.find_spec("sniffio") is not None:
        return None
    return (
        "sniffio is not installed (anyio >= 4.11 no longer pulls it in), so httpcore retries a failed "
        "`import sniffio` several times per async request (encode/httpcore#1103): about 0.3 ms per request "
        "on this machine, paid equally by every async subject"
    )


# ------------------------------------------------------------------------------------------ rows


def _parse_target(target: str) -> float:
    # "<= 0.8x" -> 0.8, ">= 0.55x" -> 0.55
    return float(target.replace("<=", "").replace(">=", "").replace("x", "").strip())


def row(
    benchmark: str,
    subject: str,
    timing: Timing | float,
    base: str,
    base_timing: Timing | float,
    target: str = "",
    note: str | None = None,
) -> dict[str, Any]:
    """One result row. ``target`` is ``"<= R x"`` (met when ratio <= R), ``">= R x"`` (a throughput row:
    the ratio is base time / time, i.e. requests/s over the base's, met when >= R) or ``""`` (informational)."""
    median = timing.median_s if isinstance(timing, Timing) else timing
    base_median = base_timing.median_s if isinstance(base_timing, Timing) else base_timing
    # "<= R x": time ratio (lower is better); ">= R x": throughput ratio, base time / time (higher is better)
    higher_is_better = target.startswith(">=")
    ratio = base_median / median if higher_is_better else median / base_median
    result: dict[str, Any] = {
        "benchmark": benchmark,
        "subject": subject,
        "median_s": median,
        "base": base,
        "base_median_s": base_median,
        "ratio": ratio,
        "target": target,
        "met": ((ratio >= _parse_target(target)) if higher_is_better else (ratio <= _parse_target(target)))
        if target
        else None,
    }
    if isinstance(timing, Timing) and isinstance(base_timing, Timing):
        result["spread"] = max(timing.spread, base_timing.spread)
    if note:
        result["note"] = note
    return result


def format_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """A Markdown table of rows (also readable in a terminal)."""
    lines = [
        "| Benchmark | Subject | Median | Base | Base median | Ratio | Target | Met |",
        "|---|---|---:|---|---:|---:|---|---|",
    ]
    for r in rows:
        met = "—" if r.get("met") is None else ("yes" if r["met"] else "**no**")
        spread = f" (±{r['spread'] * 50:.0f}%)" if r.get("spread") else ""
        lines.append(
            f"| {r['benchmark']} | {r['subject']} | {format_seconds(r['median_s'])} | {r['base']} | "
            f"{format_seconds(r['base_median_s'])} | {r['ratio']:.2f}x{spread} | {r['target'] or '—'} | {met} |"
        )
    return "\n".join(lines)


def machine_info() -> dict[str, str]:
    """CPU model, cores, Python and OS of this machine."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
    }


ROWS_MARKER = "BENCH-ROWS-JSON:"


def main(run: Callable[[], list[dict[str, Any]]]) -> None:
    """Entry point of a ``bench_*.py`` run as a script: print the table; ``--json`` emits rows for run.py."""
    rows = run()
    if "--json" in sys.argv:
        print(ROWS_MARKER + json.dumps(rows))
    else:
        print(format_table(rows))
        for r in rows:
            if r.get("note"):
                print(f"- {r['benchmark']}: {r['note']}")


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "--serve":
    _serve_forever(int(sys.argv[2]) if len(sys.argv) > 2 else 100)
