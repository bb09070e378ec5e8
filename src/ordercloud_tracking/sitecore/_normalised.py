"""The input of the Discover and Send builders, normalised: one :class:`Event` from a message or hydrated objects.

Private to :mod:`ordercloud_tracking.sitecore`; the names have no underscore because ``discover`` and
``send`` share them.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from .._errors import MappingError
from ..messages import (
    MessageLineItem,
    OrderLineMessage,
    OrderSubmitted,
    SessionIdentified,
    UnknownMessage,
    message_class_for,
)
from ..models.commerce import LineItem, MeUser, Order, OrderUser, User
from ..models.tracking import TrackingEventType
from ..stores import IdentityLinks

if TYPE_CHECKING:
    from .mapping import LineSource, MappingSource, UserSource

__all__ = [
    "Event",
    "Line",
    "contact_anonymous_id",
    "enum_text",
    "json_number",
    "json_quantity",
    "lines_of",
    "normalise",
    "quantity_increase",
]


def enum_text(value: object) -> str:
    """The value of an enum member, or the text of anything else, stripped."""
    return str(value.value if isinstance(value, enum.Enum) else value).strip()


@attrs.frozen
class Line:
    """One line item, from a message or hydrated."""

    source: Any
    line_id: str | None
    sku: str | None
    name: str | None
    variant_name: str | None
    unit_price: Decimal | None
    quantity: Decimal | None
    line_total: Decimal | None


@attrs.frozen
class Event:
    """What both builders read, whatever the input was."""

    event_type: TrackingEventType
    user_id: str | None = None
    anonymous_id: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    language: str | None = None
    currency: str | None = None
    order_id: str | None = None
    order_total: Decimal | None = None
    order_subtotal: Decimal | None = None
    line: Line | None = None
    lines: tuple[Line, ...] = ()


def _line(item: LineSource) -> Line:
    if isinstance(item, MessageLineItem):
        product = item.product
        variant = product.variant if product is not None else None
        return Line(
            source=item,
            line_id=item.line_id,
            sku=product.product_id if product is not None else None,
            name=product.product_name if product is not None else None,
            variant_name=variant.variant_name if variant is not None else None,
            unit_price=item.unit_price,
            quantity=item.quantity,
            line_total=item.line_total,
        )
    if isinstance(item, LineItem):
        variant_id = item.variant.id if item.variant is not None else None
        return Line(
            source=item,
            line_id=item.id,
            sku=variant_id or item.product_id,  # as Demo.Edge does: the variant when there is one
            name=item.product.name if item.product is not None else None,
            variant_name=item.variant.name if item.variant is not None else None,
            unit_price=item.unit_price,
            quantity=Decimal(item.quantity) if item.quantity is not None else None,
            line_total=item.line_total,
        )
    raise TypeError(f"Expected a MessageLineItem or a LineItem, not {type(item).__name__}")


def lines_of(items: Sequence[LineSource] | None) -> tuple[Line, ...]:
    """The normalised lines of message or hydrated line items."""
    return tuple(_line(item) for item in items or ())


def _line_event_type(event_type: TrackingEventType | str | None, default: TrackingEventType) -> TrackingEventType:
    if event_type is None:
        return default
    cls = message_class_for(enum_text(event_type))
    if cls is None or not issubclass(cls, OrderLineMessage):
        raise ValueError(f"event_type must be LineItemAdded or LineItemUpdated here, not {event_type!r}")
    return cls.event_type


def normalise(
    message: MappingSource,
    *,
    target: str,
    line_item: LineItem[Any] | None = None,
    line_items: Sequence[LineItem[Any]] | None = None,
    user: UserSource | None = None,
    event_type: TrackingEventType | str | None = None,
) -> Event:
    """The :class:`Event` of a message or hydrated objects (``MappingError``/``TypeError`` if it has none)."""
    if isinstance(message, UnknownMessage):
        raise MappingError("event type", target, f"the message type {message.type_name!r} is not one of the four")
    if isinstance(message, (SessionIdentified, OrderLineMessage, OrderSubmitted)):
        context: dict[str, Any] = {
            "user_id": message.user_id,
            "anonymous_id": message.anonymous_id,
            "email": message.email,
            "currency": message.currency,
        }
        if isinstance(message, SessionIdentified):
            return Event(
                TrackingEventType.USER_LOGGED_IN,
                first_name=message.first_name,
                last_name=message.last_name,
                language=message.language,
                **context,
            )
        if isinstance(message, OrderLineMessage):
            return Event(
                _line_event_type(event_type, message.event_type),
                language=message.language,
                order_id=message.order_id,
                line=_line(message.line_item) if message.line_item is not None else None,
                **context,
            )
        return Event(
            TrackingEventType.ORDER_SUBMITTED,
            order_id=message.order_id,
            order_total=message.order_total,
            order_subtotal=message.order_subtotal,
            lines=lines_of(message.line_items),
            **context,
        )
    if isinstance(message, (User, MeUser, OrderUser)):
        locale = message.locale
        return Event(
            TrackingEventType.USER_LOGGED_IN,
            user_id=message.id,
            email=message.email,
            first_name=message.first_name,
            last_name=message.last_name,
            language=locale.language if locale is not None else None,
            currency=locale.currency if locale is not None else None,
        )
    if isinstance(message, Order):
        who = user if user is not None else message.from_user
        user_id = user.id if user is not None else (who.id if who is not None else None) or message.from_user_id
        locale = who.locale if who is not None else None
        common: dict[str, Any] = {
            "user_id": user_id,
            "email": who.email if who is not None else None,
            "language": locale.language if locale is not None else None,
            "currency": message.currency,
            "order_id": message.id,
        }
        if line_item is not None:
            kind = _line_event_type(event_type, TrackingEventType.LINE_ITEM_ADDED)
            return Event(kind, line=_line(line_item), **common)
        if line_items is not None:
            return Event(
                TrackingEventType.ORDER_SUBMITTED,
                order_total=message.total,
                order_subtotal=message.subtotal,
                lines=lines_of(line_items),
                **common,
            )
        raise TypeError("With an Order, pass line_item= (a line event) or line_items= (a submitted order)")
    raise TypeError(f"Cannot map a {type(message).__name__} to a Sitecore event")


def json_number(value: Decimal) -> float:
    """A money amount as a JSON number."""
    return float(value)


def json_quantity(value: Decimal) -> int | float:
    """A quantity as a JSON number: an integer when it is whole."""
    return int(value) if value == value.to_integral_value() else float(value)


def quantity_increase(
    line: Line, previous_quantity: Decimal | int | float | None, *, field: str, target: str, needs_previous: str
) -> Decimal | None:
    """``line.quantity - previous_quantity`` when positive, else ``None`` (nothing to send)."""
    if previous_quantity is None:
        raise MappingError(field, target, needs_previous)
    if line.quantity is None:
        raise MappingError(field, target, "the line has no Quantity")
    increase = line.quantity - Decimal(str(previous_quantity))
    return increase if increase > 0 else None


def contact_anonymous_id(event: Event, links: IdentityLinks | None) -> str | None:
    """The event's anonymous ID; without one, the anonymous ID ``links`` holds for its user (stitching)."""
    if event.anonymous_id:
        return event.anonymous_id
    if links is not None and event.user_id:
        return links.anonymous_id_for(event.user_id)
    return None
