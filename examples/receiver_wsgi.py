# Shows: the same delivery endpoint as a WSGI app (`app`) with a plain handler, for gunicorn, waitress or any
# WSGI server: `OC_HTTP_SECRET=... gunicorn receiver_wsgi:app` (from examples/). `python examples/receiver_wsgi.py`
# has FakeOrderCloud deliver signed events to it in-process (httpx.WSGITransport) and prints each answer.
from __future__ import annotations

import os
import secrets

import httpx

from ordercloud_tracking.messages import OrderLineMessage, OrderSubmitted, SessionIdentified
from ordercloud_tracking.models.commerce import LineItem
from ordercloud_tracking.provisioning import ensure_tracking
from ordercloud_tracking.receiver import Delivery, Receiver, sign_payload, wsgi_app
from ordercloud_tracking.testing import STOREFRONT_CLIENT_ID, FakeOrderCloud

if __name__ == "__main__":  # the in-process demo below signs its own deliveries: a throwaway secret, never served
    os.environ.setdefault("OC_HTTP_SECRET", secrets.token_urlsafe(32))

# The Http target's Secret: no fallback, a receiver without it must not start.
SECRET = os.environ.get("OC_HTTP_SECRET", "")
if not SECRET:
    raise RuntimeError("OC_HTTP_SECRET is not set: export the Secret of your delivery config's Http target")

handled: list[str] = []


def handle(delivery: Delivery) -> None:
    """Called once per unique, verified delivery (a WSGI handler is a plain function)."""
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


app = wsgi_app(handle, Receiver(SECRET))


def main() -> None:
    # 1. OrderCloud's side, played by the fake: it POSTs each event to `app` through httpx.WSGITransport.
    fake = FakeOrderCloud(http_delivery=httpx.WSGITransport(app=app))
    with fake.client() as admin:
        ensure_tracking(
            admin,
            client_id=STOREFRONT_CLIENT_ID,
            delivery_config={
                "Name": "Receiver demo",
                "DeliveryTargets": {"Http": {"Endpoint": "https://shop.example/oc/events", "Secret": SECRET}},
            },
        )
    shopper = fake.shopper(anon_user_id="beacon-42")
    shopper.client.cart.add_line_item(LineItem(product_id="SKU-CAP", quantity=1))
    shopper.login("john", "john-password")
    for record in fake.deliveries:
        print(f"OrderCloud delivered {record.event_type}: HTTP {record.status}")

    # 2. The same endpoint, called directly: a redelivery, a tampered body, no signature, a GET.
    sample = fake.deliveries[0]
    body, signed = sample.raw, {"x-oc-hash": sign_payload(sample.raw, SECRET), "content-type": "application/json"}
    tampered = body.replace(b"SKU-CAP", b"SKU-MUG")
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://receiver.test") as http:
        answers = {
            "redelivery of the same body": http.post("/oc/events", content=body, headers=signed),
            "tampered body": http.post("/oc/events", content=tampered, headers=signed),
            "no x-oc-hash": http.post("/oc/events", content=body),
            "GET": http.get("/oc/events"),
        }
    for what, response in answers.items():
        print(f"{what:<28} -> {response.status_code} {response.text}")
    print("handled:", *handled, sep="\n  ")
    fake.close()


if __name__ == "__main__":
    main()
