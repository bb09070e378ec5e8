# Shows: the storefront journey of storefront_journey.py on the native async client: AsyncOrderCloud,
# AsyncShopperSession and fake.async_client(), with the receiver served as an ASGI app the fake POSTs to
# in-process (httpx.ASGITransport). Run: python examples/storefront_journey_async.py
from __future__ import annotations

import asyncio

import httpx

from ordercloud_tracking import AsyncOrderCloud
from ordercloud_tracking.identity import AsyncShopperSession
from ordercloud_tracking.messages import TrackingMessage
from ordercloud_tracking.models.commerce import LineItem
from ordercloud_tracking.provisioning import ensure_tracking
from ordercloud_tracking.receiver import Delivery, Receiver, asgi_app
from ordercloud_tracking.testing import STOREFRONT_CLIENT_ID, FakeOrderCloud

HTTP_SECRET = "example-http-secret"  # noqa: S105 - the Http target's Secret (keep yours in a secret store)
BEACON_ID = "7c9e6679742540de944be07fc1f90ae7"  # the Send/Discover beacon ID read from the browser


async def main() -> None:
    received: list[Delivery] = []

    async def handle(delivery: Delivery) -> None:  # an async handler runs on the event loop
        received.append(delivery)

    endpoint = asgi_app(handle, Receiver(HTTP_SECRET))
    fake = FakeOrderCloud(http_delivery=httpx.ASGITransport(app=endpoint))

    async with fake.async_client() as admin:
        plan = await ensure_tracking(  # with an AsyncOrderCloud, ensure_tracking returns a coroutine
            admin,
            client_id=STOREFRONT_CLIENT_ID,
            delivery_config={
                "ID": "dc-storefront",
                "Name": "Storefront receiver",
                "DeliveryTargets": {"Http": {"Endpoint": "https://shop.example/oc/events", "Secret": HTTP_SECRET}},
            },
        )
    print(plan.summary())

    # The storefront's base client has no credentials: each shopper session gets its own tokens. The SDK
    # never closes an http_client it was given, so the caller closes it.
    async with httpx.AsyncClient(transport=fake.async_transport()) as http:
        storefront = AsyncOrderCloud(client_id=STOREFRONT_CLIENT_ID, base_url=fake.base_url, http_client=http)
        shopper = await AsyncShopperSession.start(storefront, anon_user_id=BEACON_ID)
        mug = await shopper.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=2))
        await shopper.client.cart.add_line_item(LineItem(product_id="SKU-TEE", quantity=1))
        assert mug.id is not None
        await shopper.client.cart.patch_line_item(mug.id, {"Quantity": 3})
        print(f"anonymous order {shopper.order_id} for beacon {shopper.anon_user_id}")

        transferred = await shopper.login("jane", "jane-password")  # password grant, then TransferAnonUserOrder
        order = await shopper.client.cart.submit(order_id=transferred)
        print(f"jane submitted {order.id}: {order.status}, total {order.total} {order.currency}")

    print(f"{len(received)} deliveries verified (x-oc-hash) by the ASGI endpoint:")
    for delivery in received:
        message = delivery.message
        if isinstance(message, TrackingMessage):
            print(f"  {type(message).__name__:<17} user={message.user_id} anonymous={message.anonymous_id}")
    fake.close()


if __name__ == "__main__":
    asyncio.run(main())
