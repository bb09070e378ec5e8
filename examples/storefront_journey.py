# Shows: a storefront backend on the synchronous client, end to end on FakeOrderCloud: provision tracking,
# an anonymous shopper (beacon ID as anonuserid) adds and updates lines, logs in (TransferAnonUserOrder),
# submits, and every delivery the receiver endpoint verified is printed. Run: python examples/storefront_journey.py
from __future__ import annotations

import httpx

from ordercloud_tracking import OrderCloud
from ordercloud_tracking.identity import ShopperSession
from ordercloud_tracking.messages import OrderLineMessage, OrderSubmitted, SessionIdentified, TrackingMessage
from ordercloud_tracking.models.commerce import LineItem
from ordercloud_tracking.provisioning import ensure_tracking
from ordercloud_tracking.receiver import Delivery, Receiver, wsgi_app
from ordercloud_tracking.testing import STOREFRONT_CLIENT_ID, FakeOrderCloud

HTTP_SECRET = "example-http-secret"  # noqa: S105 - the Http target's Secret (keep yours in a secret store)
BEACON_ID = "7c9e6679742540de944be07fc1f90ae7"  # the Send/Discover beacon ID read from the browser


def describe(delivery: Delivery) -> str:
    """One line per verified delivery: what it says and who it is about."""
    message = delivery.message
    if not isinstance(message, TrackingMessage):  # an UnknownMessage: a type this SDK does not know
        return f"unknown message {message.type_name!r}"
    who = f"user={message.user_id} anonymous={message.anonymous_id}"
    if isinstance(message, SessionIdentified):
        what = f"{message.first_name} {message.last_name} <{message.email}> logged in"
    elif isinstance(message, OrderLineMessage) and message.line_item is not None:
        line = message.line_item
        sku = line.product.product_id if line.product is not None else None
        what = f"order {message.order_id} line {line.line_id}: {sku} x {line.quantity} @ {line.price}"
    elif isinstance(message, OrderSubmitted):
        what = f"order {message.order_id} submitted, total {message.order_total} {message.currency}"
    else:
        what = "(no line)"
    return f"{type(message).__name__:<17} {what}; {who}"


def main() -> None:
    received: list[Delivery] = []
    endpoint = wsgi_app(received.append, Receiver(HTTP_SECRET))  # what you would serve at /oc/events
    fake = FakeOrderCloud(http_delivery=httpx.WSGITransport(app=endpoint))  # the fake POSTs to it in-process

    with fake.client() as admin:  # admin credentials of the fake's seed
        plan = ensure_tracking(
            admin,
            client_id=STOREFRONT_CLIENT_ID,
            delivery_config={
                "ID": "dc-storefront",
                "Name": "Storefront receiver",
                "DeliveryTargets": {"Http": {"Endpoint": "https://shop.example/oc/events", "Secret": HTTP_SECRET}},
            },
        )
    print(plan)

    # The storefront's base client has no credentials of its own: each ShopperSession gets its own tokens.
    # In production: OrderCloud(client_id=STOREFRONT_CLIENT_ID, environment="sandbox", region="us-west").
    http = httpx.Client(transport=fake.transport())  # the SDK never closes an http_client it was given
    storefront = OrderCloud(client_id=STOREFRONT_CLIENT_ID, base_url=fake.base_url, http_client=http)
    shopper = ShopperSession.start(storefront, anon_user_id=BEACON_ID)  # anonymous token with anonuserid
    mug = shopper.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=2))
    shopper.client.cart.add_line_item(LineItem(product_id="SKU-TEE", quantity=1))
    assert mug.id is not None
    shopper.client.cart.patch_line_item(mug.id, {"Quantity": 3})
    print(f"anonymous order {shopper.order_id} for beacon {shopper.anon_user_id}")

    transferred = shopper.login("jane", "jane-password")  # password grant, then TransferAnonUserOrder
    order = shopper.client.cart.submit(order_id=transferred)
    print(f"jane submitted {order.id}: {order.status}, total {order.total} {order.currency}")

    print(f"{len(received)} deliveries verified (x-oc-hash) by the endpoint:")
    for delivery in received:
        print("  " + describe(delivery))
    http.close()
    fake.close()


if __name__ == "__main__":
    main()
