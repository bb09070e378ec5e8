"""Build Sitecore Send (Moosend website tracking) payloads from tracking messages or hydrated objects.

============================  ==================================================================
Input                         Send payload (``POST https://t.stat-track.com`` + path)
============================  ==================================================================
login                         ``IDENTIFY`` (``/identify``): ``ContactEmailAddress`` (required,
                              must be an email), ``ContactName`` = first + last name
line added                    ``ADDED_TO_ORDER`` (``/track``): ``properties: [{"product": {…}}]``
line updated                  ``ADDED_TO_ORDER`` with the positive quantity delta only (pass
                              ``previous_quantity=``); ``None`` for a decrease or no change
order submitted               ``ORDER_COMPLETED`` (``/track``):
                              ``properties: [{"products": […], "totalPrice": OrderTotal}]``
============================  ==================================================================

Every payload has ``siteId`` (the Send website ID, ``SendEvent.SiteID``; must be a UUID),
``actionType``, ``ContactId`` (default: the message's ``UserContext.AnonymousId``; for a message with a
user ID but no anonymous ID, the one ``links=`` holds for that user — see
:mod:`ordercloud_tracking.stores`) and ``sessionId`` (a fresh one is generated when ``None``), plus
``ContactEmailAddress`` when known.

A product is ``itemCode`` (the product ID; the variant ID for hydrated lines that have one),
``itemPrice`` (unit price), ``itemQuantity``, ``itemTotalPrice`` (``LineTotal``, or unit price x delta
for an update), ``itemName`` (``"Product (Variant)"``), ``itemUrl`` and ``itemImage`` (from the
``item_url`` / ``item_image`` templates or callables, when given) and ``currencyCode``. Templates may
use ``{ProductID}`` (the SKU), ``{LineID}`` and ``{OrderID}``; a callable receives the message line
(or hydrated ``LineItem``) and returns the URL or ``None``.
"""

from __future__ import annotations

import re
import uuid as uuid_module
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeAlias
from urllib.parse import urlsplit

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
    normalise,
    quantity_increase,
)
from .mapping import LineSource, MappingSource, UserSource

__all__ = ["SEND_HOST", "SEND_STAGING_HOST", "UrlSource", "send_url", "to_send_event"]

SEND_HOST = "https://t.stat-track.com"
"""Production host of the Send tracking endpoints.

>>> send_url({"actionType": "IDENTIFY"}) == SEND_HOST + "/identify"
True
"""
SEND_STAGING_HOST = "https://t.stat-track-staging.com"
"""Staging host of the Send tracking endpoints.

>>> send_url({"actionType": "ADDED_TO_ORDER"}, staging=True) == SEND_STAGING_HOST + "/track"
True
"""

UrlSource: TypeAlias = "str | Callable[[LineSource], str | None]"
"""A URL template (``{ProductID}``, ``{LineID}``, ``{OrderID}``) or a callable taking the line.

>>> from ordercloud_tracking.messages import parse_message
>>> line = parse_message({"OrderId": "o-1", "LineItem": {"LineID": "li-1", "Product": {"ProductID": "SKU-1"}}})
>>> url: UrlSource = "https://shop.example.com/p/{ProductID}"
>>> payload = to_send_event(line, site_id="0f8fad5b-d9cb-469f-a165-70867728950e", contact_id="c",
...                         session_id="s", item_url=url)
>>> payload["properties"][0]["product"]["itemUrl"]
'https://shop.example.com/p/SKU-1'
"""

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _url(source: UrlSource | None, line: Line, event: Event, field: str, target: str) -> str | None:
    if source is None:
        return None
    if callable(source):
        url = source(line.source)
    else:
        url = source
        for key, value in (("{ProductID}", line.sku), ("{LineID}", line.line_id), ("{OrderID}", event.order_id)):
            if key in url:
                if value is None:
                    raise MappingError(field, target, f"the template needs {key[1:-1]}, which is missing")
                url = url.replace(key, value)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise MappingError(field, target, "not an absolute http(s) URL")
    return url


def _product(
    line: Line,
    event: Event,
    target: str,
    *,
    quantity: Decimal | None,
    total: Decimal | None,
    item_url: UrlSource | None,
    item_image: UrlSource | None,
) -> dict[str, Any]:
    if not line.sku:
        raise MappingError("itemCode", target, "the line has no product ID")
    product: dict[str, Any] = {"itemCode": line.sku}
    if line.unit_price is not None:
        product["itemPrice"] = json_number(line.unit_price)
    url = _url(item_url, line, event, "itemUrl", target)
    if url is not None:
        product["itemUrl"] = url
    if quantity is not None:
        product["itemQuantity"] = json_quantity(quantity)
    if total is not None:
        product["itemTotalPrice"] = json_number(total)
    if line.name:
        product["itemName"] = f"{line.name} ({line.variant_name})" if line.variant_name else line.name
    image = _url(item_image, line, event, "itemImage", target)
    if image is not None:
        product["itemImage"] = image
    if event.currency:
        product["currencyCode"] = event.currency
    return product


def to_send_event(
    message: MappingSource,
    *,
    site_id: str,
    contact_id: str | None,
    session_id: str | None,
    item_url: UrlSource | None = None,
    item_image: UrlSource | None = None,
    previous_quantity: Decimal | int | float | None = None,
    line_item: LineItem[Any] | None = None,
    line_items: Sequence[LineItem[Any]] | None = None,
    user: UserSource | None = None,
    event_type: TrackingEventType | str | None = None,
    links: IdentityLinks | None = None,
) -> dict[str, Any] | None:
    """The Send payload (a JSON-ready dict) for a tracking message or hydrated OrderCloud objects."""
    if not isinstance(site_id, str) or not _UUID.match(site_id):
        raise MappingError("siteId", "Send", "the Send website ID must be a UUID")
    event = normalise(
        message, target="Send", line_item=line_item, line_items=line_items, user=user, event_type=event_type
    )
    contact = contact_id if contact_id is not None else contact_anonymous_id(event, links)
    if not contact:
        raise MappingError("ContactId", "Send", "pass contact_id= or links= (the message has no AnonymousId)")
    session = session_id if session_id is not None else uuid_module.uuid4().hex

    def envelope(action: str) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "siteId": site_id,
            "actionType": action,
            "ContactId": contact,
            "sessionId": session,
        }
        if event.email:
            payload["ContactEmailAddress"] = event.email
        return payload

    kind = event.event_type
    if kind == TrackingEventType.USER_LOGGED_IN:
        if not event.email or not _EMAIL.match(event.email):
            raise MappingError("ContactEmailAddress", "Send IDENTIFY", "a valid email is required")
        payload = envelope("IDENTIFY")
        name = " ".join(part for part in (event.first_name, event.last_name) if part)
        if name:
            payload["ContactName"] = name
        return payload
    if kind in (TrackingEventType.LINE_ITEM_ADDED, TrackingEventType.LINE_ITEM_UPDATED):
        target = "Send ADDED_TO_ORDER"
        line = event.line
        if line is None:
            raise MappingError("properties[0].product", target, "the message has no LineItem")
        quantity, total = line.quantity, line.line_total
        if kind == TrackingEventType.LINE_ITEM_UPDATED or previous_quantity is not None:
            quantity = quantity_increase(
                line,
                previous_quantity,
                field="itemQuantity",
                target=target,
                needs_previous="a line update is sent as its positive delta: pass previous_quantity=",
            )
            if quantity is None:
                return None
            total = line.unit_price * quantity if line.unit_price is not None else None
        product = _product(
            line, event, target, quantity=quantity, total=total, item_url=item_url, item_image=item_image
        )
        payload = envelope("ADDED_TO_ORDER")
        payload["properties"] = [{"product": product}]
        return payload
    if kind == TrackingEventType.ORDER_SUBMITTED:
        target = "Send ORDER_COMPLETED"
        products = [
            _product(
                line,
                event,
                target,
                quantity=line.quantity,
                total=line.line_total,
                item_url=item_url,
                item_image=item_image,
            )
            for line in event.lines
        ]
        order: dict[str, Any] = {"products": products}
        if event.order_total is not None:
            order["totalPrice"] = json_number(event.order_total)
        payload = envelope("ORDER_COMPLETED")
        payload["properties"] = [order]
        return payload
    raise MappingError("actionType", "Send", f"no Send event for {kind!r}")  # pragma: no cover


def send_url(payload: dict[str, Any], *, staging: bool = False) -> str:
    """Where to ``POST`` a payload from :func:`to_send_event`: ``/identify`` or ``/track``."""
    host = SEND_STAGING_HOST if staging else SEND_HOST
    return f"{host}/identify" if payload.get("actionType") == "IDENTIFY" else f"{host}/track"
