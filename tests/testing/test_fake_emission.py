"""FakeOrderCloud's emission: which call → which event → which targets, signed Http deliveries, retries,
the Send/Discover payloads, and the anonymous → known identity carried through the messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ordercloud_tracking import OrderCloud, PasswordGrant, SignatureVerificationError
from ordercloud_tracking.identity import ShopperSession
from ordercloud_tracking.messages import OrderLineMessage, OrderSubmitted, SessionIdentified, parse_message
from ordercloud_tracking.receiver import Receiver, verify_signature
from ordercloud_tracking.testing import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    STOREFRONT_CLIENT_ID,
    DeliveryAttempt,
    FakeOrderCloud,
    SeedApiClient,
    SeedUser,
)
from tests.testing.support import (
    CUSTOM_HEADER,
    DISCOVER_ENDPOINT,
    EVENT_TYPES,
    HOOK_URL,
    SECRET,
    SEND_ENDPOINT,
    SEND_SITE_ID,
    Endpoint,
    anonymous_token,
    identity,
    password_token,
    provision,
    raw,
)

BEACON = "7c9e6679742540de944be07fc1f90ae7"
Action = Callable[[FakeOrderCloud, ShopperSession], Any]


def journey(fake: FakeOrderCloud, beacon: str = BEACON) -> ShopperSession:
    """Anonymous shopper with a beacon ID: add, update (up), log in (order transferred), submit."""
    session = fake.shopper(anon_user_id=beacon)
    session.client.cart.add_line_item({"ID": "line-1", "ProductID": "SKU-MUG", "Quantity": 1})
    session.client.cart.patch_line_item("line-1", {"Quantity": 3})
    session.login("jane", "jane-password")
    session.client.cart.submit()
    return session


def login(fake: FakeOrderCloud, client_id: str = STOREFRONT_CLIENT_ID, **grant: Any) -> None:
    with fake.client(PasswordGrant(client_id, "jane", "jane-password", scopes=("Shopper",), **grant)) as client:
        client.get_access_token()


def add_line(session: ShopperSession, line_id: str = "line-1", quantity: int = 1) -> None:
    session.client.cart.add_line_item({"ID": line_id, "ProductID": "SKU-MUG", "Quantity": quantity})


def nothing(fake: FakeOrderCloud, session: ShopperSession) -> None:
    return None


def register(fake: FakeOrderCloud, session: ShopperSession) -> None:
    session.register(
        {"Username": "newbie", "FirstName": "New", "LastName": "Bie", "Email": "newbie@example.com", "Active": True}
    )


def transfer(fake: FakeOrderCloud, session: ShopperSession) -> None:
    # jane logs in through the admin client (no tracking events there), so only the transfer is observed
    grant = PasswordGrant(ADMIN_CLIENT_ID, "jane", "jane-password", ADMIN_CLIENT_SECRET, scopes=("Shopper",))
    with fake.client(grant) as jane:
        jane.me.transfer_anon_user_order(session.client.get_access_token())
    assert fake.requests_to("PUT", "/v1/me/orders")[-1].status == 204


def orders_create(fake: FakeOrderCloud, session: ShopperSession) -> None:
    session.client.orders.create("Outgoing", {})


MATRIX: list[tuple[str, Action, Action, str | None]] = [
    # (case, setup, action, the event it emits)
    ("cart POST line", nothing, lambda f, s: add_line(s), "LineItemAdded"),
    (
        "cart PUT new line",
        nothing,
        lambda f, s: s.client.cart.save_line_item("new", {"ProductID": "SKU-TEE", "Quantity": 1}),
        "LineItemAdded",
    ),
    (
        "orders POST line",
        orders_create,
        lambda f, s: s.client.orders.add_line_item("Outgoing", str(s.order_id), {"ProductID": "SKU-CAP"}),
        "LineItemAdded",
    ),
    (
        "cart PATCH line",
        lambda f, s: add_line(s),
        lambda f, s: s.client.cart.patch_line_item("line-1", {"Quantity": 4}),
        "LineItemUpdated",
    ),
    (
        "cart PUT existing line",
        lambda f, s: add_line(s),
        lambda f, s: s.client.cart.save_line_item("line-1", {"ProductID": "SKU-MUG", "Quantity": 2}),
        "LineItemUpdated",
    ),
    (
        "orders PATCH line",
        lambda f, s: add_line(s),
        lambda f, s: s.client.orders.patch_line_item("Outgoing", str(s.order_id), "line-1", {"Quantity": 2}),
        "LineItemUpdated",
    ),
    (
        "orders PUT existing line",
        lambda f, s: add_line(s),
        lambda f, s: s.client.orders.save_line_item(
            "Outgoing", str(s.order_id), "line-1", {"ProductID": "SKU-MUG", "Quantity": 5}
        ),
        "LineItemUpdated",
    ),
    ("password grant", nothing, lambda f, s: login(f), "UserLoggedIn"),
    ("register", lambda f, s: add_line(s), register, "UserLoggedIn"),
    ("cart submit", lambda f, s: add_line(s), lambda f, s: s.client.cart.submit(), "OrderSubmitted"),
    (
        "orders submit",
        lambda f, s: add_line(s),
        lambda f, s: s.client.orders.submit("Outgoing", str(s.order_id)),
        "OrderSubmitted",
    ),
    # negatives
    ("DELETE line", lambda f, s: add_line(s), lambda f, s: s.client.cart.delete_line_item("line-1"), None),
    ("anonymous grant", nothing, lambda f, s: anonymous_token(f, "another-beacon"), None),
    ("TransferAnonUserOrder", lambda f, s: add_line(s), transfer, None),
    (
        "reads",
        lambda f, s: add_line(s),
        lambda f, s: (s.client.cart.get(), s.client.cart.list_line_items(), s.client.me.get()),
        None,
    ),
    ("create order", nothing, orders_create, None),
    (
        "refused add",
        nothing,
        lambda f, s: raw(
            f,
            "POST",
            "/v1/cart/lineitems",
            token=s.client.get_access_token(),
            json_body={"ProductID": "SKU-MUG", "Quantity": 0},
        ),
        None,
    ),
    (
        "refused submit",
        nothing,
        lambda f, s: raw(f, "POST", "/v1/cart/submit", token=s.client.get_access_token()),
        None,
    ),
    (
        "wrong password",
        nothing,
        lambda f, s: raw(
            f,
            "POST",
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": STOREFRONT_CLIENT_ID,
                "username": "jane",
                "password": "x",
                "scope": "Shopper",
            },
        ),
        None,
    ),
]


@pytest.mark.parametrize(("case", "setup", "action", "expected"), MATRIX, ids=[row[0] for row in MATRIX])
def test_emission_matrix(
    fake: FakeOrderCloud, admin: OrderCloud, case: str, setup: Action, action: Action, expected: str | None
) -> None:
    provision(admin)
    session = fake.shopper(anon_user_id=BEACON)
    setup(fake, session)
    since = len(fake.deliveries)
    action(fake, session)
    new = fake.deliveries[since:]
    if expected is None:
        assert new == []
        return
    assert sorted(d.target for d in new) == ["DiscoverEvent", "Http", "SendEvent"]
    for delivery in new:
        assert delivery.event_type == expected
        assert delivery.tracking_event_id == f"te-{STOREFRONT_CLIENT_ID}-{expected}"
        assert delivery.delivery_config_id == "dc-all"
        assert delivery.ok, delivery.error


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_only_configured_event_types_are_delivered(fake: FakeOrderCloud, admin: OrderCloud, event_type: str) -> None:
    provision(admin, event_types=[event_type])
    journey(fake)
    assert {d.event_type for d in fake.deliveries} == {event_type}
    assert len(fake.deliveries) == 3  # once, to each of the three targets


def test_a_full_journey_delivers_every_event_to_every_target(fake: FakeOrderCloud, admin: OrderCloud) -> None:
    provision(admin)
    journey(fake)
    order = ["LineItemAdded", "LineItemUpdated", "UserLoggedIn", "OrderSubmitted"]
    assert [d.event_type for d in fake.deliveries_for(target="Http")] == order
    assert [d.event_type for d in fake.deliveries_for(target="SendEvent")] == order
    assert [d.event_type for d in fake.deliveries_for(target="DiscoverEvent")] == order
    assert all(d.ok for d in fake.deliveries)


def test_tracking_events_of_another_client_do_not_fire(fake: FakeOrderCloud, admin: OrderCloud) -> None:
    provision(admin, client_id=ADMIN_CLIENT_ID)
    journey(fake)
    assert fake.deliveries == []
    admin.orders.create("Outgoing", {"ID": "admin-order"})  # in the admin client's context: it fires
    admin.orders.add_line_item("Outgoing", "admin-order", {"ProductID": "SKU-TEE", "Quantity": 1})
    http = fake.deliveries_for("LineItemAdded", target="Http")
    assert len(http) == 1
    assert identity(http[0].raw) == (None, "admin-user")


def test_a_disabled_config_delivers_nothing(fake: FakeOrderCloud, admin: OrderCloud) -> None:
    provision(admin, enabled=False)
    journey(fake, beacon="first")
    assert fake.deliveries == []
    admin.delivery_configs.patch("dc-all", {"Enabled": True})
    session = fake.shopper(anon_user_id="second")
    add_line(session)
    assert len(fake.deliveries) == 3


def test_only_the_configured_targets_receive(fake: FakeOrderCloud, admin: OrderCloud, endpoint: Endpoint) -> None:
    provision(admin, targets=["SendEvent"])
    journey(fake)
    assert {d.target for d in fake.deliveries} == {"SendEvent"}
    assert endpoint.requests == []


def test_client_credentials_and_refresh_grants_are_not_logins(fake: FakeOrderCloud, admin: OrderCloud) -> None:
    fake.add_api_client(SeedApiClient("refreshing", access_token_duration=10, refresh_token_duration=60))
    provision(admin, client_id="refreshing", event_types=["UserLoggedIn"], config_id="dc-refresh")
    provision(admin, client_id=ADMIN_CLIENT_ID, event_types=["UserLoggedIn"], config_id="dc-admin")
    with fake.client() as integration:  # client_credentials on the admin client
        integration.get_access_token()
    assert fake.deliveries == []
    with fake.client(PasswordGrant("refreshing", "jane", "jane-password", scopes=("Shopper",))) as jane:
        jane.get_access_token()
        assert [d.tracking_event_id for d in fake.deliveries_for(target="Http")] == ["te-refreshing-UserLoggedIn"]
        fake.clock.advance(11 * 60)
        jane.me.get()  # renewed with the refresh token
    assert [form.body.count(b"refresh_token") for form in fake.requests_to("POST", "/oauth/token")][-1] == 2
    assert len(fake.deliveries_for(target="Http")) == 1
    login(fake, ADMIN_CLIENT_ID, client_secret=ADMIN_CLIENT_SECRET)  # an elevated password login does fire
    assert [d.tracking_event_id for d in fake.deliveries_for(target="Http")][-1] == f"te-{ADMIN_CLIENT_ID}-UserLoggedIn"


def test_a_user_without_email_still_gets_a_message(fake: FakeOrderCloud, admin: OrderCloud) -> None:
    fake.add_user(SeedUser("no-mail", "no-mail-password"))
    provision(admin, event_types=["UserLoggedIn"])
    with fake.client(PasswordGrant(STOREFRONT_CLIENT_ID, "no-mail", "no-mail-password", scopes=("Shopper",))) as user:
        user.get_access_token()  # never raises into the caller's request
    http, send = fake.deliveries_for(target="Http")[0], fake.deliveries_for(target="SendEvent")[0]
    assert http.ok
    assert json.loads(http.raw)["Payload"]["Email"] is None
    assert not send.ok
    assert send.error is not None
    assert "email" in send.error


# ------------------------------------------------------------------------------------------ Http deliveries


def test_http_deliveries_are_signed_over_the_raw_body(
    fake: FakeOrderCloud, admin: OrderCloud, endpoint: Endpoint
) -> None:
    provision(admin)
    journey(fake)
    receiver = Receiver(SECRET, custom_auth_header=CUSTOM_HEADER)
    http = fake.deliveries_for(target="Http")
    assert len(endpoint.requests) == len(http) == 4
    for record, request in zip(http, endpoint.requests, strict=True):
        assert request.method == "POST"
        assert str(request.url) == HOOK_URL == record.url
        assert request.content == record.raw
        assert request.headers["content-type"].startswith("application/json")
        assert request.headers[CUSTOM_HEADER[0]] == CUSTOM_HEADER[1]
        signature = request.headers["x-oc-hash"]
        assert signature == record.headers["x-oc-hash"]
        assert verify_signature(request.content, signature, SECRET)
        assert not verify_signature(request.content, signature, "another-secret")
        assert not verify_signature(request.content + b" ", signature, SECRET)
        delivered = receiver.parse(request.content, request.headers)
        assert delivered.event_type == record.event_type  # the envelope's Headers.type tells added from updated
        assert not delivered.duplicate
        assert record.status == 200
        assert record.attempts == 1
    with pytest.raises(SignatureVerificationError):
        Receiver("another-secret").parse(endpoint.requests[0].content, endpoint.requests[0].headers)


NAMESPACES = {
    "LineItemAdded": "sitecore.ordercloud.messages.orders.lines.added",
    "LineItemUpdated": "sitecore.ordercloud.messages.orders.lines.updated",
    "UserLoggedIn": "sitecore.ordercloud.messages.sessions.identified",
    "OrderSubmitted": "sitecore.ordercloud.messages.orders.submitted",
}


def test_http_deliveries_are_orderclouds_envelope_by_default(
    fake: FakeOrderCloud, admin: OrderCloud, endpoint: Endpoint
) -> None:
    provision(admin)
    journey(fake)
    assert fake.http_body == "envelope"
    bodies = [json.loads(request.content) for request in endpoint.requests]
    assert [sorted(body) for body in bodies] == [["Headers", "Payload"]] * 4
    assert [body["Headers"] for body in bodies] == [
        {"type": NAMESPACES[event_type]}
        for event_type in ("LineItemAdded", "LineItemUpdated", "UserLoggedIn", "OrderSubmitted")
    ]
    assert [bodies[0]["Payload"]["LineItem"]["Quantity"], bodies[1]["Payload"]["LineItem"]["Quantity"]] == [1, 3]
    assert bodies[3]["Payload"]["UserContext"] == {"ID": "buyer-jane", "AnonymousId": BEACON}
    for request in endpoint.requests:  # the signature covers the whole envelope
        assert verify_signature(request.content, request.headers["x-oc-hash"], SECRET)


def test_http_deliveries_can_be_bare_messages() -> None:
    endpoint = Endpoint()
    fake = FakeOrderCloud(http_delivery=endpoint, http_body="bare")
    with fake.client() as client:
        provision(client, targets=["Http"])
    journey(fake)
    fake.close()
    bodies = [json.loads(request.content) for request in endpoint.requests]
    assert "Headers" not in bodies[0]
    assert bodies[0]["LineItem"]["Quantity"] == 1
    assert bodies[3]["UserContext"] == {"ID": "buyer-jane", "AnonymousId": BEACON}
    assert all(verify_signature(r.content, r.headers["x-oc-hash"], SECRET) for r in endpoint.requests)


def test_an_unknown_http_body_is_refused() -> None:
    with pytest.raises(ValueError, match="http_body"):
        FakeOrderCloud(http_body="json")  # type: ignore[arg-type]  # what a typo does at run time


def test_http_delivery_without_a_custom_header(fake: FakeOrderCloud, admin: OrderCloud, endpoint: Endpoint) -> None:
    provision(admin, custom_header=None)
    add_line(fake.shopper(anon_user_id=BEACON))
    request = endpoint.requests[0]
    assert CUSTOM_HEADER[0] not in request.headers
    assert Receiver(SECRET).parse(request.content, request.headers).event_type == "LineItemAdded"


def test_delivery_headers_are_hidden_from_repr(fake: FakeOrderCloud, admin: OrderCloud) -> None:
    provision(admin)
    add_line(fake.shopper(anon_user_id=BEACON))
    record = fake.deliveries_for(target="Http")[0]
    assert CUSTOM_HEADER[1] in record.headers.values()
    assert CUSTOM_HEADER[1] not in repr(record)


def make_fake(script: list[int | Exception], *, attempts: int = 3) -> tuple[FakeOrderCloud, Endpoint]:
    endpoint = Endpoint(script)
    made = FakeOrderCloud(http_delivery=endpoint, delivery_attempts=attempts)
    with made.client() as admin:
        provision(admin, event_types=["LineItemAdded"], targets=["Http"])
    return made, endpoint


def only_http(fake: FakeOrderCloud) -> DeliveryAttempt:
    (delivery,) = fake.deliveries_for(target="Http")
    return delivery


def test_a_failing_endpoint_is_retried_recorded_and_never_raised() -> None:
    fake, endpoint = make_fake([500, 500, 500])
    session = fake.shopper(anon_user_id=BEACON)
    line = session.client.cart.add_line_item({"ProductID": "SKU-MUG", "Quantity": 1})  # does not raise
    assert line.line_total == Decimal("12.50")
    delivery = only_http(fake)
    assert (delivery.status, delivery.attempts, delivery.error, delivery.ok) == (500, 3, "HTTP 500", False)
    assert len(endpoint.requests) == 3
    assert len({request.content for request in endpoint.requests}) == 1  # the same body each time
    add_line(session, "line-2")  # the endpoint is back
    assert fake.deliveries_for(target="Http")[-1].ok


def test_an_endpoint_that_raises_is_recorded_with_the_error() -> None:
    fake, endpoint = make_fake([RuntimeError("boom")] * 5, attempts=2)
    add_line(fake.shopper(anon_user_id=BEACON))
    delivery = only_http(fake)
    assert (delivery.status, delivery.attempts) == (None, 2)
    assert delivery.error == "RuntimeError: boom"
    assert len(endpoint.requests) == 2


def test_a_flaky_endpoint_succeeds_on_a_later_attempt() -> None:
    request = httpx.Request("POST", HOOK_URL)
    fake, _endpoint = make_fake([503, httpx.ConnectError("refused", request=request), 200, 200])
    add_line(fake.shopper(anon_user_id=BEACON))
    delivery = only_http(fake)
    assert (delivery.status, delivery.attempts, delivery.error, delivery.ok) == (200, 3, None, True)


def test_one_attempt_only() -> None:
    fake, _endpoint = make_fake([502, 200], attempts=1)
    add_line(fake.shopper(anon_user_id=BEACON))
    assert (only_http(fake).status, only_http(fake).attempts) == (502, 1)


def test_an_httpx_transport_as_the_delivery_target() -> None:
    received: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(202)

    fake = FakeOrderCloud(http_delivery=httpx.MockTransport(handler))  # a sync and async transport at once
    with fake.client() as admin:
        provision(admin, event_types=["LineItemAdded"], targets=["Http"])
    add_line(fake.shopper(anon_user_id=BEACON))
    fake.close()
    assert (only_http(fake).status, only_http(fake).error) == (202, None)
    assert verify_signature(received[0].content, received[0].headers["x-oc-hash"], SECRET)


async def test_async_clients_deliver_through_an_async_transport() -> None:
    received: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    fake = FakeOrderCloud(http_delivery=httpx.MockTransport(handler))
    async with fake.async_client() as admin:
        await admin.delivery_configs.create(
            {"ID": "dc", "Name": "n", "DeliveryTargets": {"Http": {"Endpoint": HOOK_URL, "Secret": SECRET}}}
        )
        await admin.tracking_events.create(
            {"EventType": "LineItemAdded", "ClientID": STOREFRONT_CLIENT_ID, "Name": "n", "DeliveryConfigID": "dc"}
        )
    session = await fake.async_shopper(anon_user_id=BEACON)
    await session.client.cart.add_line_item({"ProductID": "SKU-MUG", "Quantity": 2})
    assert len(received) == 1
    assert only_http(fake).ok
    assert identity(received[0].content) == (BEACON, None)


async def test_async_clients_with_a_sync_callable_target(fake: FakeOrderCloud, endpoint: Endpoint) -> None:
    async with fake.async_client() as admin:
        await admin.delivery_configs.create(
            {"ID": "dc", "Name": "n", "DeliveryTargets": {"Http": {"Endpoint": HOOK_URL, "Secret": SECRET}}}
        )
        await admin.tracking_events.create(
            {"EventType": "OrderSubmitted", "ClientID": STOREFRONT_CLIENT_ID, "Name": "n", "DeliveryConfigID": "dc"}
        )
    session = await fake.async_shopper(anon_user_id=BEACON)
    await session.client.cart.add_line_item({"ProductID": "SKU-MUG", "Quantity": 2})
    await session.client.cart.submit()
    assert [json.loads(request.content)["Payload"]["OrderStatus"] for request in endpoint.requests] == ["Open"]


# ---------------------------------------------------------------------------------- Send and Discover


def payloads(fake: FakeOrderCloud, target: str) -> dict[str, Any]:
    return {d.event_type: d.body for d in fake.deliveries_for(target=target)}


def test_send_payloads(fake: FakeOrderCloud, admin: OrderCloud) -> None:
    provision(admin)
    journey(fake)
    sent = payloads(fake, "SendEvent")
    assert {kind: body["actionType"] for kind, body in sent.items()} == {
        "LineItemAdded": "ADDED_TO_ORDER",
        "LineItemUpdated": "ADDED_TO_ORDER",
        "UserLoggedIn": "IDENTIFY",
        "OrderSubmitted": "ORDER_COMPLETED",
    }
    assert all(body["siteId"] == SEND_SITE_ID for body in sent.values())
    assert sent["LineItemAdded"]["ContactId"] == BEACON
    added = sent["LineItemAdded"]["properties"][0]["product"]
    assert (added["itemCode"], added["itemQuantity"], added["itemPrice"]) == ("SKU-MUG", 1, 12.5)
    updated = sent["LineItemUpdated"]["properties"][0]["product"]
    assert updated["itemQuantity"] == 2  # the increase from 1 to 3
    assert sent["UserLoggedIn"]["ContactEmailAddress"] == "jane@example.com"
    assert sent["OrderSubmitted"]["properties"][0]["totalPrice"] == 37.5
    assert sent["OrderSubmitted"]["ContactId"] == BEACON
    for delivery in fake.deliveries_for(target="SendEvent"):
        assert delivery.url == SEND_ENDPOINT
        assert json.loads(delivery.raw) == delivery.body


def test_discover_payloads(fake: FakeOrderCloud, admin: OrderCloud) -> None:
    provision(admin)
    journey(fake)
    found = payloads(fake, "DiscoverEvent")
    assert {kind: (body["type"], body["name"]) for kind, body in found.items()} == {
        "LineItemAdded": ("a2c", "pdp"),
        "LineItemUpdated": ("status", "cart"),
        "UserLoggedIn": ("user", "login"),
        "OrderSubmitted": ("order", "confirm"),
    }
    assert found["LineItemAdded"]["uuid"] == BEACON
    (product,) = found["LineItemUpdated"]["value"]["products"]  # status:cart: the whole cart after the update
    assert (product["sku"], product["quantity"]) == ("SKU-MUG", 3)
    assert found["UserLoggedIn"]["user_id"] == "buyer-jane"
    checkout = found["OrderSubmitted"]["value"]["checkout"]
    assert checkout == {"order_id": checkout["order_id"], "subtotal": 37.5, "total": 37.5}
    for delivery in fake.deliveries_for(target="DiscoverEvent"):
        assert delivery.url == DISCOVER_ENDPOINT
        assert json.loads(json.loads(delivery.raw)["data"]) == delivery.body
        assert delivery.body["t"] == pytest.approx(fake.clock.now() * 1000, abs=60_000)


def test_discover_delta_policy_and_decreases(admin: OrderCloud) -> None:
    fake = FakeOrderCloud(http_delivery=Endpoint(), discover_line_update="delta")
    with fake.client() as client:
        provision(client, event_types=["LineItemUpdated"], targets=["SendEvent", "DiscoverEvent"])
    session = fake.shopper(anon_user_id=BEACON)
    add_line(session, quantity=2)
    session.client.cart.patch_line_item("line-1", {"Quantity": 5})
    session.client.cart.patch_line_item("line-1", {"Quantity": 1})
    discover = fake.deliveries_for(target="DiscoverEvent")
    assert discover[0].body["type"] == "a2c"
    assert discover[0].body["value"]["products"][0]["quantity"] == 3
    send = fake.deliveries_for(target="SendEvent")
    assert send[0].body["properties"][0]["product"]["itemQuantity"] == 3
    for skipped in (discover[1], send[1]):  # a decrease has nothing to send: recorded, not raised
        assert skipped.body is None
        assert skipped.error is not None
        assert skipped.error.startswith("skipped")


# ------------------------------------------------------------------------------------------- identity


def test_identity_flow_carries_the_beacon_and_then_the_user(fake: FakeOrderCloud, admin: OrderCloud) -> None:
    provision(admin)
    session = fake.shopper(anon_user_id=BEACON)
    assert fake.anonymous_users == [BEACON]
    session.client.cart.add_line_item({"ID": "line-1", "ProductID": "SKU-MUG", "Quantity": 1})
    session.client.cart.add_line_item({"ID": "line-2", "ProductID": "SKU-TEE", "Quantity": 1})
    session.client.cart.patch_line_item("line-1", {"Quantity": 10})
    anonymous_order = session.order_id
    transferred = session.login("jane", "jane-password")
    assert transferred == anonymous_order
    assert fake.requests_to("PUT", "/v1/me/orders")[-1].status == 204
    order = session.client.cart.submit()
    assert order.id == anonymous_order

    messages = [parse_message(d.raw, event_type=d.event_type) for d in fake.deliveries_for(target="Http")]
    kinds = [type(m).__name__ for m in messages]
    assert kinds == ["OrderLineAdded", "OrderLineAdded", "OrderLineUpdated", "SessionIdentified", "OrderSubmitted"]
    for message in messages[:3]:
        assert isinstance(message, OrderLineMessage)
        assert identity(message) == (BEACON, None)
        assert message.order_id == anonymous_order
    login_message = messages[3]
    assert isinstance(login_message, SessionIdentified)
    assert identity(login_message) == (None, "buyer-jane")  # a password grant does not know the beacon
    assert login_message.email == "jane@example.com"
    submitted = messages[4]
    assert isinstance(submitted, OrderSubmitted)
    assert identity(submitted) == (BEACON, "buyer-jane")
    assert (submitted.order_id, submitted.order_total, submitted.email) == (
        anonymous_order,
        Decimal("130"),
        "jane@example.com",
    )
    assert submitted.line_items is not None
    assert len(submitted.line_items) == 2
    assert {
        body["ContactId"]
        for body in (d.body for d in fake.deliveries_for(target="SendEvent"))
        if body["actionType"] != "IDENTIFY"
    } == {BEACON}


def test_register_login_carries_the_anonymous_id(fake: FakeOrderCloud, admin: OrderCloud) -> None:
    provision(admin, event_types=["UserLoggedIn", "OrderSubmitted"])
    session = fake.shopper(anon_user_id=BEACON)
    add_line(session)
    register(fake, session)
    session.client.cart.submit()
    login_message, submitted = (parse_message(d.raw) for d in fake.deliveries_for(target="Http"))
    new_user = session.client.me.get().id
    assert identity(login_message) == (BEACON, new_user)  # Register knows the anonymous token it came from
    assert identity(submitted) == (BEACON, new_user)


def test_each_shopper_keeps_their_own_beacon(fake: FakeOrderCloud, admin: OrderCloud) -> None:
    provision(admin, event_types=["LineItemAdded"], targets=["Http"])
    for beacon in ("beacon-a", "beacon-b"):
        add_line(fake.shopper(anon_user_id=beacon))
    john = password_token(fake, "john", "john-password")
    raw(fake, "POST", "/v1/cart/lineitems", token=john, json_body={"ProductID": "SKU-CAP"})
    assert [identity(d.raw) for d in fake.deliveries] == [
        ("beacon-a", None),
        ("beacon-b", None),
        (None, "buyer-john"),
    ]
