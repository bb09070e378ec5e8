"""The fake as a real HTTP server on loopback: the SDK's own flows over real sockets, and Http deliveries
to a real receiver (``wsgi_app`` under ``wsgiref``)."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest

from ordercloud_tracking import AsyncOrderCloud, OrderCloud, TrackingEvent, TrackingEventType
from ordercloud_tracking.identity import AsyncShopperSession, ShopperSession
from ordercloud_tracking.models.commerce import OrderStatus
from ordercloud_tracking.receiver import Delivery, Receiver, wsgi_app
from ordercloud_tracking.testing import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    STOREFRONT_CLIENT_ID,
    FakeOrderCloud,
    FakeServer,
)
from tests.testing.support import CUSTOM_HEADER, SECRET, identity, provision

BEACON = "beacon-over-the-wire"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


class ReceiverServer:
    """``wsgi_app`` around a :class:`Receiver`, served by ``wsgiref`` on a free loopback port."""

    def __init__(self, *, handler_fails: bool = False) -> None:
        self.deliveries: list[Delivery] = []
        self.handler_fails = handler_fails
        receiver = Receiver(SECRET, custom_auth_header=CUSTOM_HEADER)
        self.server: WSGIServer = make_server(
            "127.0.0.1", 0, wsgi_app(self.handle, receiver), handler_class=QuietHandler
        )
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def handle(self, delivery: Delivery) -> None:
        if self.handler_fails:
            raise RuntimeError("the handler failed")
        self.deliveries.append(delivery)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/oc-hook"

    def __enter__(self) -> ReceiverServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server_fake() -> Iterator[FakeOrderCloud]:
    made = FakeOrderCloud(http_delivery="network")  # real POSTs (to loopback receivers only)
    yield made
    made.close()


@pytest.fixture
def server(server_fake: FakeOrderCloud) -> Iterator[FakeServer]:
    with server_fake.serve() as running:
        yield running


def wire_client(fake: FakeOrderCloud, server: FakeServer) -> OrderCloud:
    """A real client: its own httpx.Client, real sockets, only the fake's no-sleep retry policy."""
    return OrderCloud(
        client_id=ADMIN_CLIENT_ID,
        client_secret=ADMIN_CLIENT_SECRET,
        base_url=server.url,
        retry_policy=fake.retry_policy(),
        timeout=5.0,
    )


def test_server_url(server: FakeServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.host == "127.0.0.1"
    assert server.port > 0


def test_admin_flows_over_the_wire(server_fake: FakeOrderCloud, server: FakeServer) -> None:
    with wire_client(server_fake, server) as admin:
        admin.delivery_configs.create(
            {
                "ID": "dc-1",
                "Name": "n",
                "DeliveryTargets": {"Http": {"Endpoint": "http://127.0.0.1:9/x", "Secret": SECRET}},
            }
        )
        admin.tracking_events.create(
            TrackingEvent(
                id="te-1",
                event_type=TrackingEventType.ORDER_SUBMITTED,
                client_id=STOREFRONT_CLIENT_ID,
                name="n",
                delivery_config_id="dc-1",
            )
        )
        page = admin.tracking_events.list(filters={"EventType": "Order*|User*"}, sort_by="!ID")
        assert [event.id for event in page] == ["te-1"]
        assert admin.delivery_configs.get("dc-1").delivery_targets.http is not None
        admin.tracking_events.patch("te-1", {"Name": "Renamed over HTTP"})
        assert admin.tracking_events.get("te-1").name == "Renamed over HTTP"
    assert [entry.path for entry in server_fake.requests][:2] == ["/oauth/token", "/v1/integrations/deliveryconfig"]


def test_identity_flow_and_receiver_over_the_wire(server_fake: FakeOrderCloud, server: FakeServer) -> None:
    with ReceiverServer() as receiver, wire_client(server_fake, server) as admin:
        provision(admin, endpoint=receiver.url)
        session = ShopperSession.start(admin, client_id=STOREFRONT_CLIENT_ID, anon_user_id=BEACON)
        session.client.cart.add_line_item({"ID": "line-1", "ProductID": "SKU-MUG", "Quantity": 2})
        session.client.cart.patch_line_item("line-1", {"Quantity": 10})
        order_id = session.login("jane", "jane-password")
        order = session.client.cart.submit()
    assert (order.id, order.status, order.total) == (order_id, OrderStatus.OPEN, Decimal("110"))
    http = server_fake.deliveries_for(target="Http")
    assert [(d.event_type, d.status, d.error) for d in http] == [
        ("LineItemAdded", 200, None),
        ("LineItemUpdated", 200, None),
        ("UserLoggedIn", 200, None),
        ("OrderSubmitted", 200, None),
    ]
    assert len(receiver.deliveries) == 4  # each verified (x-oc-hash and the custom header) and parsed
    assert [identity(d.message) for d in receiver.deliveries] == [
        (BEACON, None),
        (BEACON, None),
        (None, "buyer-jane"),
        (BEACON, "buyer-jane"),
    ]
    assert server_fake.anonymous_users == [BEACON]
    assert server_fake.requests_to("PUT", "/v1/me/orders")[0].status == 204


def test_a_failing_receiver_is_retried_and_recorded(server_fake: FakeOrderCloud, server: FakeServer) -> None:
    with ReceiverServer(handler_fails=True) as receiver, wire_client(server_fake, server) as admin:
        provision(admin, event_types=["LineItemAdded"], targets=["Http"], endpoint=receiver.url)
        session = ShopperSession.start(admin, client_id=STOREFRONT_CLIENT_ID, anon_user_id=BEACON)
        session.client.cart.add_line_item({"ProductID": "SKU-CAP", "Quantity": 1})  # not affected
    (delivery,) = server_fake.deliveries
    assert (delivery.status, delivery.attempts, delivery.error) == (500, server_fake.delivery_attempts, "HTTP 500")


def test_an_unreachable_receiver_is_recorded(server_fake: FakeOrderCloud, server: FakeServer) -> None:
    with ReceiverServer() as receiver:
        closed_url = receiver.url  # nothing listens there once the receiver has stopped
    with wire_client(server_fake, server) as admin:
        provision(admin, event_types=["LineItemAdded"], targets=["Http"], endpoint=closed_url)
        session = ShopperSession.start(admin, client_id=STOREFRONT_CLIENT_ID)
        session.client.cart.add_line_item({"ProductID": "SKU-CAP", "Quantity": 1})
    (delivery,) = server_fake.deliveries
    assert delivery.status is None
    assert delivery.error is not None
    assert delivery.error.startswith("ConnectError")


@pytest.mark.parametrize("served", [False, True], ids=["in-process", "served"])
def test_without_http_delivery_the_fake_makes_no_network_traffic_and_says_so(served: bool) -> None:
    # issue 14 §1: the README flow used to POST each event to https://shop.example/... three times.
    fake = FakeOrderCloud()
    with ReceiverServer() as receiver, fake.serve() as server:
        with wire_client(fake, server) if served else fake.client() as admin:
            provision(admin, event_types=["LineItemAdded"], targets=["Http"], endpoint=receiver.url)
        session = ShopperSession.start(fake.client(), client_id=STOREFRONT_CLIENT_ID)
        session.client.cart.add_line_item({"ProductID": "SKU-CAP", "Quantity": 1})
    assert receiver.deliveries == []  # nothing reached the endpoint, though it was listening
    (delivery,) = fake.deliveries
    assert (delivery.status, delivery.attempts, delivery.ok) == (None, 0, False)
    assert delivery.error is not None
    assert delivery.error.startswith("not sent:")
    assert "http_delivery='network'" in delivery.error
    fake.close()


def test_http_delivery_network_posts_to_the_endpoint_in_process() -> None:
    fake = FakeOrderCloud(http_delivery="network")
    with ReceiverServer() as receiver, fake.client() as admin:
        provision(admin, event_types=["LineItemAdded"], targets=["Http"], endpoint=receiver.url)
        session = ShopperSession.start(fake.client(), client_id=STOREFRONT_CLIENT_ID)
        session.client.cart.add_line_item({"ProductID": "SKU-CAP", "Quantity": 1})
    assert [(d.status, d.error) for d in fake.deliveries] == [(200, None)]
    assert len(receiver.deliveries) == 1
    fake.close()


def test_an_unknown_http_delivery_word_is_refused() -> None:
    with pytest.raises(ValueError, match="http_delivery must be"):
        FakeOrderCloud(http_delivery="net")  # type: ignore[arg-type]  # the check a typo meets at run time
    fake = FakeOrderCloud()
    with pytest.raises(ValueError, match="http_delivery must be"):
        fake.http_delivery = "networks"  # type: ignore[assignment]  # the same check on the setter


def test_faults_over_the_wire(server_fake: FakeOrderCloud, server: FakeServer) -> None:
    server_fake.faults.add("GET", "/v1/integrations/trackingEvents", status=503, headers={"Retry-After": "0"})
    server_fake.faults.add("GET", "/v1/me", error="connect")  # the connection is dropped: retried for a GET
    with wire_client(server_fake, server) as admin:
        admin.tracking_events.list()
        assert admin.me.get().username == "admin"
        session = ShopperSession.start(admin, client_id=STOREFRONT_CLIENT_ID, anon_user_id=BEACON)
        session.client.cart.add_line_item({"ProductID": "SKU-TEE", "Quantity": 1})
        server_fake.faults.add("POST", "/v1/cart/submit", error="read_timeout")
        order = session.client.cart.submit()  # processed, the answer lost, the order read back
    assert order.status == OrderStatus.OPEN
    assert [e.status for e in server_fake.requests_to("GET", "/v1/integrations/trackingEvents")] == [503, 200]
    assert [e.fault for e in server_fake.requests_to("GET", "/v1/me")] == ["connect", None]
    assert [e.fault for e in server_fake.requests_to("POST", "/v1/cart/submit")] == ["read_timeout"]


async def test_async_flows_over_the_wire(server_fake: FakeOrderCloud, server: FakeServer) -> None:
    async with AsyncOrderCloud(
        client_id=ADMIN_CLIENT_ID,
        client_secret=ADMIN_CLIENT_SECRET,
        base_url=server.url,
        retry_policy=server_fake.retry_policy(),
        timeout=5.0,
    ) as admin:
        await admin.delivery_configs.create(
            {
                "ID": "dc",
                "Name": "n",
                "DeliveryTargets": {
                    "SendEvent": {
                        "SiteID": "0f8fad5b-d9cb-469f-a165-70867728950e",
                        "ServiceEndpoint": "https://send.test",
                    }
                },
            }
        )
        await admin.tracking_events.create(
            {"EventType": "OrderSubmitted", "ClientID": STOREFRONT_CLIENT_ID, "Name": "n", "DeliveryConfigID": "dc"}
        )
        session = await AsyncShopperSession.start(admin, client_id=STOREFRONT_CLIENT_ID, anon_user_id=BEACON)
        await session.client.cart.add_line_item({"ProductID": "SKU-TEE", "Quantity": 2})
        await session.login("john", "john-password")
        order = await session.client.cart.submit()
    assert (order.from_user_id, order.total) == ("buyer-john", Decimal("40"))
    (send,) = server_fake.deliveries
    assert (send.target, send.body["actionType"], send.body["ContactId"]) == ("SendEvent", "ORDER_COMPLETED", BEACON)


def test_any_http_tool_can_use_it(server: FakeServer) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
    try:
        body = f"grant_type=client_credentials&client_id={ADMIN_CLIENT_ID}&client_secret={ADMIN_CLIENT_SECRET}&scope=FullAccess"
        connection.request(
            "POST", "/oauth/token", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        token = json.loads(connection.getresponse().read())["access_token"]
        connection.request("GET", "/v1/products", headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        error = json.loads(response.read())["Errors"][0]
        connection.request(
            "GET", "/v1/integrations/trackingEvents?pageSize=101", headers={"Authorization": f"Bearer {token}"}
        )
        too_big = connection.getresponse()
        too_big_code = json.loads(too_big.read())["Errors"][0]["ErrorCode"]
    finally:
        connection.close()
    assert response.status == 501
    assert response.getheader("Content-Type", "").startswith("application/json")
    assert (error["ErrorCode"], error["Message"]) == (
        "NotImplemented",
        "FakeOrderCloud does not implement GET /v1/products",
    )
    assert (too_big.status, too_big_code) == (400, "List.InvalidPageSize")


def test_the_server_stops(server_fake: FakeOrderCloud) -> None:
    with server_fake.serve() as running:
        url = running.url
        assert httpx.post(f"{url}/oauth/token", data={"grant_type": "x"}).status_code == 400
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v1/me", timeout=2)


def test_a_server_made_directly_starts_in_a_with_block_and_stops_cleanly() -> None:
    from ordercloud_tracking.testing import FakeServer

    never_started = FakeServer(FakeOrderCloud())
    never_started.stop()  # returns at once
    with FakeServer(FakeOrderCloud()) as server:
        assert httpx.get(f"{server.url}/v1/nothing-here").status_code == 501
