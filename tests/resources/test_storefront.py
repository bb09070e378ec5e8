"""me / cart / orders / api_clients: exact method, path, query and body, for sync and async."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest
from pytest_httpx import HTTPXMock

from ordercloud_tracking import (
    AmbiguousSubmitError,
    AsyncOrderCloud,
    BadRequestError,
    NotFoundError,
    OrderCloud,
    RetryPolicy,
    StaticToken,
)
from ordercloud_tracking.models.commerce import LineItem, LineItemPatch, Order, OrderDirection, OrderStatus

BASE = "https://api.test"
TOKEN = "static-token"
T = TypeVar("T")

LINE_ITEM = {
    "ID": "li-1",
    "ProductID": "SKU-1",
    "Quantity": 3,
    "UnitPrice": 10.1,
    "LineSubtotal": 30.3,
    "LineTotal": 30.3,
    "PromotionDiscount": 0,
    "DateAdded": "2026-11-27T10:00:00+00:00",
    "Product": {"ID": "SKU-1", "Name": "Mug", "xp": {"Color": "Blue"}},
    "Variant": None,
    "Specs": [],
    "xp": {},
}
ORDER = {"ID": "o-1", "Status": "Unsubmitted", "IsSubmitted": False, "LineItemCount": 1, "Total": 30.3}


def no_sleep(_: float) -> None:
    return None


async def no_async_sleep(_: float) -> None:
    return None


POLICY = RetryPolicy(sleep=no_sleep, async_sleep=no_async_sleep)


def sync_client() -> OrderCloud:
    return OrderCloud(grant=StaticToken(TOKEN), base_url=BASE, retry_policy=POLICY)


def async_client() -> AsyncOrderCloud:
    return AsyncOrderCloud(grant=StaticToken(TOKEN), base_url=BASE, retry_policy=POLICY)


class Both:
    """Runs one scenario against the sync and the async client with the same assertions."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    async def call(self, fn: Callable[[Any], T | Awaitable[T]]) -> T:
        if self.mode == "sync":
            with sync_client() as client:
                result = fn(client)
        else:
            async with async_client() as aclient:
                result = fn(aclient)
                if isinstance(result, Awaitable):
                    result = await result
        assert not isinstance(result, Awaitable)
        return result


@pytest.fixture(params=["sync", "async"])
def both(request: pytest.FixtureRequest) -> Both:
    return Both(str(request.param))


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


async def test_me_transfer_anon_user_order_is_put_with_query_and_no_body(both: Both, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="PUT", url=f"{BASE}/v1/me/orders?anonUserToken=anon-abc", status_code=204)
    await both.call(lambda c: c.me.transfer_anon_user_order("anon-abc"))
    request = httpx_mock.get_requests()[0]
    assert request.content == b""
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_me_transfer_rejects_an_empty_token(both: Both) -> None:
    with pytest.raises(ValueError, match="anon_user_token"):
        await both.call(lambda c: c.me.transfer_anon_user_order(" "))


async def test_me_register_sends_user_and_returns_token(both: Both, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        method="PUT", url=f"{BASE}/v1/me/register?anonUserToken=anon-abc", json={"access_token": "new-user-token"}
    )
    user = {"Username": "jane", "FirstName": "Jane", "LastName": "Doe", "Email": "jane@example.com", "Active": True}
    token = await both.call(lambda c: c.me.register(user, anon_user_token="anon-abc"))
    assert token.access_token.get_secret_value() == "new-user-token"
    assert body_of(httpx_mock.get_requests()[0]) == user


async def test_me_get_and_list_orders(both: Both, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", url=f"{BASE}/v1/me", json={"ID": "u1", "Username": "jane"})
    httpx_mock.add_response(
        method="GET",
        url=f"{BASE}/v1/me/orders?from=2026-01-01&sortBy=%21DateSubmitted&page=2&pageSize=5&Status=Open",
        json={"Items": [ORDER], "Meta": {"Page": 2, "PageSize": 5, "TotalCount": 6, "TotalPages": 2}},
    )
    me = await both.call(lambda c: c.me.get())
    assert me.username == "jane"
    page = await both.call(
        lambda c: c.me.list_orders(
            from_date="2026-01-01", sort_by="!DateSubmitted", page=2, page_size=5, filters={"Status": "Open"}
        )
    )
    assert [o.id for o in page] == ["o-1"]


async def test_cart_line_item_calls(both: Both, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", url=f"{BASE}/v1/cart", json={**ORDER, "ID": None})
    httpx_mock.add_response(method="POST", url=f"{BASE}/v1/cart/lineitems", json=LINE_ITEM, status_code=201)
    httpx_mock.add_response(method="GET", url=f"{BASE}/v1/cart/lineitems/li-1", json=LINE_ITEM)
    httpx_mock.add_response(method="PUT", url=f"{BASE}/v1/cart/lineitems/li-1", json=LINE_ITEM)
    httpx_mock.add_response(method="PATCH", url=f"{BASE}/v1/cart/lineitems/li-1", json=LINE_ITEM)
    httpx_mock.add_response(method="DELETE", url=f"{BASE}/v1/cart/lineitems/li-1", status_code=204)
    httpx_mock.add_response(
        method="GET", url=f"{BASE}/v1/cart/lineitems?pageSize=100", json={"Items": [LINE_ITEM], "Meta": {}}
    )
    httpx_mock.add_response(method="PATCH", url=f"{BASE}/v1/cart/fromuser", json=ORDER)

    cart = await both.call(lambda c: c.cart.get())
    assert cart.id is None
    added = await both.call(lambda c: c.cart.add_line_item(LineItem(product_id="SKU-1", quantity=3)))
    assert added.unit_price == Decimal("10.1")
    await both.call(lambda c: c.cart.get_line_item("li-1"))
    await both.call(lambda c: c.cart.save_line_item("li-1", {"ProductID": "SKU-1", "Quantity": 4}))
    await both.call(lambda c: c.cart.patch_line_item("li-1", LineItemPatch(quantity=5)))
    await both.call(lambda c: c.cart.delete_line_item("li-1"))
    page = await both.call(lambda c: c.cart.list_line_items(page_size=100))
    assert page[0].line_subtotal == Decimal("30.3")
    await both.call(lambda c: c.cart.patch_from_user({"Email": "guest@example.com"}))

    bodies = [body_of(r) for r in httpx_mock.get_requests()]
    assert bodies[1] == {"ProductID": "SKU-1", "Quantity": 3}
    assert bodies[3] == {"ProductID": "SKU-1", "Quantity": 4}
    assert bodies[4] == {"Quantity": 5}
    assert bodies[7] == {"Email": "guest@example.com"}


async def test_orders_calls_use_the_direction_and_encode_ids(both: Both, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="POST", url=f"{BASE}/v1/orders/Outgoing", json=ORDER, status_code=201)
    httpx_mock.add_response(method="GET", url=f"{BASE}/v1/orders/Incoming/o%201", json=ORDER)
    httpx_mock.add_response(
        method="GET", url=f"{BASE}/v1/orders/All/o-1/lineitems?page=1", json={"Items": [LINE_ITEM], "Meta": {}}
    )
    httpx_mock.add_response(method="POST", url=f"{BASE}/v1/orders/Outgoing/o-1/lineitems", json=LINE_ITEM)
    httpx_mock.add_response(method="PUT", url=f"{BASE}/v1/orders/Outgoing/o-1/lineitems/li-1", json=LINE_ITEM)
    httpx_mock.add_response(method="PATCH", url=f"{BASE}/v1/orders/Outgoing/o-1/lineitems/li-1", json=LINE_ITEM)
    httpx_mock.add_response(method="DELETE", url=f"{BASE}/v1/orders/Outgoing/o-1/lineitems/li-1", status_code=204)
    httpx_mock.add_response(
        method="POST",
        url=f"{BASE}/v1/orders/Outgoing/o-1/submit",
        json={**ORDER, "Status": "Open", "IsSubmitted": True},
    )

    created = await both.call(lambda c: c.orders.create("outgoing", Order(comments="gift")))
    assert created.id == "o-1"
    await both.call(lambda c: c.orders.get(OrderDirection.INCOMING, "o 1"))
    await both.call(lambda c: c.orders.list_line_items("All", "o-1", page=1))
    await both.call(lambda c: c.orders.add_line_item("Outgoing", "o-1", {"ProductID": "SKU-1", "Quantity": 1}))
    await both.call(lambda c: c.orders.save_line_item("Outgoing", "o-1", "li-1", LineItem(product_id="SKU-1")))
    await both.call(lambda c: c.orders.patch_line_item("Outgoing", "o-1", "li-1", {"Quantity": None}))
    await both.call(lambda c: c.orders.delete_line_item("Outgoing", "o-1", "li-1"))
    submitted = await both.call(lambda c: c.orders.submit("Outgoing", "o-1"))
    assert submitted.status == OrderStatus.OPEN
    bodies = [body_of(r) for r in httpx_mock.get_requests()]
    assert bodies[0] == {"Comments": "gift"}
    assert bodies[5] == {"Quantity": None}  # explicit None is sent as null
    assert bodies[7] is None  # submit has no body


@pytest.mark.parametrize("direction", ["Sideways", "", "outgoing/x"])
async def test_orders_reject_an_unknown_direction_before_any_request(both: Both, direction: str) -> None:
    with pytest.raises(ValueError, match="Incoming, Outgoing, All"):
        await both.call(lambda c: c.orders.get(direction, "o-1"))


async def test_api_clients_get_and_patch(both: Both, httpx_mock: HTTPXMock) -> None:
    body = {"ID": "c1", "AppName": "Storefront", "AccessTokenDuration": 600, "IsAnonBuyer": True}
    httpx_mock.add_response(method="GET", url=f"{BASE}/v1/apiclients/c1", json=body)
    httpx_mock.add_response(method="PATCH", url=f"{BASE}/v1/apiclients/c1", json=body)
    got = await both.call(lambda c: c.api_clients.get("c1"))
    assert got.is_anon_buyer is True
    await both.call(
        lambda c: c.api_clients.patch("c1", {"IsAnonBuyer": True, "DefaultContextUserName": "anon-template"})
    )
    assert body_of(httpx_mock.get_requests()[1]) == {"IsAnonBuyer": True, "DefaultContextUserName": "anon-template"}


async def test_money_is_decimal_in_and_json_numbers_out(both: Both, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="POST", url=f"{BASE}/v1/cart/lineitems", json=LINE_ITEM)
    item = LineItem(product_id="SKU-1", quantity=1, unit_price=Decimal("19.99"))
    result = await both.call(lambda c: c.cart.add_line_item(item))
    assert result.line_total == Decimal("30.3")
    sent = httpx_mock.get_requests()[0].content
    assert b'"UnitPrice":19.99' in sent


# ------------------------------------------------------------------------------- submit, never doubled


async def test_submit_read_timeout_then_check_shows_submitted_returns_the_order(
    both: Both, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_exception(
        httpx.ReadTimeout("read timed out"), method="POST", url=f"{BASE}/v1/orders/Outgoing/o-1/submit"
    )
    httpx_mock.add_response(
        method="GET", url=f"{BASE}/v1/orders/Outgoing/o-1", json={**ORDER, "Status": "Open", "IsSubmitted": True}
    )
    order = await both.call(lambda c: c.orders.submit("Outgoing", "o-1"))
    assert order.is_submitted is True
    methods = [r.method for r in httpx_mock.get_requests()]
    assert methods == ["POST", "GET"]  # the submit was not resent


@pytest.mark.parametrize("status", ["Unsubmitted", "Open"])
async def test_ambiguous_submit_after_5xx(both: Both, httpx_mock: HTTPXMock, status: str) -> None:
    httpx_mock.add_response(method="POST", url=f"{BASE}/v1/orders/Outgoing/o-1/submit", status_code=502)
    submitted = status != "Unsubmitted"
    httpx_mock.add_response(
        method="GET",
        url=f"{BASE}/v1/orders/Outgoing/o-1",
        json={**ORDER, "Status": status, "IsSubmitted": submitted},
    )
    if submitted:
        order = await both.call(lambda c: c.orders.submit("Outgoing", "o-1"))
        assert order.status == OrderStatus.OPEN
    else:
        with pytest.raises(AmbiguousSubmitError) as info:
            await both.call(lambda c: c.orders.submit("Outgoing", "o-1"))
        assert info.value.order_id == "o-1"
        assert info.value.status == "Unsubmitted"
        assert "safe to submit it again" in str(info.value)
    assert [r.method for r in httpx_mock.get_requests()] == ["POST", "GET"]


async def test_ambiguous_submit_when_the_check_fails_too(both: Both, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("t"), method="POST", url=f"{BASE}/v1/orders/Outgoing/o-1/submit")
    httpx_mock.add_exception(
        httpx.ReadTimeout("t"), method="GET", url=f"{BASE}/v1/orders/Outgoing/o-1", is_reusable=True
    )
    with pytest.raises(AmbiguousSubmitError) as info:
        await both.call(lambda c: c.orders.submit("Outgoing", "o-1"))
    assert info.value.order is None
    assert "unknown" in str(info.value)
    assert [r.method for r in httpx_mock.get_requests()].count("POST") == 1


async def test_a_definite_submit_failure_is_raised_as_is(both: Both, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        method="POST",
        url=f"{BASE}/v1/cart/submit",
        status_code=400,
        json={"Errors": [{"ErrorCode": "Order.CannotSubmitWithNoLineItems", "Message": "no items"}]},
    )
    with pytest.raises(BadRequestError) as info:
        await both.call(lambda c: c.cart.submit(order_id="o-1"))
    assert info.value.error_code == "Order.CannotSubmitWithNoLineItems"


async def test_cart_submit_reads_the_cart_first_to_check_an_unknown_outcome(both: Both, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", url=f"{BASE}/v1/cart", json=ORDER)
    httpx_mock.add_exception(httpx.RemoteProtocolError("dropped"), method="POST", url=f"{BASE}/v1/cart/submit")
    httpx_mock.add_response(
        method="GET", url=f"{BASE}/v1/orders/Outgoing/o-1", json={**ORDER, "Status": "Open", "IsSubmitted": True}
    )
    order = await both.call(lambda c: c.cart.submit())
    assert order.id == "o-1"
    assert [(r.method, r.url.path) for r in httpx_mock.get_requests()] == [
        ("GET", "/v1/cart"),
        ("POST", "/v1/cart/submit"),
        ("GET", "/v1/orders/Outgoing/o-1"),
    ]


async def test_submit_connect_error_is_retried_because_nothing_was_sent(both: Both, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), method="POST", url=f"{BASE}/v1/orders/Outgoing/o-1/submit")
    httpx_mock.add_response(
        method="POST", url=f"{BASE}/v1/orders/Outgoing/o-1/submit", json={**ORDER, "IsSubmitted": True}
    )
    order = await both.call(lambda c: c.orders.submit("Outgoing", "o-1"))
    assert order.is_submitted is True


async def test_not_found_names_the_object(both: Both, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", url=f"{BASE}/v1/orders/Outgoing/o-404", status_code=404)
    with pytest.raises(NotFoundError, match="Order o-404 not found"):
        await both.call(lambda c: c.orders.get("Outgoing", "o-404"))
