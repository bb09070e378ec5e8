# Shows: a tracking-delivery endpoint as an ASGI app (`app`) that verifies x-oc-hash, de-duplicates and
# dispatches on the message type. Serve it with `OC_HTTP_SECRET=... uvicorn receiver_asgi:app` (from examples/);
# `python examples/receiver_asgi.py` has FakeOrderCloud deliver signed events to it in-process and prints each answer.
from __future__ import annotations

import asyncio
import os
import secrets

import httpx

from ordercloud_tracking.messages import OrderLineMessage, OrderSubmitted, SessionIdentified
from ordercloud_tracking.models.commerce import LineItem
from ordercloud_tracking.provisioning import ensure_tracking
from ordercloud_tracking.receiver import Delivery, Receiver, asgi_app, sign_payload
from ordercloud_tracking.testing import STOREFRONT_CLIENT_ID, FakeOrderCloud

if __name__ == "__main__":  # the in-process demo below signs its own deliveries: a throwaway secret, never served
    os.environ.setdefault("OC_HTTP_SECRET", secrets.token_urlsafe(32))

# --8<-- [start:app]
# The Http target's Secret: no fallback, a receiver without it must not start. While you rotate it, pass
# both: Receiver([new_secret, old_secret]).
SECRET = os.environ.get("OC_HTTP_SECRET", "")
if not SECRET:
    raise RuntimeError("OC_HTTP_SECRET is not set: export the Secret of your delivery config's Http target")
handled: list[str] = []


async def handle(delivery: Delivery) -> None:
    """Called once per unique, verified delivery. Raise to answer 500 (OrderCloud's retry is then processed)."""
    message = delivery.message
    if isinstance(message, SessionIdentified):
        handled.append(f"login of {message.user_id} ({message.email})")
    elif isinstance(message, OrderLineMessage):
        line = message.line_item
        handled.append(f"line {line.line_id if line else None} of order {message.order_id} for {message.anonymous_id}")
    elif isinstance(message, OrderSubmitted):
        handled.append(f"order {message.order_id} submitted by {message.user_id}, total {message.order_total}")
    else:  # an UnknownMessage: a newer event type, kept raw in message.data
        handled.append(f"unknown message {message.type_name!r}")


# Deliveries are de-duplicated per process (MemoryDedupeStore); with several workers pass a shared
# DedupeStore (e.g. Redis SET NX / DEL), see the receiving guide.
app = asgi_app(handle, Receiver(SECRET))
# --8<-- [end:app]


async def main_async() -> None:
    # 1. OrderCloud's side, played by the fake: it POSTs each event to `app` through httpx.ASGITransport.
    fake = FakeOrderCloud(http_delivery=httpx.ASGITransport(app=app))
    async with fake.async_client() as admin:
        await ensure_tracking(
            admin,
            client_id=STOREFRONT_CLIENT_ID,
            delivery_config={
                "Name": "Receiver demo",
                "DeliveryTargets": {"Http": {"Endpoint": "https://shop.example/oc/events", "Secret": SECRET}},
            },
        )
    shopper = await fake.async_shopper(anon_user_id="beacon-42")
    await shopper.client.cart.add_line_item(LineItem(product_id="SKU-CAP", quantity=1))
    for record in fake.deliveries:
        print(
            f"OrderCloud delivered {record.event_type}: HTTP {record.status} (x-oc-hash {record.headers['x-oc-hash']})"
        )

    # 2. The same endpoint, called directly: a redelivery, a tampered body, no signature, a GET.
    sample = fake.deliveries[0]
    body, signed = sample.raw, {"x-oc-hash": sign_payload(sample.raw, SECRET), "content-type": "application/json"}
    tampered = body.replace(b"SKU-CAP", b"SKU-MUG")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver.test") as http:
        answers = {
            "redelivery of the same body": await http.post("/oc/events", content=body, headers=signed),
            "tampered body": await http.post("/oc/events", content=tampered, headers=signed),
            "no x-oc-hash": await http.post("/oc/events", content=body),
            "GET": await http.get("/oc/events"),
        }
    for what, response in answers.items():
        print(f"{what:<28} -> {response.status_code} {response.text}")
    print("handled:", *handled, sep="\n  ")
    fake.close()


def main() -> None:
    asyncio.run(main_async())


if __name__ == "__main__":
    main()
