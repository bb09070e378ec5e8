"""Build Sitecore Discover Events API events from tracking messages or hydrated OrderCloud objects.

============================  ==================================================================
Input                         Discover event
============================  ==================================================================
login                         ``user:login`` — ``value.context.user`` ``{id, email}`` (required)
line added                    ``a2c`` — one product ``{sku, price, quantity}``; ``name`` = page type
line updated, ``"cart"``      ``status:cart`` — the whole cart (``cart=`` is required)
line updated, ``"delta"``     ``a2c`` with ``quantity - previous_quantity``; ``None`` unless positive
order submitted               ``order:confirm`` — products (price after discount, ``price_original``)
                              and ``checkout`` ``{order_id, subtotal, total}``
============================  ==================================================================

Line-update policy. A line message carries the line's *absolute* quantity, and Discover's ``a2c``
means "added N units", so an update cannot be sent as an ``a2c`` of the new quantity. The default
``line_update="cart"`` sends ``status:cart`` with every line of the cart (pass ``cart=``, for example
the order's line items; the updated line replaces its namesake, by line ID). ``line_update="delta"``
sends an ``a2c`` of the increase (pass ``previous_quantity=``) and returns ``None`` for a decrease or
no change. A line message whose type was only *inferred* from its shape is treated as an add (pass
``event_type=`` to say otherwise); an add with ``previous_quantity=`` also sends only the increase.

Every REST event gets ``t`` and ``t0`` (``now``, epoch milliseconds) and ``uuid`` (default: the
message's ``UserContext.AnonymousId``; for a message with a user ID but no anonymous ID, the one
``links=`` holds for that user — see :mod:`ordercloud_tracking.stores`) or ``user_id``; at least one of
those is required. ``ip`` and ``user_agent`` go to ``value.context.geo`` / ``.browser`` (omitted when
unknown: degraded geo analytics). ``page`` (a URI or a dict) goes to ``value.context.page`` together
with the locale (``locale_language``, ``locale_country``, ``locale_currency``, lower-case) taken from
the message. The user ``{id, email}`` is added to ``value.context.user`` whenever it is known.

A field Discover requires that cannot be derived raises :class:`~ordercloud_tracking.MappingError`
naming the Discover field and the event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Literal, TypeAlias

from .._errors import MappingError
from ..models.commerce import LineItem
from ..models.tracking import TrackingEventType
from ..stores import IdentityLinks
from ._normalised import (
    Event,
    Line,
    contact_anonymous_id,
    json_number,
    json_quantity,
    lines_of,
    normalise,
    quantity_increase,
)
from .mapping import LineSource, MappingSource, UserSource

__all__ = ["LineUpdatePolicy", "discover_request_body", "to_discover_event"]

LineUpdatePolicy: TypeAlias = Literal["cart", "delta"]
"""How a line update reaches Discover: ``"cart"`` (``status:cart``) or ``"delta"`` (``a2c`` of the increase).

>>> from ordercloud_tracking.messages import parse_message
>>> update = parse_message({"UserContext": {"AnonymousId": "a-1"}, "OrderId": "o-1", "LineItem": {
...     "LineID": "li-1", "Product": {"ProductID": "SKU-1"}, "Quantity": 3, "Price": 5}},
...     event_type="LineItemUpdated")
>>> policy: LineUpdatePolicy = "delta"
>>> to_discover_event(update, line_update=policy, previous_quantity=1)["value"]["products"]
[{'sku': 'SKU-1', 'price': 5.0, 'quantity': 2}]
>>> to_discover_event(update, line_update="cart", cart=[])["type"]
'status'
"""


def _epoch_ms(now: datetime | None) -> int:
    if now is None:
        return int(time.time() * 1000)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return int(now.timestamp() * 1000)


def _locale(language: str | None, currency: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if language:
        parts = language.replace("_", "-").split("-")
        if parts[0]:
            out["locale_language"] = parts[0].lower()
        if len(parts) > 1 and parts[-1]:
            out["locale_country"] = parts[-1].lower()
    if currency:
        out["locale_currency"] = currency.lower()
    return out


def _user(event: Event) -> dict[str, str]:
    user: dict[str, str] = {}
    if event.user_id:
        user["id"] = event.user_id
    if event.email:
        user["email"] = event.email
    return user


def _product(line: Line, target: str, *, quantity: Decimal | None = None, price: bool = True) -> dict[str, Any]:
    if not line.sku:
        raise MappingError("products[].sku", target, "the line has no product ID")
    amount = quantity if quantity is not None else line.quantity
    if amount is None:
        raise MappingError("products[].quantity", target, f"line {line.line_id!r} has no Quantity")
    product: dict[str, Any] = {"sku": line.sku}
    if line.unit_price is not None:
        product["price"] = json_number(line.unit_price)
    elif price:
        raise MappingError("products[].price", target, f"line {line.line_id!r} has no Price")
    product["quantity"] = json_quantity(amount)
    return product


def _merged_cart(cart: Sequence[LineSource], line: Line | None) -> list[Line]:
    lines = list(lines_of(cart))
    if line is None:
        return lines
    for index, existing in enumerate(lines):
        if line.line_id is not None and existing.line_id == line.line_id:
            lines[index] = line
            return lines
    return [*lines, line]


def to_discover_event(
    message: MappingSource,
    *,
    uuid: str | None = None,
    user_id: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    page: Mapping[str, Any] | str | None = None,
    now: datetime | None = None,
    line_update: LineUpdatePolicy = "cart",
    cart: Sequence[LineSource] | None = None,
    previous_quantity: Decimal | int | float | None = None,
    page_type: str = "pdp",
    line_item: LineItem[Any] | None = None,
    line_items: Sequence[LineItem[Any]] | None = None,
    user: UserSource | None = None,
    event_type: TrackingEventType | str | None = None,
    links: IdentityLinks | None = None,
) -> dict[str, Any] | None:
    """The Discover event (a JSON-ready dict) for a tracking message or hydrated OrderCloud objects."""
    if line_update not in ("cart", "delta"):
        raise ValueError(f"line_update must be 'cart' or 'delta', not {line_update!r}")
    event = normalise(
        message,
        target="Discover",
        line_item=line_item,
        line_items=line_items,
        user=user,
        event_type=event_type,
    )
    body: dict[str, Any]
    value: dict[str, Any] = {}
    kind = event.event_type
    if kind == TrackingEventType.USER_LOGGED_IN:
        if not _user(event):
            raise MappingError("value.context.user", "Discover user:login", "the user has no ID and no email")
        body = {"type": "user", "name": "login"}
    elif kind in (TrackingEventType.LINE_ITEM_ADDED, TrackingEventType.LINE_ITEM_UPDATED):
        line = event.line
        if kind == TrackingEventType.LINE_ITEM_UPDATED and line_update == "cart":
            target = "Discover status:cart"
            if cart is None:
                raise MappingError(
                    "value.products", target, "status:cart needs the whole cart: pass cart= (the order's lines)"
                )
            body = {"type": "status", "name": "cart"}
            value["products"] = [_product(item, target, price=False) for item in _merged_cart(cart, line)]
        else:
            target = "Discover a2c"
            if line is None:
                raise MappingError("value.products", target, "the message has no LineItem")
            quantity = line.quantity
            if kind == TrackingEventType.LINE_ITEM_UPDATED or previous_quantity is not None:
                quantity = quantity_increase(
                    line,
                    previous_quantity,
                    field="value.products[0].quantity",
                    target=target,
                    needs_previous="a delta a2c needs previous_quantity=",
                )
                if quantity is None:
                    return None
            body = {"type": "a2c", "name": page_type}
            value["products"] = [_product(line, target, quantity=quantity)]
    elif kind == TrackingEventType.ORDER_SUBMITTED:
        target = "Discover order:confirm"
        body = {"type": "order", "name": "confirm"}
        value["products"] = [_confirmed_product(line, target) for line in event.lines]
        order_id, subtotal, total = event.order_id, event.order_subtotal, event.order_total
        if not order_id:
            raise MappingError("value.checkout.order_id", target, "the order has no ID")
        if subtotal is None:
            raise MappingError("value.checkout.subtotal", target, "the order has no subtotal")
        if total is None:
            raise MappingError("value.checkout.total", target, "the order has no total")
        value["checkout"] = {"order_id": order_id, "subtotal": json_number(subtotal), "total": json_number(total)}
    else:  # pragma: no cover - normalise only returns the four kinds
        raise MappingError("type", "Discover", f"no Discover event for {kind!r}")

    anonymous = uuid if uuid is not None else (contact_anonymous_id(event, links) if user_id is None else None)
    if not anonymous and not user_id:
        raise MappingError("uuid", "Discover", "pass uuid=, user_id= or links= (the message has no AnonymousId)")
    if anonymous:
        body["uuid"] = anonymous
    if user_id:
        body["user_id"] = user_id
    stamp = _epoch_ms(now)
    body["t"] = stamp
    body["t0"] = stamp
    body["value"] = {"context": _context(event, ip=ip, user_agent=user_agent, page=page), **value}
    return body


def _confirmed_product(line: Line, target: str) -> dict[str, Any]:
    product = _product(line, target, price=False)
    product.pop("price", None)
    after_discount: Decimal | None = None
    if line.line_total is not None and line.quantity:
        after_discount = line.line_total / line.quantity
    elif line.unit_price is not None:
        after_discount = line.unit_price
    if after_discount is None:
        raise MappingError("products[].price", target, f"line {line.line_id!r} has no LineTotal or Price")
    product["price"] = json_number(after_discount)
    if line.unit_price is not None:
        product["price_original"] = json_number(line.unit_price)
    return product


def _context(
    event: Event, *, ip: str | None, user_agent: str | None, page: Mapping[str, Any] | str | None
) -> dict[str, Any]:
    context: dict[str, Any] = {}
    page_info: dict[str, Any] = {"uri": page} if isinstance(page, str) else dict(page or {})
    for key, text in _locale(event.language, event.currency).items():
        page_info.setdefault(key, text)
    if page_info:
        context["page"] = page_info
    if ip:
        context["geo"] = {"ip": ip}
    if user_agent:
        context["browser"] = {"user_agent": user_agent}
    user = _user(event)
    if user:
        context["user"] = user
    return context


def discover_request_body(event: Mapping[str, Any]) -> dict[str, str]:
    """The body to ``POST`` to the Events API URL: ``{"data": "<event JSON as a string>"}``."""
    return {"data": json.dumps(event, separators=(",", ":"))}
