"""Where the fake follows the reference's newest facts (§15) and the calls the official JS SDK makes (issue 12):
a token without ``scope``, ``from``/``to`` on order lists, ``GET /v1/orders/{direction}``, bodiless 204s,
no invented error codes, and the client secret on the refresh grant."""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest

from ordercloud_tracking import PasswordGrant, decode_token
from ordercloud_tracking.models.commerce import LineItem
from ordercloud_tracking.testing import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    DEFAULT_SEED,
    STOREFRONT_CLIENT_ID,
    FakeOrderCloud,
    FakeServer,
    SeedApiClient,
)
from tests.testing.support import admin_token, anonymous_token, error_code, password_token, raw, token_response

ADMIN_ROLES = next(u for u in DEFAULT_SEED.users if u.username == "admin").available_roles
BUYER_ROLES = next(u for u in DEFAULT_SEED.users if u.username == "jane").available_roles


# ------------------------------------------------------------------------------- a token without scope


@pytest.mark.parametrize(
    ("form", "roles"),
    [
        (
            {"grant_type": "client_credentials", "client_id": ADMIN_CLIENT_ID, "client_secret": ADMIN_CLIENT_SECRET},
            ADMIN_ROLES,
        ),
        (
            {
                "grant_type": "password",
                "client_id": STOREFRONT_CLIENT_ID,
                "username": "jane",
                "password": "jane-password",
            },
            BUYER_ROLES,
        ),
        ({"grant_type": "client_credentials", "client_id": STOREFRONT_CLIENT_ID}, BUYER_ROLES),
    ],
    ids=["client credentials", "password", "anonymous"],
)
def test_a_token_request_without_scope_gets_every_assigned_role(
    fake: FakeOrderCloud, form: dict[str, str], roles: tuple[str, ...]
) -> None:
    response = token_response(fake, form)
    assert response.status_code == 200, response.text
    assert decode_token(response.json()["access_token"]).role == list(roles)


def test_a_scope_still_narrows_the_roles(fake: FakeOrderCloud) -> None:
    token = admin_token(fake, scope="TrackingEventReader OrderAdmin")
    assert decode_token(token).role == ["TrackingEventReader", "OrderAdmin"]


# ------------------------------------------------------------------------------------- order lists


@pytest.fixture
def orders(fake: FakeOrderCloud) -> Iterator[tuple[str, str]]:
    """Jane's two orders: one submitted a day after it was created, one still a cart a week later."""
    with fake.client(PasswordGrant(STOREFRONT_CLIENT_ID, "jane", "jane-password", scopes=("Shopper",))) as jane:
        first = jane.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=1))
        assert first.id is not None
        submitted_id = jane.cart.get().id
        assert submitted_id is not None
        fake.clock.advance(86_400)
        jane.cart.submit(order_id=submitted_id)
        fake.clock.advance(7 * 86_400)
        jane.cart.add_line_item(LineItem(product_id="SKU-TEE", quantity=1))
        cart_id = jane.cart.get().id
        assert cart_id is not None
        yield submitted_id, cart_id


def dates(fake: FakeOrderCloud, order_id: str) -> tuple[str, str | None]:
    order = fake.api.orders[order_id]
    return order["DateCreated"], order["DateSubmitted"]


def listed(fake: FakeOrderCloud, path: str, token: str, **params: str) -> list[str]:
    response = raw(fake, "GET", path, token=token, params=list(params.items()))
    assert response.status_code == 200, response.text
    return [order["ID"] for order in response.json()["Items"]]


def test_from_and_to_bound_my_orders_by_their_created_date(fake: FakeOrderCloud, orders: tuple[str, str]) -> None:
    submitted_id, cart_id = orders
    token = password_token(fake, "jane", "jane-password")
    created, _ = dates(fake, cart_id)
    first_created, _ = dates(fake, submitted_id)
    assert listed(fake, "/v1/me/orders", token) == sorted([submitted_id, cart_id])
    assert listed(fake, "/v1/me/orders", token, **{"from": created}) == [cart_id]
    assert listed(fake, "/v1/me/orders", token, to=first_created) == [submitted_id]
    assert listed(fake, "/v1/me/orders", token, to=first_created[:10]) == [submitted_id]  # the whole day
    assert listed(fake, "/v1/me/orders", token, **{"from": "2100-01-01"}) == []
    bad = raw(fake, "GET", "/v1/me/orders", token=token, params=[("from", "next tuesday")])
    assert bad.status_code == 400
    assert error_code(bad) == "List.InvalidType"


def test_orders_can_be_listed_by_direction(fake: FakeOrderCloud, orders: tuple[str, str]) -> None:
    submitted_id, cart_id = orders
    admin = admin_token(fake)
    jane = password_token(fake, "jane", "jane-password")
    assert listed(fake, "/v1/orders/Incoming", admin) == [submitted_id]  # the seller sees submitted orders only
    assert listed(fake, "/v1/orders/Outgoing", admin) == []
    assert listed(fake, "/v1/orders/Outgoing", jane) == sorted([submitted_id, cart_id])
    assert listed(fake, "/v1/orders/All", jane) == sorted([submitted_id, cart_id])
    assert listed(fake, "/v1/orders/all", admin) == [submitted_id]
    forbidden = raw(fake, "GET", "/v1/orders/Incoming", token=jane)
    assert forbidden.status_code == 403
    assert error_code(forbidden) == "Auth.InsufficientRoles"
    assert raw(fake, "GET", "/v1/orders/Sideways", token=admin).status_code == 400


def test_from_and_to_bound_incoming_orders_by_their_submitted_date(
    fake: FakeOrderCloud, orders: tuple[str, str]
) -> None:
    submitted_id, _ = orders
    admin = admin_token(fake)
    created, submitted = dates(fake, submitted_id)
    assert submitted is not None
    assert listed(fake, "/v1/orders/Incoming", admin, **{"from": submitted}) == [submitted_id]
    assert listed(fake, "/v1/orders/Incoming", admin, to=created) == []  # created then, submitted a day later


def test_a_shoppers_submitted_cart_is_an_incoming_order(oc_fake: FakeOrderCloud) -> None:
    shopper = oc_fake.shopper()
    shopper.client.cart.add_line_item(LineItem(product_id="SKU-CAP", quantity=2))
    order = shopper.client.cart.submit()
    response = raw(oc_fake, "GET", "/v1/orders/Incoming", token=admin_token(oc_fake))
    assert [item["ID"] for item in response.json()["Items"]] == [order.id]


# ------------------------------------------------------------------------------------ 204 responses


def test_a_204_has_no_content_type_and_no_content_length_in_process(fake: FakeOrderCloud) -> None:
    token = anonymous_token(fake)
    line = raw(fake, "POST", "/v1/cart/lineitems", token=token, json_body={"ProductID": "SKU-MUG"}).json()
    response = raw(fake, "DELETE", f"/v1/cart/lineitems/{line['ID']}", token=token)
    assert response.status_code == 204
    assert "content-type" not in response.headers
    assert "content-length" not in response.headers
    assert response.content == b""


def test_a_204_has_no_content_type_and_no_content_length_over_the_wire(fake: FakeOrderCloud) -> None:
    token = anonymous_token(fake)
    line = raw(fake, "POST", "/v1/cart/lineitems", token=token, json_body={"ProductID": "SKU-MUG"}).json()
    server: FakeServer
    with fake.serve() as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
        try:
            connection.request(
                "DELETE", f"/v1/cart/lineitems/{line['ID']}", headers={"Authorization": f"Bearer {token}"}
            )
            response = connection.getresponse()
            assert response.status == 204
            assert response.getheader("Content-Type") is None
            assert response.getheader("Content-Length") is None
            assert response.read() == b""
            connection.request("GET", "/v1/cart", headers={"Authorization": f"Bearer {token}"})  # same connection
            assert connection.getresponse().status == 200
        finally:
            connection.close()


# -------------------------------------------------------------------------------------- error codes


def test_changing_a_submitted_orders_lines_answers_a_fake_specific_code(fake: FakeOrderCloud) -> None:
    token = anonymous_token(fake)
    line = raw(fake, "POST", "/v1/cart/lineitems", token=token, json_body={"ProductID": "SKU-MUG"}).json()
    assert raw(fake, "POST", "/v1/cart/submit", token=token).status_code == 200
    [order_id] = list(fake.api.orders)
    path = f"/v1/orders/Outgoing/{order_id}/lineitems/{line['ID']}"
    response = raw(fake, "PATCH", path, token=token, json_body={"Quantity": 3})
    assert response.status_code == 400
    assert error_code(response) == "FakeOrderCloud.OrderNotModifiable"  # not OrderCloud's: it has none (§15)


# ----------------------------------------------------------------------------------- refresh grant


def test_the_refresh_grant_needs_the_client_secret_when_the_client_has_one(fake: FakeOrderCloud) -> None:
    fake.add_api_client(
        SeedApiClient("secretive", client_secret="s3cret", default_context_username="admin", refresh_token_duration=60)
    )
    form = {"grant_type": "client_credentials", "client_id": "secretive", "client_secret": "s3cret"}
    refresh_token = token_response(fake, form).json()["refresh_token"]
    assert refresh_token
    refresh = {"grant_type": "refresh_token", "client_id": "secretive", "refresh_token": refresh_token}
    without = token_response(fake, refresh)
    assert without.status_code == 400
    assert error_code(without) == "Auth.InvalidClientSecret"
    wrong = token_response(fake, {**refresh, "client_secret": "nope"})
    assert error_code(wrong) == "Auth.InvalidClientSecret"
    assert token_response(fake, {**refresh, "client_secret": "s3cret"}).status_code == 200
