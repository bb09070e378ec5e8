# Shows: testing your own tracking code with the SDK's pytest plugin: the oc_fake, oc_client and oc_shopper
# fixtures (a fresh FakeOrderCloud per test), scripted faults, and assertions on what Send and Discover receive.
# The plugin is registered when the SDK is installed; run: pytest examples/test_with_plugin.py
from __future__ import annotations

from typing import Any

import pytest

from ordercloud_tracking import OrderCloud
from ordercloud_tracking.identity import ShopperSession
from ordercloud_tracking.models.commerce import LineItem
from ordercloud_tracking.provisioning import ensure_tracking
from ordercloud_tracking.testing import STOREFRONT_CLIENT_ID, FakeOrderCloud

SEND_SITE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
SITECORE_TARGETS: dict[str, Any] = {
    "SendEvent": {"SiteID": SEND_SITE_ID, "ServiceEndpoint": "https://t.stat-track.com"},
    "DiscoverEvent": {"ClientID": "ckey", "ApiKey": "discover-key", "ServiceEndpoint": "https://discover.example/e"},
}


@pytest.fixture
def tracked(oc_client: OrderCloud) -> OrderCloud:
    """Your provisioning code, run against the fake (here: Send and Discover targets for the storefront)."""
    ensure_tracking(
        oc_client,
        client_id=STOREFRONT_CLIENT_ID,
        delivery_config={"Name": "Sitecore", "DeliveryTargets": SITECORE_TARGETS},
    )
    return oc_client


def test_provisioning_is_idempotent(tracked: OrderCloud) -> None:
    events = list(tracked.tracking_events.iter_all(filters={"ClientID": STOREFRONT_CLIENT_ID}))
    assert sorted(str(e.event_type) for e in events) == [
        "LineItemAdded",
        "LineItemUpdated",
        "OrderSubmitted",
        "UserLoggedIn",
    ]
    again = ensure_tracking(
        tracked,
        client_id=STOREFRONT_CLIENT_ID,
        delivery_config={"Name": "Sitecore", "DeliveryTargets": SITECORE_TARGETS},
    )
    assert not again.changed


def test_an_anonymous_add_reaches_send_and_discover(
    tracked: OrderCloud, oc_fake: FakeOrderCloud, oc_shopper: ShopperSession
) -> None:
    oc_shopper.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=2))

    (send,) = oc_fake.deliveries_for("LineItemAdded", target="SendEvent")
    assert send.body["actionType"] == "ADDED_TO_ORDER"
    assert send.body["ContactId"] == oc_shopper.anon_user_id  # the beacon ID, via anonuserid
    assert send.body["properties"][0]["product"]["itemQuantity"] == 2

    (discover,) = oc_fake.deliveries_for("LineItemAdded", target="DiscoverEvent")
    assert (discover.body["type"], discover.body["uuid"]) == ("a2c", oc_shopper.anon_user_id)


def test_login_keeps_the_beacon_id_on_the_order(
    tracked: OrderCloud, oc_fake: FakeOrderCloud, oc_shopper: ShopperSession
) -> None:
    oc_shopper.client.cart.add_line_item(LineItem(product_id="SKU-TEE", quantity=1))
    order_id = oc_shopper.login("jane", "jane-password")
    oc_shopper.client.cart.submit(order_id=order_id)

    assert oc_fake.requests_to("PUT", "/v1/me/orders")  # TransferAnonUserOrder was called
    (order,) = oc_fake.deliveries_for("OrderSubmitted", target="DiscoverEvent")
    assert order.body["uuid"] == oc_shopper.anon_user_id
    assert order.body["value"]["context"]["user"]["id"] == "buyer-jane"


def test_a_lost_submit_answer_is_not_resent(
    tracked: OrderCloud, oc_fake: FakeOrderCloud, oc_shopper: ShopperSession
) -> None:
    oc_shopper.client.cart.add_line_item(LineItem(product_id="SKU-CAP", quantity=1))
    oc_fake.faults.add("POST", "/v1/cart/submit", error="read_timeout")  # processed, answer lost

    order = oc_shopper.client.cart.submit()

    assert str(order.status) == "Open"  # the SDK read the order once instead of submitting twice
    assert len(oc_fake.requests_to("POST", "/v1/cart/submit")) == 1
    assert len(oc_fake.deliveries_for("OrderSubmitted", target="SendEvent")) == 1
