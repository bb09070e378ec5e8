"""Orders and their line items: ownership, creation, pricing, line-item rules, submit and the events they emit.

The rules shared by the cart routes, the order routes and the Me routes; the routes are in ``_commerce``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ._lists import list_page
from ._state import Emission, State, TokenInfo
from ._wire import JSON, FakeRequest, FakeResponse, fail, found, not_found, require_id

__all__ = [
    "ORDER_ADMIN",
    "ORDER_FIELDS",
    "ORDER_SORTABLE",
    "add_line",
    "cart_id",
    "cart_or_create",
    "change_line",
    "delete_line",
    "direction_of",
    "get_line",
    "list_lines",
    "move_order",
    "new_order",
    "owns",
    "submit",
    "validate_line",
    "visible_order",
]

ORDER_ADMIN = ("FullAccess", "OrderAdmin", "OrderReader")
ORDER_FIELDS = (
    "ID",
    "FromUser",
    "FromCompanyID",
    "ToCompanyID",
    "FromUserID",
    "Comments",
    "LineItemCount",
    "Status",
    "DateCreated",
    "DateSubmitted",
    "LastUpdated",
    "Subtotal",
    "Total",
    "IsSubmitted",
    "Currency",
    "xp",
)
ORDER_SORTABLE = ("ID", "DateCreated", "DateSubmitted", "Status", "Total", "Subtotal", "LastUpdated")
LINE_FIELDS = ("ID", "ProductID", "Quantity", "DateAdded", "UnitPrice", "LineTotal", "LineSubtotal", "Product", "xp")
MAX_QUANTITY = 2**31 - 1  # OrderCloud's Quantity is a 32-bit integer


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _xp(body: Mapping[str, Any]) -> JSON:
    xp = body.get("xp") or {}
    if not isinstance(xp, dict):
        fail(400, "ValidationFailure", "xp must be an object", {"Property": "xp"})
    return xp


# ------------------------------------------------------------------------------------------ ownership


def owns(state: State, info: TokenInfo, order_id: str) -> bool:
    # An anonymous token reaches its ``orderid`` only while the order is still the anonymous user's:
    # once TransferAnonUserOrder (or Register) has moved it, the order is the new owner's alone.
    if info.anonymous and order_id != info.order_id:
        return False
    return state.order_meta.get(order_id, {}).get("owner") == info.user_id


def direction_of(direction: str) -> str:  # noqa: RET503 - fail() never returns
    for valid in ("Incoming", "Outgoing", "All"):
        if direction.lower() == valid.lower():
            return valid
    fail(400, "ValidationFailure", f"{direction} is not a valid order direction (Incoming, Outgoing, All)")


def visible_order(state: State, info: TokenInfo, direction: str, order_id: str) -> JSON:  # noqa: RET503
    direction = direction_of(direction)
    order = state.orders.get(order_id)
    if order is not None:
        if direction == "Outgoing" and owns(state, info, order_id):
            return order
        if direction in ("Incoming", "All") and any(r in info.roles for r in ORDER_ADMIN):
            return order
        if direction == "All" and owns(state, info, order_id):
            return order
    not_found("Order", order_id)


def cart_id(state: State, info: TokenInfo) -> str | None:
    if info.anonymous:
        return info.order_id if info.order_id is not None and owns(state, info, info.order_id) else None
    mine = [
        oid
        for oid, order in state.orders.items()
        if state.order_meta[oid]["owner"] == info.user_id and order["Status"] == "Unsubmitted"
    ]
    return max(mine, key=lambda oid: (state.orders[oid]["DateCreated"], oid)) if mine else None


def cart_or_create(state: State, info: TokenInfo) -> str:
    order_id = cart_id(state, info)
    if order_id is None:
        order_id = new_order(state, info, None, order_id=info.order_id if info.anonymous else None)["ID"]
    return order_id


def move_order(state: State, order_id: str, to: TokenInfo, anon: TokenInfo) -> None:
    """Give the anonymous shopper's order to ``to`` (TransferAnonUserOrder, Register)."""
    order = state.orders[order_id]
    meta = state.order_meta[order_id]
    meta["owner"] = to.user_id
    meta["anon_user_id"] = meta.get("anon_user_id") or anon.anon_user_id
    order["FromUserID"] = to.user_id
    order["FromUser"] = state.order_user(to.user_id)
    _reprice(state, order_id)


# ------------------------------------------------------------------------------------------- creation


def new_order(state: State, info: TokenInfo, body: Mapping[str, Any] | None, *, order_id: str | None = None) -> JSON:
    body = body or {}
    if order_id is None:
        order_id = require_id(body.get("ID") or state.ids.next("order"))
    if order_id in state.orders:
        fail(409, "IdExists", f"Order {order_id} already exists", {"ObjectType": "Order", "ObjectID": order_id})
    comments = body.get("Comments")
    if comments is not None and not isinstance(comments, str):
        fail(400, "ValidationFailure", "Comments must be text", {"Property": "Comments"})
    user = state.users[info.user_id]
    now = state.clock.iso()
    zero = Decimal(0)
    order: JSON = {
        "ID": order_id,
        "FromUser": state.order_user(info.user_id),
        "FromCompanyID": user.get("CompanyID"),
        "ToCompanyID": "fake-marketplace",
        "FromUserID": info.user_id,
        "BillingAddressID": None,
        "BillingAddress": None,
        "ShippingAddressID": None,
        "Comments": comments,
        "LineItemCount": 0,
        "Status": "Unsubmitted",
        "DateCreated": now,
        "DateSubmitted": None,
        "DateApproved": None,
        "DateDeclined": None,
        "DateCanceled": None,
        "DateCompleted": None,
        "LastUpdated": now,
        "Subtotal": zero,
        "ShippingCost": zero,
        "TaxCost": zero,
        "Gratuity": zero,
        "Fees": zero,
        "PromotionDiscount": zero,
        "Currency": (user.get("Locale") or {}).get("Currency") or state.seed.currency,
        "Total": zero,
        "IsSubmitted": False,
        "SubscriptionID": None,
        "xp": _xp(body),
    }
    state.orders[order_id] = order
    state.order_meta[order_id] = {"owner": info.user_id, "client": info.client_id, "anon_user_id": info.anon_user_id}
    state.line_items[order_id] = {}
    return order


# -------------------------------------------------------------------------------------------- pricing


def _reprice(state: State, order_id: str) -> None:
    order = state.orders[order_id]
    lines = state.line_items[order_id]
    subtotal = Decimal(0)
    for line in lines.values():
        product = state.products[line["ProductID"]]
        unit = product.unit_price(int(line["Quantity"]))
        line["UnitPrice"] = unit
        line["LineSubtotal"] = _money(unit * int(line["Quantity"]))
        line["LineTotal"] = _money(line["LineSubtotal"] - line["PromotionDiscount"])
        subtotal += line["LineSubtotal"]
    order["Subtotal"] = _money(subtotal)
    order["LineItemCount"] = len(lines)
    extras = order["TaxCost"] + order["ShippingCost"] + order["Gratuity"] + order["Fees"]
    order["Total"] = _money(subtotal + extras - order["PromotionDiscount"])
    order["LastUpdated"] = state.clock.iso()


# ----------------------------------------------------------------------------------------- line items


def _check_modifiable(order: JSON) -> None:
    if order["Status"] != "Unsubmitted":
        # OrderCloud's answer here is undocumented (reference §15: ``Order.CannotModifySubmittedOrder`` does not
        # exist), so the code says it is the fake's own.
        fail(
            400,
            "FakeOrderCloud.OrderNotModifiable",
            f"Order {order['ID']} is {order['Status']}; its line items cannot change.",
        )


def validate_line(state: State, body: Any, *, partial: bool, existing: JSON | None) -> JSON:
    """The checked fields of a line-item write (400/404 when they are wrong)."""
    if not isinstance(body, dict):
        fail(400, "Request.InvalidRequestBody", "A LineItem body is required.")
    product_id = body.get("ProductID", existing["ProductID"] if existing and partial else None)
    if not product_id:
        fail(400, "ValidationFailure", "ProductID is required", {"Property": "ProductID"})
    if not isinstance(product_id, str):
        fail(400, "ValidationFailure", "ProductID must be text", {"Property": "ProductID"})
    if existing is not None and product_id != existing["ProductID"]:
        fail(400, "LineItem.CannotChangeProductID", "The ProductID of a line item cannot change.")
    product = state.products.get(product_id)
    if product is None or not product.active:
        not_found("Product", product_id)
    default_quantity = existing["Quantity"] if existing and partial else 1
    quantity = body.get("Quantity", default_quantity)
    if quantity is None:
        quantity = default_quantity
    if (
        not isinstance(quantity, (int, float))
        or isinstance(quantity, bool)
        or not 1 <= quantity <= MAX_QUANTITY
        or int(quantity) != quantity
    ):
        fail(
            400,
            "LineItem.QuantityMustBePositive",
            f"Quantity must be a whole number from 1 to {MAX_QUANTITY}.",
            {"Quantity": quantity},
        )
    specs = body.get("Specs") or []
    if not isinstance(specs, list):
        fail(400, "ValidationFailure", "Specs must be a list", {"Property": "Specs"})
    return {**body, "ProductID": product_id, "Quantity": int(quantity), "xp": _xp(body), "Specs": specs}


def _line_json(state: State, line_id: str, fields: JSON, *, existing: JSON | None) -> JSON:
    product = state.products[fields["ProductID"]]
    zero = Decimal(0)
    return {
        "ID": line_id,
        "ProductID": product.id,
        "Quantity": fields["Quantity"],
        "BundleItemID": None,
        "IsBundle": False,
        "DateAdded": existing["DateAdded"] if existing else state.clock.iso(),
        "QuantityShipped": 0,
        "UnitPrice": zero,
        "PromotionDiscount": zero,
        "LineTotal": zero,
        "LineSubtotal": zero,
        "CostCenter": fields.get("CostCenter"),
        "DateNeeded": fields.get("DateNeeded"),
        "ShippingAccount": fields.get("ShippingAccount"),
        "ShippingAddressID": fields.get("ShippingAddressID"),
        "ShipFromAddressID": fields.get("ShipFromAddressID"),
        "Product": {
            "ID": product.id,
            "Name": product.name,
            "Description": product.description,
            "Returnable": False,
            "QuantityMultiplier": 1,
            "ShipWeight": None,
            "ShipHeight": None,
            "ShipWidth": None,
            "ShipLength": None,
            "DefaultSupplierID": None,
            "ParentID": None,
            "xp": dict(product.xp),
        },
        "Variant": None,
        "ShippingAddress": None,
        "ShipFromAddress": None,
        "SupplierID": None,
        "InventoryRecordID": None,
        "PriceScheduleID": f"ps-{product.id}",
        "IsOnSale": False,
        "PriceOverridden": False,
        "Specs": fields["Specs"],
        "IncomingOrderID": None,
        "OutgoingOrderID": None,
        "xp": fields["xp"],
    }


def _order_emission(state: State, info: TokenInfo, event_type: str, order_id: str, **extra: Any) -> Emission:
    meta = state.order_meta[order_id]
    return Emission(
        event_type,
        info.client_id,
        user=None if info.anonymous else state.user_snapshot(meta["owner"]),
        anon_user_id=meta.get("anon_user_id"),
        order=copy.deepcopy(state.orders[order_id]),
        lines=tuple(copy.deepcopy(list(state.line_items[order_id].values()))),
        **extra,
    )


def _line_event(
    state: State, info: TokenInfo, event_type: str, order_id: str, line_id: str, previous: int | None
) -> Emission:
    line = copy.deepcopy(state.line_items[order_id][line_id])
    return _order_emission(state, info, event_type, order_id, line=line, previous_quantity=previous)


def add_line(state: State, info: TokenInfo, order_id: str, body: Any) -> FakeResponse:
    _check_modifiable(state.orders[order_id])
    fields = validate_line(state, body, partial=False, existing=None)
    line_id = fields.get("ID") or state.ids.next("li")
    require_id(line_id)
    if line_id in state.line_items[order_id]:
        fail(409, "IdExists", f"LineItem {line_id} already exists", {"ObjectType": "LineItem", "ObjectID": line_id})
    state.line_items[order_id][line_id] = _line_json(state, line_id, fields, existing=None)
    _reprice(state, order_id)
    state.outbox.append(_line_event(state, info, "LineItemAdded", order_id, line_id, None))
    return FakeResponse(201, state.line_items[order_id][line_id])


def change_line(
    state: State, info: TokenInfo, order_id: str, line_id: str, body: Any, *, partial: bool
) -> FakeResponse:
    existing = state.line_items[order_id].get(line_id)
    if existing is None and partial:
        not_found("LineItem", line_id)
    _check_modifiable(state.orders[order_id])
    if partial:
        merged = {**existing, **body} if isinstance(body, dict) and existing else body
        fields = validate_line(state, merged, partial=True, existing=existing)
    else:
        fields = validate_line(state, body, partial=False, existing=existing)
    previous = existing["Quantity"] if existing else None
    state.line_items[order_id][line_id] = _line_json(state, line_id, fields, existing=existing)
    _reprice(state, order_id)
    event = "LineItemUpdated" if existing is not None else "LineItemAdded"
    state.outbox.append(_line_event(state, info, event, order_id, line_id, previous))
    return FakeResponse(200, state.line_items[order_id][line_id])


def delete_line(state: State, order_id: str, line_id: str) -> FakeResponse:
    if line_id not in state.line_items[order_id]:
        not_found("LineItem", line_id)
    _check_modifiable(state.orders[order_id])
    del state.line_items[order_id][line_id]
    _reprice(state, order_id)
    return FakeResponse(204)


def get_line(state: State, order_id: str, line_id: str) -> FakeResponse:
    line = found(state.line_items[order_id], "LineItem", line_id)
    return FakeResponse(200, line)


def list_lines(state: State, order_id: str, request: FakeRequest) -> FakeResponse:
    body = list_page(
        state.line_items[order_id].values(),
        request,
        searchable=("ID", "ProductID"),
        sortable=("DateAdded", "ID", "ProductID"),
        filterable=LINE_FIELDS,
    )
    return FakeResponse(200, body)


def submit(state: State, info: TokenInfo, order_id: str) -> FakeResponse:
    order = state.orders[order_id]
    if order["Status"] != "Unsubmitted":
        fail(
            400,
            "Order.CannotSubmitBadStatus",
            f"Order {order_id} has status {order['Status']} and cannot be submitted.",
        )
    if not state.line_items[order_id]:
        fail(400, "Order.CannotSubmitWithNoLineItems", f"Order {order_id} has no line items.")
    now = state.clock.iso()
    order.update({"Status": "Open", "IsSubmitted": True, "DateSubmitted": now, "LastUpdated": now})
    state.outbox.append(_order_emission(state, info, "OrderSubmitted", order_id))
    return FakeResponse(200, order)
