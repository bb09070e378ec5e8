"""Issue 10: receiver throughput under a real server (uvicorn, one worker, 32 keep-alive connections).

The server is ``uvicorn`` (one worker, asyncio loop, its default HTTP parser) in a separate process,
serving the apps of ``_receiver_apps`` on one port, one route each. A load loop in this process keeps 32
keep-alive connections busy on 127.0.0.1: each round sends a fixed number of requests to one subject
(count-bounded, and stopped early at a time bound), subjects interleaved round by round. Every request
is an envelope OrderCloud would POST (``{"Headers": {"type": …}, "Payload": …}``, signed), from a pool
of distinct bodies (the memory dedupe store sees several entities and states).

Rows (throughput, higher is better: *Ratio* is requests/s of the subject over requests/s of the base):

* ``asgi_app`` with a signed 50-line ``OrderSubmitted`` (~22 KB) vs a *floor app* that only checks the
  HMAC and calls ``json.loads`` — target ≥ 0.55x;
* ``asgi_app`` with a 1-line ``LineItemAdded`` vs a *trivial app* that reads the body and answers 200 —
  target ≥ 0.6x.

uvicorn is installed into the venv by ``make bench`` (never a dependency of the package).
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Timing, main, row
from _receiver_apps import SECRET, line_bodies, order_bodies

from ordercloud_tracking.receiver import sign_payload

HERE = Path(__file__).resolve().parent
CONNECTIONS = 32
ROUNDS = 7
ORDER_REQUESTS = 1_500  # per round and subject
LINE_REQUESTS = 4_000
ROUND_TIME_LIMIT_S = 30.0  # a round stops early past this (the count is what was done by then)
POOL = 64  # distinct bodies per kind


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class UvicornServer:
    """``uvicorn _receiver_apps:app`` in a child process on a free loopback port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> UvicornServer:
        command = [
            sys.executable, "-m", "uvicorn", "_receiver_apps:app", "--host", "127.0.0.1", "--port", str(self.port),
            "--workers", "1", "--loop", "asyncio", "--no-access-log", "--log-level", "warning", "--lifespan", "off",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
        self.process = subprocess.Popen(command, cwd=HERE, env=env)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not start") from None
                time.sleep(0.05)

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def requests_for(path: str, bodies: list[bytes]) -> list[bytes]:
    return [
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: OrderCloud\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nx-oc-hash: {sign_payload(body, SECRET)}\r\n\r\n"
        ).encode()
        + body
        for body in bodies
    ]


async def _connection(port: int, requests: list[bytes], state: dict[str, Any]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while state["sent"] < state["total"] and time.perf_counter() < state["deadline"]:
            index = state["sent"]
            state["sent"] += 1
            writer.write(requests[index % len(requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"unexpected answer: {head[:40]!r}")
            at = head.lower().find(b"\r\ncontent-length:")
            await reader.readexactly(int(head[at + 17 : head.index(b"\r\n", at + 2)]))
            state["done"] += 1
    finally:
        writer.close()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``; ``None`` elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(port: int, requests: list[bytes], total: int, pid: int) -> tuple[float, float | None]:
    """Seconds per request over one bounded run of ``total`` requests on ``CONNECTIONS`` connections, and
    the server's CPU seconds per request over the same run (``None`` when unknown)."""
    state: dict[str, Any] = {"sent": 0, "done": 0, "total": total, "deadline": 0.0}
    gc.collect()
    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    state["deadline"] = started + ROUND_TIME_LIMIT_S
    await asyncio.gather(*(_connection(port, requests, state) for _ in range(CONNECTIONS)))
    elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds(pid)
    cpu = (cpu_after - cpu_before) / state["done"] if cpu_before is not None and cpu_after is not None else None
    return elapsed / state["done"], cpu


async def interleaved(
    port: int, pid: int, subjects: dict[str, list[bytes]], total: int
) -> tuple[dict[str, Timing], dict[str, Timing]]:
    """Wall-clock and server-CPU seconds per request of each subject, rounds interleaved."""
    for requests in subjects.values():  # warm-up: connections, caches, the dedupe store
        await load(port, requests, total // 4, pid)
    wall = {name: Timing() for name in subjects}
    cpu = {name: Timing() for name in subjects}
    names = list(subjects)
    for r in range(ROUNDS):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            per_request, cpu_per_request = await load(port, subjects[name], total, pid)
            wall[name].samples.append(per_request)
            if cpu_per_request is not None:
                cpu[name].samples.append(cpu_per_request)
    return wall, cpu


def run() -> list[dict[str, Any]]:
    import uvicorn

    orders, lines = order_bodies(POOL), line_bodies(POOL)
    with UvicornServer() as server:
        assert server.process is not None
        pid = server.process.pid
        order_t, order_cpu = asyncio.run(
            interleaved(
                server.port,
                pid,
                {"ours": requests_for("/ours", orders), "base": requests_for("/floor", orders)},
                ORDER_REQUESTS,
            )
        )
        line_t, line_cpu = asyncio.run(
            interleaved(
                server.port,
                pid,
                {"ours": requests_for("/ours", lines), "base": requests_for("/trivial", lines)},
                LINE_REQUESTS,
            )
        )
    size = sum(map(len, orders)) / len(orders) / 1024
    setup = f"uvicorn {uvicorn.__version__}, 1 worker, {CONNECTIONS} keep-alive connections"
    order_row = row(
        f"receiver throughput: signed 50-line OrderSubmitted envelope ({size:.0f} KB), {setup}",
        "asgi_app (Receiver, memory dedupe, async handler)",
        order_t["ours"],
        "floor app: HMAC check + json.loads",
        order_t["base"],
        ">= 0.55x",
    )
    line_row = row(
        f"receiver throughput: signed 1-line LineItemAdded envelope ({len(lines[0]) / 1024:.1f} KB), {setup}",
        "asgi_app (Receiver, memory dedupe, async handler)",
        line_t["ours"],
        "trivial app: read the body, answer 200",
        line_t["base"],
        ">= 0.6x",
    )
    for result, timing, cpu in ((order_row, order_t["ours"], order_cpu), (line_row, line_t["ours"], line_cpu)):
        capacity = ""
        if cpu["ours"].samples and cpu["base"].samples:
            ours_cpu, base_cpu = cpu["ours"].median_s, cpu["base"].median_s
            capacity = (
                f"; server CPU per request {ours_cpu * 1e6:.0f} µs vs {base_cpu * 1e6:.0f} µs for the base, i.e. "
                f"{base_cpu / ours_cpu:.2f}x its capacity per core (steadier than wall-clock on a busy machine)"
            )
        result["note"] = (
            f"Median is seconds per request (the inverse of throughput; {1 / timing.median_s:,.0f} requests/s for "
            "asgi_app); Ratio is requests/s relative to the base, higher is better; load loop on loopback, "
            f"{ROUNDS} interleaved rounds{capacity}"
        )
    return [order_row, line_row]


if __name__ == "__main__":
    main(run)
