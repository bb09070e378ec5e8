"""Commerce routes: the cart (``/v1/cart``), orders (``/v1/orders/{direction}``) and ``GET /v1/me/orders``."""

from __future__ import annotations

from ._lists import EMPTY_PAGE, list_page
from ._oauth import SHOPPER
from ._orders import (
    ORDER_ADMIN,
    ORDER_FIELDS,
    ORDER_SORTABLE,
    add_line,
    cart_id,
    cart_or_create,
    change_line,
    delete_line,
    direction_of,
    get_line,
    list_lines,
    new_order,
    owns,
    submit,
    validate_line,
    visible_order,
)
from ._state import State, TokenInfo
from ._wire import JSON, FakeRequest, FakeResponse, fail, not_found

__all__ = [
    "cart_add_line",
    "cart_delete_line",
    "cart_from_user",
    "cart_get",
    "cart_get_line",
    "cart_list_lines",
    "cart_patch_line",
    "cart_save_line",
    "cart_submit",
    "me_list_orders",
    "order_add_line",
    "order_create",
    "order_delete_line",
    "order_get",
    "order_get_line",
    "order_list",
    "order_list_lines",
    "order_patch_line",
    "order_save_line",
    "order_submit",
]

SHOPPER_WRITE = (*SHOPPER, "OrderAdmin")
SHOPPER_READ = (*SHOPPER, *ORDER_ADMIN)


def _order_page(rows: list[JSON], request: FakeRequest, dated: str) -> FakeResponse:
    page = list_page(rows, request, searchable=("ID",), sortable=ORDER_SORTABLE, filterable=ORDER_FIELDS, dated=dated)
    return FakeResponse(200, page)


def me_list_orders(state: State, request: FakeRequest) -> FakeResponse:
    """``GET /v1/me/orders``: the caller's orders; ``from``/``to`` bound ``DateCreated``."""
    info = state.authorize(request, SHOPPER)
    return _order_page([o for oid, o in state.orders.items() if owns(state, info, oid)], request, "DateCreated")


def order_list(state: State, request: FakeRequest, direction: str) -> FakeResponse:
    """``GET /v1/orders/{direction}``: ``Outgoing`` the caller's orders, ``Incoming`` the submitted orders
    (order admins only), ``All`` both. ``from``/``to`` bound ``DateSubmitted`` for ``Incoming``, else
    ``DateCreated``."""
    info = state.authorize(request, SHOPPER_READ)
    direction = direction_of(direction)
    admin = any(r in info.roles for r in ORDER_ADMIN)
    if direction == "Incoming" and not admin:
        fail(403, "Auth.InsufficientRoles", "Listing Incoming orders needs OrderAdmin or OrderReader")
    rows = [
        order
        for oid, order in state.orders.items()
        if (direction != "Incoming" and owns(state, info, oid))
        or (direction != "Outgoing" and admin and order["IsSubmitted"])
    ]
    return _order_page(rows, request, "DateSubmitted" if direction == "Incoming" else "DateCreated")


# ---------------------------------------------------------------------------------------------- orders


def order_create(state: State, request: FakeRequest, direction: str) -> FakeResponse:
    info = state.authorize(request, SHOPPER_WRITE)
    if direction_of(direction) != "Outgoing" and not any(r in info.roles for r in ORDER_ADMIN):
        fail(403, "Auth.InsufficientRoles", f"Creating {direction} orders needs OrderAdmin")
    body = request.json()
    if body is not None and not isinstance(body, dict):
        fail(400, "Request.InvalidRequestBody", "An Order body is required.")
    order_id = info.order_id if info.anonymous else None
    return FakeResponse(201, new_order(state, info, body, order_id=order_id))


def _order_access(
    state: State, request: FakeRequest, roles: tuple[str, ...], direction: str, order_id: str
) -> TokenInfo:
    """The caller, after checking its roles and that the order is visible to it in ``direction``."""
    info = state.authorize(request, roles)
    visible_order(state, info, direction, order_id)
    return info


def order_get(state: State, request: FakeRequest, direction: str, order_id: str) -> FakeResponse:
    info = state.authorize(request, SHOPPER_READ)
    return FakeResponse(200, visible_order(state, info, direction, order_id))


def order_list_lines(state: State, request: FakeRequest, direction: str, order_id: str) -> FakeResponse:
    _order_access(state, request, SHOPPER_READ, direction, order_id)
    return list_lines(state, order_id, request)


def order_add_line(state: State, request: FakeRequest, direction: str, order_id: str) -> FakeResponse:
    info = _order_access(state, request, SHOPPER_WRITE, direction, order_id)
    return add_line(state, info, order_id, request.json())


def order_get_line(state: State, request: FakeRequest, direction: str, order_id: str, line_id: str) -> FakeResponse:
    _order_access(state, request, SHOPPER_READ, direction, order_id)
    return get_line(state, order_id, line_id)


def order_save_line(state: State, request: FakeRequest, direction: str, order_id: str, line_id: str) -> FakeResponse:
    info = _order_access(state, request, SHOPPER_WRITE, direction, order_id)
    return change_line(state, info, order_id, line_id, request.json(), partial=False)


def order_patch_line(state: State, request: FakeRequest, direction: str, order_id: str, line_id: str) -> FakeResponse:
    info = _order_access(state, request, SHOPPER_WRITE, direction, order_id)
    return change_line(state, info, order_id, line_id, request.json(), partial=True)


def order_delete_line(state: State, request: FakeRequest, direction: str, order_id: str, line_id: str) -> FakeResponse:
    _order_access(state, request, SHOPPER_WRITE, direction, order_id)
    return delete_line(state, order_id, line_id)


def order_submit(state: State, request: FakeRequest, direction: str, order_id: str) -> FakeResponse:
    info = _order_access(state, request, SHOPPER_WRITE, direction, order_id)
    return submit(state, info, order_id)


# ------------------------------------------------------------------------------------------------ cart


def _cart(state: State, request: FakeRequest) -> tuple[TokenInfo, str]:
    info = state.authorize(request, SHOPPER)
    order_id = cart_id(state, info)
    if order_id is None:
        not_found("Order", "cart")
    return info, order_id


def cart_get(state: State, request: FakeRequest) -> FakeResponse:
    info = state.authorize(request, SHOPPER)
    order_id = cart_id(state, info)
    if order_id is not None:
        return FakeResponse(200, state.orders[order_id])
    user = state.users[info.user_id]
    empty = {
        "ID": None,
        "FromUser": state.order_user(info.user_id),
        "FromUserID": info.user_id,
        "Status": "Unsubmitted",
        "LineItemCount": 0,
        "Subtotal": 0,
        "Total": 0,
        "IsSubmitted": False,
        "Currency": (user.get("Locale") or {}).get("Currency") or state.seed.currency,
        "xp": {},
    }
    return FakeResponse(200, empty)


def cart_list_lines(state: State, request: FakeRequest) -> FakeResponse:
    info = state.authorize(request, SHOPPER)
    order_id = cart_id(state, info)
    if order_id is None:
        return FakeResponse(200, EMPTY_PAGE)
    return list_lines(state, order_id, request)


def cart_add_line(state: State, request: FakeRequest) -> FakeResponse:
    info = state.authorize(request, SHOPPER)
    body = request.json()
    validate_line(state, body, partial=False, existing=None)  # before creating the cart
    return add_line(state, info, cart_or_create(state, info), body)


def cart_get_line(state: State, request: FakeRequest, line_id: str) -> FakeResponse:
    _, order_id = _cart(state, request)
    return get_line(state, order_id, line_id)


def cart_save_line(state: State, request: FakeRequest, line_id: str) -> FakeResponse:
    info = state.authorize(request, SHOPPER)
    return change_line(state, info, cart_or_create(state, info), line_id, request.json(), partial=False)


def cart_patch_line(state: State, request: FakeRequest, line_id: str) -> FakeResponse:
    info, order_id = _cart(state, request)
    return change_line(state, info, order_id, line_id, request.json(), partial=True)


def cart_delete_line(state: State, request: FakeRequest, line_id: str) -> FakeResponse:
    _, order_id = _cart(state, request)
    return delete_line(state, order_id, line_id)


def cart_from_user(state: State, request: FakeRequest) -> FakeResponse:
    info = state.authorize(request, SHOPPER)
    order_id = cart_or_create(state, info)
    body = request.json()
    if not isinstance(body, dict):
        fail(400, "Request.InvalidRequestBody", "A User body is required.")
    order = state.orders[order_id]
    from_user = order["FromUser"] = dict(order["FromUser"] or {})
    for key in ("FirstName", "LastName", "Email"):
        if key in body:
            if body[key] is not None and not isinstance(body[key], str):
                fail(400, "ValidationFailure", f"{key} must be text", {"Property": key})
            from_user[key] = body[key]
    return FakeResponse(200, order)


def cart_submit(state: State, request: FakeRequest) -> FakeResponse:
    info = state.authorize(request, SHOPPER)
    order_id = cart_id(state, info)
    if order_id is None:
        fail(400, "Order.CannotSubmitWithNoLineItems", "The cart has no line items.")
    return submit(state, info, order_id)
