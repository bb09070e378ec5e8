"""The ASGI apps ``bench_receiver_server`` serves under uvicorn, one route each, and the bodies they get.

* ``/ours``    — :func:`ordercloud_tracking.receiver.asgi_app` with the default :class:`Receiver`
  (memory dedupe) and an ``async`` no-op handler;
* ``/floor``   — what any verifying receiver must do: read the body, check ``x-oc-hash`` (HMAC-SHA256,
  constant-time compare), ``json.loads`` it, answer 200;
* ``/trivial`` — read the body and answer 200.

Served as ``uvicorn _receiver_apps:app`` (one worker); nothing here touches the network.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

SECRET = "bench-secret-value"
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_OK = b'{"status":"ok"}'
_START_OK = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(_OK)).encode())],
}
_START_403 = {**_START_OK, "status": 403}


def message_line(i: int) -> dict[str, Any]:
    return {
        "LineID": f"li-{i:04d}",
        "Product": {
            "ProductID": f"SKU-{i:05d}",
            "ProductName": f"Stoneware mug no. {i}",
            "ProductDescription": "Hand-glazed stoneware mug, 350 ml, dishwasher safe.",
            "Price": 12.95,
            "Variant": {"VariantName": "Blue", "VariantDescription": "Blue glaze, 350 ml"},
            "xp": {"Brand": "Acme", "Images": [{"Url": f"https://cdn.example.com/p/{i}.jpg"}]},
        },
        "Quantity": 1 + i % 4,
        "Price": 12.95,
        "LineTotal": round(12.95 * (1 + i % 4) - (1.0 if i % 5 == 0 else 0.0), 2),
        "LineSubTotal": round(12.95 * (1 + i % 4), 2),
        "xp": {"GiftWrap": i % 7 == 0},
    }


def order_message(lines: int, order_id: str = "o-bench-1") -> dict[str, Any]:
    items = [message_line(i) for i in range(lines)]
    subtotal = round(sum(item["LineSubTotal"] for item in items), 2)
    total = round(sum(item["LineTotal"] for item in items) + 7.5, 2)
    return {
        "UserContext": {"ID": "buyer01", "AnonymousId": "7c9e6679742540de944be07fc1f90ae7"},
        "OrderID": order_id,
        "Currency": "USD",
        "Email": "jane@example.com",
        "OrderDate": "2024-05-01T12:00:00+00:00",
        "OrderStatus": "Open",
        "OrderTotal": total,
        "OrderSubtotal": subtotal,
        "Payments": [{"ID": "p-1", "Type": "CreditCard", "Amount": total, "xp": {"CardType": "Visa"}}],
        "LineItems": items,
        "xp": {"Channel": "web"},
    }


def line_message(order_id: str, line: int) -> dict[str, Any]:
    return {
        "UserContext": {"ID": None, "AnonymousId": "7c9e6679742540de944be07fc1f90ae7"},
        "Language": "en",
        "Currency": "USD",
        "Email": None,
        "OrderId": order_id,
        "LineItem": message_line(line),
    }


def envelope(namespace: str, payload: dict[str, Any]) -> bytes:
    """The body OrderCloud POSTs to an ``Http`` target (reference §15), compact JSON."""
    return json.dumps({"Headers": {"type": namespace}, "Payload": payload}, separators=(",", ":")).encode()


def order_bodies(count: int, lines: int = 50) -> list[bytes]:
    return [
        envelope("sitecore.ordercloud.messages.orders.submitted", order_message(lines, f"o-bench-{i}"))
        for i in range(count)
    ]


def line_bodies(count: int) -> list[bytes]:
    return [
        envelope("sitecore.ordercloud.messages.orders.lines.added", line_message(f"o-bench-{i}", i))
        for i in range(count)
    ]


async def _read_body(receive: Receive) -> bytes:
    event = await receive()
    body = event.get("body", b"")
    if not event.get("more_body", False):
        return body  # type: ignore[no-any-return]
    chunks = [body]
    while event.get("more_body", False):
        event = await receive()
        chunks.append(event.get("body", b""))
    return b"".join(chunks)


async def _respond(send: Send, start: MutableMapping[str, Any]) -> None:
    await send(start)
    await send({"type": "http.response.body", "body": _OK, "more_body": False})


_KEY = SECRET.encode()


async def floor(scope: Scope, receive: Receive, send: Send) -> None:
    body = await _read_body(receive)
    signature = next((value for name, value in scope["headers"] if name == b"x-oc-hash"), b"")
    expected = base64.b64decode(signature)
    if not hmac.compare_digest(hmac.digest(_KEY, body, "sha256"), expected):
        await _respond(send, _START_403)
        return
    json.loads(body)
    await _respond(send, _START_OK)


async def trivial(scope: Scope, receive: Receive, send: Send) -> None:
    await _read_body(receive)
    await _respond(send, _START_OK)


def _ours() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    from ordercloud_tracking.receiver import Receiver, asgi_app

    async def handler(delivery: object) -> None:
        return None

    return asgi_app(handler, Receiver(SECRET))


ours = _ours()
ROUTES = {"/ours": ours, "/floor": floor, "/trivial": trivial}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await ROUTES[scope["path"]](scope, receive, send)
