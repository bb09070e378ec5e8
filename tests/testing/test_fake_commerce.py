"""FakeOrderCloud's cart and orders: line items with prices, submit, Me, TransferAnonUserOrder, Register."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from ordercloud_tracking import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    OrderCloud,
    PasswordGrant,
    StaticToken,
    decode_token,
)
from ordercloud_tracking.identity import ShopperSession
from ordercloud_tracking.models.commerce import LineItem, OrderStatus
from ordercloud_tracking.testing import STOREFRONT_CLIENT_ID, FakeOrderCloud
from tests.testing.support import anonymous_token, error_code, password_token, raw

D = Decimal


@pytest.fixture
def shopper(fake: FakeOrderCloud) -> ShopperSession:
    return fake.shopper(anon_user_id="beacon-1")


@pytest.fixture
def jane(fake: FakeOrderCloud) -> Iterator[OrderCloud]:
    with fake.client(PasswordGrant(STOREFRONT_CLIENT_ID, "jane", "jane-password", scopes=("Shopper",))) as client:
        yield client


# -------------------------------------------------------------------------------------- cart line items


def test_first_line_item_creates_the_cart_with_prices(shopper: ShopperSession) -> None:
    cart = shopper.client.cart
    empty = cart.get()
    assert empty.id is None
    assert empty.line_item_count == 0
    line = cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=2))
    assert line.id
    assert (line.unit_price, line.line_subtotal, line.line_total) == (D("12.50"), D("25.00"), D("25.00"))
    assert line.product is not None
    assert (line.product.id, line.product.name) == ("SKU-MUG", "Mug")
    order = cart.get()
    assert order.id == shopper.order_id
    assert (order.subtotal, order.total, order.line_item_count) == (D("25.00"), D("25.00"), 1)
    assert order.status == OrderStatus.UNSUBMITTED
    assert order.is_submitted is False


@pytest.mark.parametrize(
    ("quantity", "unit", "subtotal"),
    [(1, "12.50", "12.50"), (9, "12.50", "112.50"), (10, "11.00", "110.00"), (25, "11.00", "275.00")],
)
def test_price_break_at_ten(shopper: ShopperSession, quantity: int, unit: str, subtotal: str) -> None:
    line = shopper.client.cart.add_line_item({"ProductID": "SKU-MUG", "Quantity": quantity})
    assert (line.unit_price, line.line_subtotal, line.line_total) == (D(unit), D(subtotal), D(subtotal))


def test_order_totals_follow_every_change(shopper: ShopperSession) -> None:
    cart = shopper.client.cart
    mug = cart.add_line_item({"ProductID": "SKU-MUG", "Quantity": 2})
    tee = cart.add_line_item({"ProductID": "SKU-TEE", "Quantity": 3})
    assert (cart.get().subtotal, cart.get().line_item_count) == (D("85.00"), 2)
    assert mug.id is not None
    assert tee.id is not None

    patched = cart.patch_line_item(mug.id, {"Quantity": 10})  # crosses the price break
    assert (patched.unit_price, patched.line_subtotal) == (D("11.00"), D("110.00"))
    order = cart.get()
    assert (order.subtotal, order.total) == (D("170.00"), D("170.00"))

    saved = cart.save_line_item(tee.id, {"ProductID": "SKU-TEE", "Quantity": 1, "xp": {"Gift": True}})
    assert (saved.quantity, saved.line_subtotal, saved.xp) == (1, D("20.00"), {"Gift": True})
    assert cart.get().total == D("130.00")

    cart.delete_line_item(mug.id)
    order = cart.get()
    assert (order.subtotal, order.total, order.line_item_count) == (D("20.00"), D("20.00"), 1)
    with pytest.raises(NotFoundError) as caught:
        cart.get_line_item(mug.id)
    assert caught.value.errors[0].data == {"ObjectType": "LineItem", "ObjectID": mug.id}


def test_get_and_list_line_items(shopper: ShopperSession) -> None:
    cart = shopper.client.cart
    assert cart.list_line_items().meta.total_count == 0  # no cart yet: an empty page, not a 404
    first = cart.add_line_item({"ProductID": "SKU-MUG", "Quantity": 1})
    cart.add_line_item({"ProductID": "SKU-TEE", "Quantity": 2})
    cart.add_line_item({"ProductID": "SKU-CAP", "Quantity": 3})
    assert first.id is not None
    assert cart.get_line_item(first.id).product_id == "SKU-MUG"
    page = cart.list_line_items()
    assert page.meta.total_count == 3
    assert {line.product_id for line in page} == {"SKU-MUG", "SKU-TEE", "SKU-CAP"}
    by_product = cart.list_line_items(sort_by="!ProductID")
    assert [line.product_id for line in by_product] == ["SKU-TEE", "SKU-MUG", "SKU-CAP"]
    assert [line.product_id for line in cart.list_line_items(filters={"Quantity": ">1"})] == ["SKU-TEE", "SKU-CAP"]
    assert [line.product_id for line in cart.list_line_items(search="CAP")] == ["SKU-CAP"]


def test_put_of_a_new_line_id_creates_the_line(shopper: ShopperSession) -> None:
    line = shopper.client.cart.save_line_item("my-line", {"ProductID": "SKU-CAP", "Quantity": 2})
    assert (line.id, line.line_total) == ("my-line", D("30.00"))
    assert shopper.client.cart.get().line_item_count == 1


@pytest.mark.parametrize("quantity", [0, -1])
def test_quantity_must_be_positive(shopper: ShopperSession, quantity: int) -> None:
    cart = shopper.client.cart
    with pytest.raises(BadRequestError) as added:
        cart.add_line_item({"ProductID": "SKU-MUG", "Quantity": quantity})
    assert added.value.error_code == "LineItem.QuantityMustBePositive"
    line = cart.add_line_item({"ProductID": "SKU-MUG", "Quantity": 1})
    assert line.id is not None
    with pytest.raises(BadRequestError) as patched:
        cart.patch_line_item(line.id, {"Quantity": quantity})
    assert patched.value.error_code == "LineItem.QuantityMustBePositive"
    assert cart.get_line_item(line.id).quantity == 1


def test_fractional_quantity_is_refused(fake: FakeOrderCloud) -> None:
    token = anonymous_token(fake)
    response = raw(fake, "POST", "/v1/cart/lineitems", token=token, json_body={"ProductID": "SKU-MUG", "Quantity": 1.5})
    assert response.status_code == 400
    assert error_code(response) == "LineItem.QuantityMustBePositive"


def test_product_id_cannot_change(shopper: ShopperSession) -> None:
    cart = shopper.client.cart
    line = cart.add_line_item({"ProductID": "SKU-MUG", "Quantity": 1})
    assert line.id is not None
    with pytest.raises(BadRequestError) as patched:
        cart.patch_line_item(line.id, {"ProductID": "SKU-TEE"})
    with pytest.raises(BadRequestError) as saved:
        cart.save_line_item(line.id, {"ProductID": "SKU-TEE", "Quantity": 1})
    assert patched.value.error_code == saved.value.error_code == "LineItem.CannotChangeProductID"


def test_unknown_product_is_a_404_and_creates_no_cart(shopper: ShopperSession) -> None:
    with pytest.raises(NotFoundError) as caught:
        shopper.client.cart.add_line_item({"ProductID": "SKU-NOPE", "Quantity": 1})
    assert caught.value.error_code == "NotFound"
    assert caught.value.errors[0].data == {"ObjectType": "Product", "ObjectID": "SKU-NOPE"}
    assert shopper.client.cart.get().id is None


def test_missing_product_id_and_bad_bodies(fake: FakeOrderCloud) -> None:
    token = anonymous_token(fake)
    no_product = raw(fake, "POST", "/v1/cart/lineitems", token=token, json_body={"Quantity": 1})
    assert (no_product.status_code, error_code(no_product)) == (400, "ValidationFailure")
    not_json = raw(fake, "POST", "/v1/cart/lineitems", token=token, headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400
    garbage = raw(
        fake, "PATCH", "/v1/cart/lineitems/x", token=token, headers={"Content-Type": "application/json"}, json_body=[1]
    )
    assert garbage.status_code == 404  # no cart yet


def test_patch_of_a_missing_line_is_a_404(shopper: ShopperSession) -> None:
    shopper.client.cart.add_line_item({"ProductID": "SKU-MUG", "Quantity": 1})
    with pytest.raises(NotFoundError):
        shopper.client.cart.patch_line_item("no-such-line", {"Quantity": 2})
    with pytest.raises(NotFoundError):
        shopper.client.cart.delete_line_item("no-such-line")


# ------------------------------------------------------------------------------------------------ submit


def test_submit_the_cart(fake: FakeOrderCloud, shopper: ShopperSession) -> None:
    cart = shopper.client.cart
    cart.add_line_item({"ProductID": "SKU-TEE", "Quantity": 2})
    before = fake.clock.datetime()
    order = cart.submit()
    assert order.status == OrderStatus.OPEN
    assert order.is_submitted is True
    assert order.date_submitted is not None
    assert abs((order.date_submitted - before).total_seconds()) < 5
    assert order.total == D("40.00")
    with pytest.raises(BadRequestError) as again:
        shopper.client.orders.submit("Outgoing", str(order.id))
    assert again.value.error_code == "Order.CannotSubmitBadStatus"
    with pytest.raises(BadRequestError) as modify:
        shopper.client.orders.add_line_item("Outgoing", str(order.id), {"ProductID": "SKU-MUG", "Quantity": 1})
    assert modify.value.status_code == 400  # a submitted order's lines are frozen


def test_submit_date_follows_the_fake_clock(fake: FakeOrderCloud, shopper: ShopperSession) -> None:
    shopper.client.cart.add_line_item({"ProductID": "SKU-TEE", "Quantity": 1})
    fake.clock.advance(3 * 86_400)
    order = shopper.client.cart.submit()
    assert order.date_submitted is not None
    assert abs(order.date_submitted.timestamp() - fake.clock.now()) < 5


def test_submitting_an_empty_order(jane: OrderCloud) -> None:
    with pytest.raises(BadRequestError) as no_cart:
        jane.cart.submit()
    assert no_cart.value.error_code == "Order.CannotSubmitWithNoLineItems"
    order = jane.orders.create("Outgoing", {"ID": "jane-empty"})
    with pytest.raises(BadRequestError) as empty:
        jane.orders.submit("Outgoing", "jane-empty")
    assert order.status == OrderStatus.UNSUBMITTED
    assert empty.value.error_code == "Order.CannotSubmitWithNoLineItems"


def test_a_cart_emptied_by_deletes_cannot_be_submitted(shopper: ShopperSession) -> None:
    line = shopper.client.cart.add_line_item({"ProductID": "SKU-TEE", "Quantity": 1})
    assert line.id is not None
    shopper.client.cart.delete_line_item(line.id)
    with pytest.raises(BadRequestError) as caught:
        shopper.client.cart.submit()
    assert caught.value.error_code == "Order.CannotSubmitWithNoLineItems"


def test_after_submit_the_cart_is_new(jane: OrderCloud) -> None:
    jane.cart.add_line_item({"ProductID": "SKU-TEE", "Quantity": 1})
    submitted = jane.cart.submit()
    assert jane.cart.get().id is None
    line = jane.cart.add_line_item({"ProductID": "SKU-CAP", "Quantity": 1})
    assert jane.cart.get().id not in (None, submitted.id)
    assert line.line_total == D("15.00")


# ----------------------------------------------------------------------------------------------- orders


def test_orders_endpoints(jane: OrderCloud) -> None:
    order = jane.orders.create("Outgoing", {"ID": "jane-1", "Comments": "Gift", "xp": {"Channel": "web"}})
    assert (order.id, order.comments, order.from_user_id, order.currency) == ("jane-1", "Gift", "buyer-jane", "USD")
    assert order.from_user is not None
    assert order.from_user.username == "jane"
    with pytest.raises(ConflictError):
        jane.orders.create("Outgoing", {"ID": "jane-1"})
    line = jane.orders.add_line_item("outgoing", "jane-1", {"ProductID": "SKU-MUG", "Quantity": 12})
    assert line.id is not None
    assert line.unit_price == D("11.00")
    assert jane.orders.get_line_item("Outgoing", "jane-1", line.id).quantity == 12
    jane.orders.patch_line_item("Outgoing", "jane-1", line.id, {"Quantity": 4})
    jane.orders.save_line_item("Outgoing", "jane-1", "second", {"ProductID": "SKU-CAP", "Quantity": 1})
    page = jane.orders.list_line_items("Outgoing", "jane-1")
    assert page.meta.total_count == 2
    fetched = jane.orders.get("Outgoing", "jane-1")
    assert (fetched.subtotal, fetched.line_item_count) == (D("65.00"), 2)
    jane.orders.delete_line_item("Outgoing", "jane-1", "second")
    submitted = jane.orders.submit("Outgoing", "jane-1")
    assert (submitted.status, submitted.total) == (OrderStatus.OPEN, D("50.00"))


def test_other_users_orders_are_not_found(fake: FakeOrderCloud, jane: OrderCloud) -> None:
    jane.orders.create("Outgoing", {"ID": "jane-private"})
    with fake.client(PasswordGrant(STOREFRONT_CLIENT_ID, "john", "john-password", scopes=("Shopper",))) as john:
        with pytest.raises(NotFoundError):
            john.orders.get("Outgoing", "jane-private")
        with pytest.raises(NotFoundError):
            john.orders.add_line_item("Outgoing", "jane-private", {"ProductID": "SKU-MUG", "Quantity": 1})
    with fake.client() as admin:  # OrderAdmin sees Incoming orders
        assert admin.orders.get("Incoming", "jane-private").from_user_id == "buyer-jane"


def test_unknown_direction(fake: FakeOrderCloud) -> None:
    response = raw(fake, "GET", "/v1/orders/Sideways/x", token=password_token(fake, "jane", "jane-password"))
    assert (response.status_code, error_code(response)) == (400, "ValidationFailure")


def test_anonymous_order_id_is_the_token_orderid(fake: FakeOrderCloud, shopper: ShopperSession) -> None:
    order = shopper.client.orders.create("Outgoing", {})
    assert order.id == shopper.order_id
    assert order.id == decode_token(shopper.client.get_access_token()).orderid


# ----------------------------------------------------------------------------------------------------- me


def test_get_me(fake: FakeOrderCloud, jane: OrderCloud, shopper: ShopperSession) -> None:
    me = jane.me.get()
    assert (me.id, me.username, me.first_name, me.last_name, me.email) == (
        "buyer-jane",
        "jane",
        "Jane",
        "Doe",
        "jane@example.com",
    )
    assert me.locale is not None
    assert (me.locale.currency, me.locale.language) == ("USD", "en")
    assert me.available_roles is not None
    assert "Shopper" in me.available_roles
    anonymous = shopper.client.me.get()
    assert anonymous.id == decode_token(shopper.client.get_access_token()).u
    assert anonymous.email is None


def test_list_my_orders(jane: OrderCloud) -> None:
    jane.orders.create("Outgoing", {"ID": "a-order"})
    jane.orders.create("Outgoing", {"ID": "b-order"})
    assert [order.id for order in jane.me.list_orders(sort_by="!ID")] == ["b-order", "a-order"]


# --------------------------------------------------------------------------------- TransferAnonUserOrder


def test_transfer_moves_the_anonymous_order(fake: FakeOrderCloud, shopper: ShopperSession, jane: OrderCloud) -> None:
    shopper.client.cart.add_line_item({"ProductID": "SKU-MUG", "Quantity": 10})
    anon_token = shopper.client.get_access_token()
    order_id = shopper.order_id
    assert order_id is not None
    jane.me.transfer_anon_user_order(anon_token)
    transfer = fake.requests_to("PUT", "/v1/me/orders")[-1]
    assert transfer.status == 204
    assert transfer.body == b""
    moved = jane.orders.get("Outgoing", order_id)
    assert (moved.from_user_id, moved.subtotal) == ("buyer-jane", D("110.00"))
    assert moved.from_user is not None
    assert moved.from_user.email == "jane@example.com"
    assert jane.cart.get().id == order_id
    with pytest.raises(NotFoundError):  # the order is jane's now, not the anonymous user's
        shopper.client.orders.get("Outgoing", order_id)


def test_transfer_without_an_anonymous_order_is_a_no_op(fake: FakeOrderCloud, jane: OrderCloud) -> None:
    jane.me.transfer_anon_user_order(anonymous_token(fake))
    assert fake.requests_to("PUT", "/v1/me/orders")[-1].status == 204
    assert jane.cart.get().id is None


def test_transfer_needs_an_anonymous_token(fake: FakeOrderCloud, jane: OrderCloud) -> None:
    john = password_token(fake, "john", "john-password")
    with pytest.raises(BadRequestError) as not_anonymous:
        jane.me.transfer_anon_user_order(john)
    with pytest.raises(BadRequestError) as garbage:
        jane.me.transfer_anon_user_order("not-a-token")
    assert not_anonymous.value.error_code == garbage.value.error_code == "Auth.MustPassAnonUserToken"
    missing = raw(fake, "PUT", "/v1/me/orders", token=password_token(fake, "jane", "jane-password"))
    assert (missing.status_code, error_code(missing)) == (400, "ValidationFailure")


def test_transfer_refuses_an_expired_anonymous_token(fake: FakeOrderCloud) -> None:
    anon = anonymous_token(fake, "beacon-1")
    assert raw(fake, "POST", "/v1/cart/lineitems", token=anon, json_body={"ProductID": "SKU-MUG"}).status_code == 201
    fake.clock.advance(10080 * 60 + 1)  # AnonymousTokenDuration: 7 days
    jane = password_token(fake, "jane", "jane-password")
    response = raw(fake, "PUT", "/v1/me/orders", token=jane, params=[("anonUserToken", anon)])
    assert (response.status_code, error_code(response)) == (400, "Auth.MustPassAnonUserToken")


def test_an_anonymous_user_cannot_transfer(fake: FakeOrderCloud, shopper: ShopperSession) -> None:
    with pytest.raises(BadRequestError) as caught:
        shopper.client.me.transfer_anon_user_order(anonymous_token(fake))
    assert caught.value.error_code == "Auth.AnonUserProhibited"


# --------------------------------------------------------------------------------------------- register


def test_register_turns_the_anonymous_shopper_into_a_user(fake: FakeOrderCloud, shopper: ShopperSession) -> None:
    shopper.client.cart.add_line_item({"ProductID": "SKU-CAP", "Quantity": 2})
    order_id = shopper.register(
        {
            "Username": "newbie",
            "Password": "newbie-password1",
            "FirstName": "New",
            "LastName": "Bie",
            "Email": "newbie@example.com",
            "Active": True,
        }
    )
    assert order_id is not None
    assert not shopper.is_anonymous
    me = shopper.client.me.get()
    assert (me.username, me.email) == ("newbie", "newbie@example.com")
    order = shopper.client.orders.get("Outgoing", order_id)
    assert (order.from_user_id, order.total) == (me.id, D("30.00"))
    assert fake.requests_to("PUT", "/v1/me/register")[-1].status == 200
    with fake.client(PasswordGrant(STOREFRONT_CLIENT_ID, "newbie", "newbie-password1", scopes=("Shopper",))) as newbie:
        assert newbie.me.get().id == me.id


def test_register_rules(fake: FakeOrderCloud) -> None:
    anon = anonymous_token(fake)
    body = {"Username": "jane", "FirstName": "J", "LastName": "D", "Email": "j@example.com", "Active": True}
    with fake.client(StaticToken(anon)) as anonymous:
        with pytest.raises(ConflictError):
            anonymous.me.register(body, anon_user_token=anon)
        with pytest.raises(BadRequestError) as missing:
            anonymous.me.register({**body, "Username": "fresh", "Email": None}, anon_user_token=anon)
        assert missing.value.error_code == "ValidationFailure"
    jane = password_token(fake, "jane", "jane-password")
    with fake.client(StaticToken(jane)) as known, pytest.raises(BadRequestError) as not_temp:
        known.me.register({**body, "Username": "other"}, anon_user_token=anon)
    assert not_temp.value.error_code == "User.IsNotTemp"
