"""The messages OrderCloud delivers for tracking events, and :func:`parse_message`.

OrderCloud publishes four tracking events. Each has a *backbone* type name (what Sitecore Send and
Discover consume), a *delivery-config namespace* alias (what the reference pages call the message
namespace for custom targets), a :class:`~ordercloud_tracking.TrackingEventType`, and a payload model:

=======================  ===========================================================  =====================
``TrackingEventType``    type name (``sitecore.backbone.messages.`` /                 model
                         ``sitecore.ordercloud.messages.`` + …)
=======================  ===========================================================  =====================
``UserLoggedIn``         ``sessions.identified``                                      :class:`SessionIdentified`
``LineItemAdded``        ``orders.lines.added``                                       :class:`OrderLineAdded`
``LineItemUpdated``      ``orders.lines.updated``                                     :class:`OrderLineUpdated`
``OrderSubmitted``       ``orders.submitted``                                         :class:`OrderSubmitted`
=======================  ===========================================================  =====================

The models keep the exact documented casing — ``OrderId`` on a line message but ``OrderID`` on the
order message, ``AnonymousId``, ``LineSubTotal`` with a capital ``T`` — keep unknown fields, and hold
money and quantities as :class:`~decimal.Decimal`.

How :func:`parse_message` decides the type (OrderCloud's ``Http`` deliveries are the envelope
``{"Headers": {"type": "<namespace>"}, "Payload": {<message>}}``; Event Hubs and Kafka may carry the bare
message; it tolerates all of these):

1. an explicit ``event_type=`` (a ``TrackingEventType``, either namespace name, or a message class);
2. ``Headers.type`` of the envelope (keys ``Headers``, ``type`` and ``Payload`` in any casing; either
   namespace prefix) — the only place that tells ``LineItemAdded`` from ``LineItemUpdated``;
3. a type found in the body or in another wrapper around it. Wrappers are recognised by a payload key
   (``Message``, ``Payload``, ``Body``, ``Data``, ``Event``, ``Detail``, ``Content`` — any casing,
   a nested object or a JSON string), up to four levels deep; type keys are ``EventType``,
   ``TrackingEventType``, ``MessageType``, ``Namespace``, ``EventName`` (which always declare the
   event) and ``Type``, ``Topic``, ``Subject`` (which only count when their value is a name this
   module knows or starts with ``sitecore.``, so an SNS ``"Type": "Notification"`` is ignored).
   A declared type this module does not know gives an :class:`UnknownMessage` — a new event type is
   never mistaken for a known one;
4. a *type hint* for a body that declares none (:func:`decode_delivery`'s ``type_hint=``, the
   receiver apps' ``?type=``, a record's ``type`` header in :func:`parse_record`);
5. the shape: ``LineItems`` (or order totals) → :class:`OrderSubmitted`; ``LineItem`` or ``OrderId``
   → :class:`OrderLineAdded` *marked* ``type_inferred`` (a line message does not say whether it was an
   add or an update: treat it as absolute line state); ``FirstName``/``LastName`` without order fields
   → :class:`SessionIdentified`;
6. anything else — or a body that does not validate as the chosen model — is an :class:`UnknownMessage`
   holding the raw object. Only a body that is not a JSON object raises (:class:`InvalidPayloadError`).

Enums sent as integers, as sibling OrderCloud messages do, are read as their string members:
``OrderStatus`` 1 to 6 → ``Unsubmitted``, ``AwaitingApproval``, ``Declined``, ``Open``, ``Completed``,
``Canceled`` (:data:`ORDER_STATUS_CODES`, the order of the API's ``OrderStatus``), ``UserType`` 0 to 2 →
``Buyer``, ``Supplier``, ``Admin`` (:data:`USER_TYPE_CODES`). Another integer is kept as its text.

The builders :func:`session_identified`, :func:`order_line` and :func:`order_submitted` do what
OrderCloud does server-side: they turn hydrated API objects into the message it would deliver.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, NamedTuple, TypeAlias, cast

import attrs
import pydantic_core
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from ._errors import InvalidPayloadError
from .models._base import Money, OCModel
from .models.tracking import TrackingEventType

if TYPE_CHECKING:
    from .models.commerce import LineItem, Locale, MeUser, Order, OrderUser, Payment, User

__all__ = [
    "DecodedDelivery",
    "MESSAGE_CLASSES",
    "Message",
    "MessageLineItem",
    "MessageProduct",
    "MessageVariant",
    "ORDER_STATUS_CODES",
    "OrderLineAdded",
    "OrderLineMessage",
    "OrderLineUpdated",
    "OrderSubmitted",
    "SessionIdentified",
    "TrackingMessage",
    "USER_TYPE_CODES",
    "UnknownMessage",
    "UserContext",
    "decode_delivery",
    "message_class_for",
    "order_line",
    "order_submitted",
    "parse_message",
    "parse_record",
    "session_identified",
]

BACKBONE_PREFIX = "sitecore.backbone.messages."
ORDERCLOUD_PREFIX = "sitecore.ordercloud.messages."


class _MessageModel(OCModel):
    """Base of the delivered-message models (every field optional, so no API-body filling is needed)."""


# Sibling OrderCloud messages send enums as integers (reference §15); these are the string members they
# stand for. ``OrderStatus`` counts from 1 in the order of the API's ``OrderStatus`` enum; ``UserType``
# counts from 0. An integer outside the table is kept as its decimal text.
ORDER_STATUS_CODES: dict[int, str] = {
    1: "Unsubmitted",
    2: "AwaitingApproval",
    3: "Declined",
    4: "Open",
    5: "Completed",
    6: "Canceled",
}
"""``OrderStatus`` sent as an integer → the string member (:class:`~ordercloud_tracking.models.commerce.OrderStatus`).

>>> OrderSubmitted.model_validate({"OrderStatus": 4}).order_status, ORDER_STATUS_CODES[4]
('Open', 'Open')
"""
USER_TYPE_CODES: dict[int, str] = {0: "Buyer", 1: "Supplier", 2: "Admin"}
"""``UserType`` sent as an integer → its name (kept as an unknown field of :class:`UserContext`).

>>> UserContext.model_validate({"ID": "u-1", "UserType": 2}).to_request()
{'ID': 'u-1', 'UserType': 'Admin'}
"""


def _enum_text(codes: Mapping[int, str]) -> Callable[[object], object]:
    def convert(value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return codes.get(value, str(value))
        return value

    return convert


_OrderStatusText = Annotated[str | None, BeforeValidator(_enum_text(ORDER_STATUS_CODES))]


class UserContext(_MessageModel):
    """Who caused the event (``UserContext`` in every message).

    ``ID`` is the OrderCloud user ID when the shopper is authenticated; ``AnonymousId`` is the
    ``anonuserid`` given with the anonymous token, set while anonymous and when turning known.

    >>> UserContext.model_validate({"ID": "u-1", "AnonymousId": "7c9e"}).anonymous_id
    '7c9e'
    >>> UserContext(id="u-1").to_request()
    {'ID': 'u-1'}
    """

    id: str | None = Field(default=None, alias="ID")
    anonymous_id: str | None = Field(default=None, alias="AnonymousId")

    @model_validator(mode="before")
    @classmethod
    def _user_type_text(cls, data: Any) -> Any:
        # ``UserType`` is not documented on tracking messages; when it comes (as sibling messages send
        # it, an integer), it is kept as an unknown field, by name.
        if isinstance(data, dict) and isinstance(data.get("UserType"), int):
            data = {**data, "UserType": _enum_text(USER_TYPE_CODES)(data["UserType"])}
        return data


class MessageVariant(_MessageModel):
    """The variant of a message line (``VariantName``, ``VariantDescription``; no variant ID).

    >>> MessageVariant.model_validate({"VariantName": "Blue"}).variant_name
    'Blue'
    """

    variant_name: str | None = Field(default=None, alias="VariantName")
    variant_description: str | None = Field(default=None, alias="VariantDescription")


class MessageProduct(_MessageModel):
    """The product of a message line. ``Price`` is the unit price.

    >>> MessageProduct.model_validate({"ProductID": "SKU-1", "Price": 10.5}).price
    Decimal('10.5')
    """

    product_id: str | None = Field(default=None, alias="ProductID")
    product_name: str | None = Field(default=None, alias="ProductName")
    product_description: str | None = Field(default=None, alias="ProductDescription")
    price: Money | None = Field(default=None, alias="Price")
    variant: MessageVariant | None = Field(default=None, alias="Variant")
    xp: dict[str, Any] | None = Field(default=None, alias="xp")


class MessageLineItem(_MessageModel):
    """A line of a message (``LineID``, ``Quantity``, ``Price``, ``LineTotal``, ``LineSubTotal``, ``xp``).

    ``Price`` is the unit price, ``LineSubTotal`` (capital ``T``) is unit price x quantity and
    ``LineTotal`` is ``LineSubTotal`` minus the line's promotion discount. ``Quantity`` is a decimal in
    the reference and an integer in the API: both are accepted, and an integral value is written as an
    integer.

    >>> line = MessageLineItem.model_validate({"LineID": "li-1", "Quantity": 2, "LineSubTotal": 20})
    >>> line.quantity, line.line_subtotal, line.to_request()["Quantity"]
    (Decimal('2'), Decimal('20'), 2)
    >>> line.unit_price is None
    True
    """

    line_id: str | None = Field(default=None, alias="LineID")
    product: MessageProduct | None = Field(default=None, alias="Product")
    quantity: Money | None = Field(default=None, alias="Quantity")
    price: Money | None = Field(default=None, alias="Price")
    line_total: Money | None = Field(default=None, alias="LineTotal")
    line_subtotal: Money | None = Field(default=None, alias="LineSubTotal")
    xp: dict[str, Any] | None = Field(default=None, alias="xp")

    @property
    def unit_price(self) -> Decimal | None:
        """``Price``, or the product's ``Price`` when the line has none (the reference is unsure).

        >>> MessageLineItem.model_validate({"Product": {"Price": 4}}).unit_price
        Decimal('4')
        """
        if self.price is not None:
            return self.price
        return self.product.price if self.product is not None else None


class TrackingMessage(_MessageModel):
    """Base class of the four typed messages.

    Each subclass knows its event: ``event_type`` (a :class:`~ordercloud_tracking.TrackingEventType`),
    ``backbone_type`` (``sitecore.backbone.messages.*``) and ``namespace``
    (``sitecore.ordercloud.messages.*``). ``type_inferred`` tells whether :func:`parse_message` chose
    the class from the shape of the body rather than from a declared type, and ``envelope`` holds the
    wrapper the message came in (without the message), if any.

    >>> OrderSubmitted.event_type, OrderSubmitted.namespace
    (<TrackingEventType.ORDER_SUBMITTED: 'OrderSubmitted'>, 'sitecore.ordercloud.messages.orders.submitted')
    """

    event_type: ClassVar[TrackingEventType]
    backbone_type: ClassVar[str]
    namespace: ClassVar[str]

    user_context: UserContext | None = Field(default=None, alias="UserContext")

    # How the message was parsed lives in ``__pydantic_private__``, set by the parser; no ``PrivateAttr``,
    # whose initialisation would cost Python calls on every validated message (measured in ``make bench``).

    @property
    def type_inferred(self) -> bool:
        """Whether the type was recognised from the shape of the body (no type was declared).

        >>> parse_message({"OrderId": "o-1", "LineItem": {"LineID": "li-1"}}).type_inferred
        True
        """
        private = self.__pydantic_private__
        return bool(private and private.get("type_inferred"))

    @property
    def envelope(self) -> dict[str, Any] | None:
        """The outermost wrapper around the message, without the message itself (``None`` if bare).

        >>> parse_message({"Id": "d-1", "Data": {"OrderID": "o-1", "LineItems": []}}).envelope
        {'Id': 'd-1'}
        """
        private = self.__pydantic_private__
        return private.get("envelope") if private else None

    @property
    def user_id(self) -> str | None:
        """``UserContext.ID``: the authenticated OrderCloud user, if any.

        >>> SessionIdentified.model_validate({"UserContext": {"ID": "u-1"}}).user_id
        'u-1'
        """
        return self.user_context.id if self.user_context is not None else None

    @property
    def anonymous_id(self) -> str | None:
        """``UserContext.AnonymousId``: the beacon ID given with the anonymous token, if any.

        >>> SessionIdentified.model_validate({"UserContext": {"AnonymousId": "a-1"}}).anonymous_id
        'a-1'
        """
        return self.user_context.anonymous_id if self.user_context is not None else None


class SessionIdentified(TrackingMessage):
    """A shopper logged in (``UserLoggedIn``; ``sessions.identified``). This model has no ``xp``.

    >>> msg = parse_message(b'{"UserContext": {"ID": "u-1"}, "Email": "jane@example.com",'
    ...                     b' "FirstName": "Jane", "LastName": "Doe"}')
    >>> type(msg).__name__, msg.email, msg.type_inferred
    ('SessionIdentified', 'jane@example.com', True)
    """

    event_type: ClassVar[TrackingEventType] = TrackingEventType.USER_LOGGED_IN
    backbone_type: ClassVar[str] = BACKBONE_PREFIX + "sessions.identified"
    namespace: ClassVar[str] = ORDERCLOUD_PREFIX + "sessions.identified"

    language: str | None = Field(default=None, alias="Language")
    currency: str | None = Field(default=None, alias="Currency")
    email: str | None = Field(default=None, alias="Email")
    first_name: str | None = Field(default=None, alias="FirstName")
    last_name: str | None = Field(default=None, alias="LastName")


class OrderLineMessage(TrackingMessage):
    """Fields shared by :class:`OrderLineAdded` and :class:`OrderLineUpdated` (note ``OrderId``).

    The line's ``Quantity`` is the line's absolute quantity, for an update as for an add.

    >>> msg = parse_message({"OrderId": "o-1", "LineItem": {"LineID": "li-1", "Quantity": 3}})
    >>> isinstance(msg, OrderLineMessage), msg.order_id, msg.line_item.quantity
    (True, 'o-1', Decimal('3'))
    """

    language: str | None = Field(default=None, alias="Language")
    currency: str | None = Field(default=None, alias="Currency")
    email: str | None = Field(default=None, alias="Email")
    order_id: str | None = Field(default=None, alias="OrderId")
    line_item: MessageLineItem | None = Field(default=None, alias="LineItem")


class OrderLineAdded(OrderLineMessage):
    """A line item was added (``LineItemAdded``; ``orders.lines.added``).

    :func:`parse_message` also returns this class, with ``type_inferred`` set, for a line message whose
    type is not declared: the payload of an add and of an update are the same.

    >>> parse_message({"OrderId": "o-1", "LineItem": {}}, event_type="LineItemAdded").type_inferred
    False
    """

    event_type: ClassVar[TrackingEventType] = TrackingEventType.LINE_ITEM_ADDED
    backbone_type: ClassVar[str] = BACKBONE_PREFIX + "orders.lines.added"
    namespace: ClassVar[str] = ORDERCLOUD_PREFIX + "orders.lines.added"


class OrderLineUpdated(OrderLineMessage):
    """A line item was updated (``LineItemUpdated``; ``orders.lines.updated``). Same shape as added.

    >>> body = {"EventType": "sitecore.ordercloud.messages.orders.lines.updated",
    ...         "Message": {"OrderId": "o-1", "LineItem": {"LineID": "li-1", "Quantity": 5}}}
    >>> type(parse_message(body)).__name__
    'OrderLineUpdated'
    """

    event_type: ClassVar[TrackingEventType] = TrackingEventType.LINE_ITEM_UPDATED
    backbone_type: ClassVar[str] = BACKBONE_PREFIX + "orders.lines.updated"
    namespace: ClassVar[str] = ORDERCLOUD_PREFIX + "orders.lines.updated"


class OrderSubmitted(TrackingMessage):
    """An order was submitted (``OrderSubmitted``; ``orders.submitted``). Note ``OrderID``.

    ``Payments`` is undocumented and kept as loose JSON objects; ``OrderDate`` is kept as the string
    that was sent. No ``Language`` is documented on this model.

    >>> msg = parse_message(b'{"OrderID": "o-1", "OrderTotal": 42.5, "LineItems": []}')
    >>> type(msg).__name__, msg.order_total
    ('OrderSubmitted', Decimal('42.5'))
    """

    event_type: ClassVar[TrackingEventType] = TrackingEventType.ORDER_SUBMITTED
    backbone_type: ClassVar[str] = BACKBONE_PREFIX + "orders.submitted"
    namespace: ClassVar[str] = ORDERCLOUD_PREFIX + "orders.submitted"

    order_id: str | None = Field(default=None, alias="OrderID")
    currency: str | None = Field(default=None, alias="Currency")
    email: str | None = Field(default=None, alias="Email")
    order_date: str | None = Field(default=None, alias="OrderDate")
    order_status: _OrderStatusText = Field(default=None, alias="OrderStatus")
    order_total: Money | None = Field(default=None, alias="OrderTotal")
    order_subtotal: Money | None = Field(default=None, alias="OrderSubtotal")
    payments: list[dict[str, Any]] | None = Field(default=None, alias="Payments")
    line_items: list[MessageLineItem] | None = Field(default=None, alias="LineItems")
    xp: dict[str, Any] | None = Field(default=None, alias="xp")


class UnknownMessage(BaseModel):
    """A delivery this SDK does not recognise: the raw JSON object and the declared type, if any.

    ``data`` is the whole body as received (wrapper included). ``event_type`` is the declared type as
    a :class:`~ordercloud_tracking.TrackingEventType` when it looks like one (a name without dots, such
    as a newer ``"LineItemDeleted"``), else ``None``.

    >>> msg = parse_message({"EventType": "LineItemDeleted", "Message": {"OrderId": "o-1"}})
    >>> type(msg).__name__, msg.type_name, msg.event_type.is_known
    ('UnknownMessage', 'LineItemDeleted', False)
    >>> parse_message({"hello": "world"}).data
    {'hello': 'world'}
    """

    model_config = ConfigDict(frozen=True)

    data: dict[str, Any]
    type_name: str | None = None

    @property
    def event_type(self) -> TrackingEventType | None:
        """The declared type as a (possibly unknown) ``TrackingEventType``, if it looks like one.

        >>> UnknownMessage(data={}, type_name="sitecore.ordercloud.messages.ordersync.updated").event_type
        """
        if self.type_name and "." not in self.type_name:
            return TrackingEventType(self.type_name)
        return None

    def to_request(self) -> dict[str, Any]:
        """The raw object, as received.

        >>> UnknownMessage(data={"a": 1}).to_request()
        {'a': 1}
        """
        return dict(self.data)


Message: TypeAlias = SessionIdentified | OrderLineAdded | OrderLineUpdated | OrderSubmitted | UnknownMessage
"""What :func:`parse_message` returns: one of the four typed messages or an :class:`UnknownMessage`.

>>> msg: Message = parse_message({"OrderID": "o-1", "LineItems": []})
>>> isinstance(msg, OrderSubmitted)
True
"""

MESSAGE_CLASSES: tuple[type[TrackingMessage], ...] = (
    SessionIdentified,
    OrderLineAdded,
    OrderLineUpdated,
    OrderSubmitted,
)
"""The four typed message classes, in the order of the tracking event table.

>>> [cls.event_type.value for cls in MESSAGE_CLASSES]
['UserLoggedIn', 'LineItemAdded', 'LineItemUpdated', 'OrderSubmitted']
"""


def _build_type_index() -> dict[str, type[TrackingMessage]]:
    index: dict[str, type[TrackingMessage]] = {}
    for cls in MESSAGE_CLASSES:
        suffix = cls.backbone_type[len(BACKBONE_PREFIX) :]
        for name in (cls.event_type.value, cls.backbone_type, cls.namespace, suffix):
            index[name.lower()] = cls
    return index


_TYPE_INDEX = _build_type_index()


def message_class_for(name: str | type[TrackingMessage]) -> type[TrackingMessage] | None:
    """The message class for a type name, or ``None`` if the name is not one of the four events.

    Accepts a ``TrackingEventType`` (or its value), a ``sitecore.backbone.messages.*`` or
    ``sitecore.ordercloud.messages.*`` name, the bare suffix (``orders.submitted``), in any casing,
    or a message class.

    >>> message_class_for("sitecore.backbone.messages.orders.lines.added").__name__
    'OrderLineAdded'
    >>> message_class_for(TrackingEventType.USER_LOGGED_IN).__name__
    'SessionIdentified'
    >>> message_class_for("ordersync.updated") is None
    True
    """
    if isinstance(name, type):
        return name if issubclass(name, TrackingMessage) and name is not TrackingMessage else None
    return _TYPE_INDEX.get(_type_text(name).lower())


def _type_text(name: object) -> str:
    """The text of a type name; for an enum member (``SitecoreEventType``, ...) its value."""
    return str(name.value if isinstance(name, enum.Enum) else name).strip()


# --- parsing -------------------------------------------------------------------------------------------

_MAX_DEPTH = 4
_STRONG_TYPE_KEYS = frozenset({"eventtype", "trackingeventtype", "messagetype", "namespace", "eventname"})
_WEAK_TYPE_KEYS = frozenset({"type", "topic", "subject"})
_TYPE_KEYS = _STRONG_TYPE_KEYS | _WEAK_TYPE_KEYS
_PAYLOAD_KEYS = frozenset({"message", "payload", "body", "data", "event", "detail", "content"})
_ID_KEYS = frozenset({"id", "messageid", "eventid", "deliveryid", "logid", "notificationid"})
_MESSAGE_KEYS = frozenset(
    {"UserContext", "LineItem", "LineItems", "OrderID", "OrderId", "OrderTotal", "OrderSubtotal",
     "OrderDate", "OrderStatus", "FirstName", "LastName"}
)  # fmt: skip
_ORDER_KEYS = frozenset({"OrderID", "OrderTotal", "OrderSubtotal", "OrderStatus", "OrderDate", "Payments"})

_TypeName: TypeAlias = "TrackingEventType | str | type[TrackingMessage]"


def _norm(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def _names_an_event(value: str) -> bool:
    """Whether a loosely typed field (``type``, ``Headers.type``) holds an event type name."""
    return value.strip().lower().startswith("sitecore.") or message_class_for(value) is not None


@attrs.frozen
class DecodedDelivery:
    """What :func:`decode_delivery` returns: the message, its dedupe key and fingerprint.

    ``delivery_key`` is the entity whose latest state the message carries (``order:{OrderID}``,
    ``line:{OrderId}:{LineID}``, ``session:{UserContext.ID or AnonymousId}``), the ID of an envelope
    that has one, or else the SHA-256 of the body. ``fingerprint`` is the SHA-256 of the *message
    bytes* — the bare body, or the ``Payload`` of the ``{"Headers": …, "Payload": …}`` envelope — for an
    entity key, else ``""``. So a message has the same key and fingerprint enveloped or bare.

    >>> bare = b'{"OrderID": "o-1", "LineItems": []}'
    >>> enveloped = b'{"Headers": {"type": "sitecore.ordercloud.messages.orders.submitted"}, "Payload": ' + bare + b'}'
    >>> [(d.delivery_key, d.fingerprint[:8]) for d in (decode_delivery(bare), decode_delivery(enveloped))]
    [('order:o-1', 'aed89b16'), ('order:o-1', 'aed89b16')]
    """

    message: Message
    delivery_key: str
    fingerprint: str


class _Found(NamedTuple):
    message: dict[str, Any]
    wrapped: bool
    envelope: dict[str, Any] | None
    envelope_id: str | None
    header_type: str | None  # ``Headers.type`` of the outermost level that has one
    declared: list[tuple[str, bool]]  # (type name, declares the event on its own), innermost first


def _inner_payload(level: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    for key, value in level.items():
        if not isinstance(key, str) or _norm(key) not in _PAYLOAD_KEYS:
            continue
        if isinstance(value, dict):
            return key, value
        if isinstance(value, str) and value.lstrip().startswith("{"):
            try:
                decoded = json.loads(value)
            except (ValueError, RecursionError):
                continue
            if isinstance(decoded, dict):
                return key, decoded
    return None


def _headers_type(level: Mapping[str, Any]) -> str | None:
    """``Headers.type`` of an envelope level (keys in any casing), when it names an event type."""
    for key, value in level.items():
        if isinstance(key, str) and isinstance(value, dict) and key.lower() == "headers":
            for name, text in value.items():
                if isinstance(name, str) and name.lower() == "type" and isinstance(text, str) and _names_an_event(text):
                    return text.strip()
    return None


def _scan_level(level: Mapping[str, Any], declared: list[tuple[str, bool]]) -> str | None:
    # Appends this level's type names to ``declared`` and returns its ID-like value, if any.
    envelope_id: str | None = None
    for key, value in level.items():
        if not isinstance(key, str):
            continue
        norm = _norm(key)
        if isinstance(value, str) and not value.strip() and norm in _TYPE_KEYS:
            continue  # a blank type declares nothing
        if isinstance(value, str) and norm in _STRONG_TYPE_KEYS:
            declared.append((value, True))
        elif isinstance(value, str) and norm in _WEAK_TYPE_KEYS:
            declared.append((value, _names_an_event(value)))
        elif envelope_id is None and norm in _ID_KEYS:
            if isinstance(value, str) and value:
                envelope_id = value
            elif isinstance(value, int) and not isinstance(value, bool):
                envelope_id = str(value)
    return envelope_id


def _unwrap(obj: dict[str, Any]) -> _Found:
    levels: list[tuple[str, dict[str, Any]]] = []  # (payload key, wrapper), outermost first
    current = obj
    for _ in range(_MAX_DEPTH):
        if not _MESSAGE_KEYS.isdisjoint(current):
            break
        inner = _inner_payload(current)
        if inner is None:
            break
        levels.append((inner[0], current))
        current = inner[1]
    declared: list[tuple[str, bool]] = []
    envelope_id = _scan_level(current, declared)
    if levels or not declared:
        envelope_id = None  # an ID beside the message fields only counts in a flat envelope
    for _key, wrapper in reversed(levels):
        envelope_id = _scan_level(wrapper, declared) or envelope_id  # the outermost ID wins
    header_type = next(filter(None, map(_headers_type, [*(wrapper for _key, wrapper in levels), current])), None)
    envelope: dict[str, Any] | None = None
    if levels:
        key, outer = levels[0]
        envelope = {k: v for k, v in outer.items() if k != key}
    return _Found(current, bool(levels), envelope, envelope_id, header_type, declared)


def _class_from_shape(data: Mapping[str, Any]) -> type[TrackingMessage] | None:
    if "LineItems" in data:
        return OrderSubmitted
    if "LineItem" in data:
        return OrderLineAdded
    if not _ORDER_KEYS.isdisjoint(data):
        return OrderSubmitted
    if "OrderId" in data:
        return OrderLineAdded
    if "FirstName" in data or "LastName" in data:
        return SessionIdentified
    return None


class _Type(NamedTuple):
    """A type name resolved once: the class (``None`` if unknown) and the name as given."""

    cls: type[TrackingMessage] | None
    name: str

    @classmethod
    def of(cls, value: _TypeName | None) -> _Type | None:
        if value is None:
            return None
        name = value.__name__ if isinstance(value, type) else _type_text(value)
        return cls(message_class_for(value), name)


def _choose_class(found: _Found, override: _Type | None, hint: _Type | None) -> tuple[_Type | None, bool]:
    """The type to validate as (``None``: unknown) and whether it was inferred from the shape."""
    if override is not None:
        return override, False
    if found.header_type is not None:
        return _Type.of(found.header_type), False
    for name, declares in found.declared:  # innermost first; the first declaration decides
        if declares:
            return _Type.of(name), False
    if hint is not None and hint.cls is not None:
        return hint, False
    shaped = _class_from_shape(found.message)
    return (_Type(shaped, shaped.__name__), True) if shaped is not None else (None, True)


def _raw_bytes(body: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(body, str):
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidPayloadError("Body is not valid UTF-8 text") from exc
    else:
        raw = bytes(body)
    return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw


def _load(raw: bytes) -> Any:
    try:
        return pydantic_core.from_json(raw)
    except ValueError as exc:
        raise InvalidPayloadError(f"Body is not valid JSON: {exc}") from None


def _entity_key(message: Message) -> str | None:
    """The entity whose latest state a message carries (``None``: dedupe on the exact body)."""
    if isinstance(message, OrderSubmitted):
        return f"order:{message.order_id}" if message.order_id else None
    if isinstance(message, OrderLineMessage):
        line_id = message.line_item.line_id if message.line_item is not None else None
        return f"line:{message.order_id}:{line_id}" if message.order_id and line_id else None
    if isinstance(message, SessionIdentified):
        context = message.user_context
        who = (context.id or context.anonymous_id) if context is not None else None
        return f"session:{who}" if who else None
    return None


def _decoded(message: Message, envelope_id: str | None, content: bytes) -> DecodedDelivery:
    """Key and fingerprint of ``message``; ``content`` is what is hashed (the message bytes when known)."""
    if envelope_id:
        return DecodedDelivery(message, envelope_id, "")
    entity = _entity_key(message)
    digest = hashlib.sha256(content).hexdigest()
    return DecodedDelivery(message, entity, digest) if entity is not None else DecodedDelivery(message, digest, "")


# The documented forms are validated straight from the bytes (the body is parsed once, not twice):
# a bare message, recognised by a key it must have, and the envelope ``{"Headers": {…}, "Payload": {…}}``
# with its keys in that order. Anything else, or anything these paths are not sure of, takes the full path.
_SHAPE_HINTS: tuple[tuple[bytes, type[TrackingMessage]], ...] = (
    (b'"LineItems"', OrderSubmitted),
    (b'"LineItem"', OrderLineAdded),
    (b'"OrderID"', OrderSubmitted),
    (b'"OrderId"', OrderLineAdded),
    (b'"FirstName"', SessionIdentified),
    (b'"LastName"', SessionIdentified),
)
_JSON_SPACE = b" \t\r\n"
_ENVELOPE_HEAD = re.compile(rb'\s*\{\s*"(headers)"\s*:\s*(\{[^{}]*\})\s*,\s*"payload"\s*:\s*', re.IGNORECASE)


def _top_level(message: TrackingMessage) -> _Found:
    """The full path's reading of the top-level keys of a message validated straight from bytes."""
    fields = type(message).model_fields
    view: dict[str, Any] = {fields[name].alias or name: None for name in message.model_fields_set if name in fields}
    extra = message.__pydantic_extra__
    if not extra:  # only the model's own fields: no wrapper, no declared type, no envelope ID
        return _Found(view, False, None, None, None, [])
    view.update(extra)
    return _unwrap(view)


def _fast_check(message: TrackingMessage, override: _Type | None, hint: _Type | None) -> bool | None:
    """``None`` when the full path would choose another class for this bare body, else whether the class
    is inferred from the shape."""
    found = _top_level(message)
    if found.wrapped:
        return None
    chosen, inferred = _choose_class(found, override, hint)
    return inferred if chosen is not None and chosen.cls is type(message) else None


def _mark(message: TrackingMessage, *, inferred: bool, envelope: dict[str, Any] | None) -> None:
    """Record how ``message`` was parsed (see :attr:`TrackingMessage.type_inferred` and ``envelope``)."""
    object.__setattr__(message, "__pydantic_private__", {"type_inferred": inferred, "envelope": envelope})


def _decode_envelope(raw: bytes, head: re.Match[bytes], override: _Type | None) -> DecodedDelivery | None:
    try:
        headers = pydantic_core.from_json(head.group(2))
    except ValueError:
        return None
    headers_key = head.group(1).decode("ascii")
    if override is not None:
        chosen: _Type | None = override
    else:
        declared = _headers_type({headers_key: headers})
        chosen = _Type.of(declared) if declared is not None else None
    if chosen is None or chosen.cls is None:
        return None
    start, end = head.end(), len(raw)
    while end > start and raw[end - 1] in _JSON_SPACE:
        end -= 1
    if raw[end - 1 : end] != b"}":
        return None
    end -= 1  # the envelope's closing brace; the payload is what is between
    while end > start and raw[end - 1] in _JSON_SPACE:
        end -= 1
    payload = raw[start:end]
    if not payload.startswith(b"{"):
        return None
    try:
        message = chosen.cls.model_validate_json(payload)
    except ValidationError:  # not the message, or more keys after Payload: the full path decides
        return None
    if message.__pydantic_extra__ and _top_level(message).wrapped:
        return None  # a wrapper inside the payload
    _mark(message, inferred=False, envelope={headers_key: headers})
    return _decoded(cast(Message, message), None, payload)


def _decode_bare(raw: bytes, override: _Type | None, hint: _Type | None) -> DecodedDelivery | None:
    if override is not None:
        cls = override.cls
    else:
        cls = next((hinted for marker, hinted in _SHAPE_HINTS if marker in raw), None)
        if hint is not None and hint.cls is not None and cls is not None:
            cls = hint.cls
    if cls is None:
        return None
    try:
        message = cls.model_validate_json(raw)
    except ValidationError:
        return None
    inferred = _fast_check(message, override, hint)
    if inferred is None:
        return None
    _mark(message, inferred=inferred, envelope=None)
    return _decoded(cast(Message, message), None, raw)


def _decode(
    body: bytes | bytearray | memoryview | str | Mapping[str, Any], override: _Type | None, hint: _Type | None
) -> DecodedDelivery:
    if isinstance(body, Mapping):
        obj = dict(body)
        raw = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()  # what is hashed
    elif isinstance(body, (bytes, bytearray, memoryview, str)):
        raw = _raw_bytes(body)
        head = _ENVELOPE_HEAD.match(raw)
        fast = _decode_envelope(raw, head, override) if head else _decode_bare(raw, override, hint)
        if fast is not None:
            return fast
        obj = _load(raw)
    else:
        raise TypeError(f"parse_message() takes bytes, str or a mapping, not {type(body).__name__}")
    if not isinstance(obj, dict):
        raise InvalidPayloadError(f"Body is JSON but not an object (got {type(obj).__name__})")
    found = _unwrap(obj)
    chosen, inferred = _choose_class(found, override, hint)
    name = chosen.name if chosen is not None and not inferred else None  # a shape declares no name
    message: Message
    if chosen is None or chosen.cls is None:
        message = UnknownMessage.model_construct(data=obj, type_name=name)
        return _decoded(message, found.envelope_id, raw)
    try:
        typed = chosen.cls.model_validate(found.message)
    except ValidationError:
        message = UnknownMessage.model_construct(data=obj, type_name=name)
        return _decoded(message, found.envelope_id, raw)
    _mark(typed, inferred=inferred, envelope=found.envelope)
    return _decoded(cast(Message, typed), found.envelope_id, raw)


def decode_delivery(
    body: bytes | bytearray | memoryview | str | Mapping[str, Any],
    *,
    event_type: _TypeName | None = None,
    type_hint: _TypeName | None = None,
) -> DecodedDelivery:
    """Parse a delivery like :func:`parse_message` and give its dedupe key and fingerprint too.

    ``event_type`` overrides whatever the body says; ``type_hint`` only names the type of a body that
    declares none (a bare message): the ``?type=`` of an endpoint URL, a Kafka or Event Hubs ``type``
    header. :class:`~ordercloud_tracking.receiver.Receiver` uses this; so can a consumer.

    >>> decoded = decode_delivery(b'{"OrderId": "o-1", "LineItem": {"LineID": "li-1"}}', type_hint="LineItemUpdated")
    >>> type(decoded.message).__name__, decoded.delivery_key
    ('OrderLineUpdated', 'line:o-1:li-1')
    """
    return _decode(body, _Type.of(event_type), _Type.of(type_hint))


def parse_message(
    body: bytes | bytearray | memoryview | str | Mapping[str, Any],
    *,
    event_type: _TypeName | None = None,
) -> Message:
    """Parse a delivered message into its typed model (see the module docstring for the rules).

    ``body`` is the raw bytes (or text) of a delivery, or an already decoded JSON object. Give
    ``event_type`` when you know it (for example from the URL the delivery config posts to): it wins
    over anything in the body. A well-formed JSON object never raises: what is not recognised is an
    :class:`UnknownMessage`.

    Raises:
        InvalidPayloadError: the body is not JSON, or not a JSON object (a :class:`ValueError`).
        TypeError: ``body`` is of another type.

    >>> msg = parse_message(b'{"Headers": {"type": "sitecore.ordercloud.messages.orders.lines.updated"},'
    ...                     b' "Payload": {"UserContext": {"AnonymousId": "a-1"}, "OrderId": "o-1",'
    ...                     b' "LineItem": {"LineID": "li-1", "Quantity": 2, "Price": 10}}}')
    >>> type(msg).__name__, msg.order_id, msg.anonymous_id
    ('OrderLineUpdated', 'o-1', 'a-1')
    >>> parse_message(b"not json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ordercloud_tracking.InvalidPayloadError: Body is not valid JSON: ...
    """
    return _decode(body, _Type.of(event_type), None).message


def parse_record(value: bytes | bytearray | memoryview | str, type_header: str | bytes | None = None) -> Message:
    """Decode a Kafka or Event Hubs record into a typed message, as tolerantly as :func:`parse_message`.

    ``value`` is the record value: the Http envelope ``{"Headers": {"type": …}, "Payload": …}`` or the
    bare message. ``type_header`` is the record's ``type`` header (or CloudEvents ``ce_type``), as text
    or raw bytes (UTF-8), if any: it names the type of a bare value; a type in the value itself wins.

    >>> value = b'{"OrderId": "o-1", "LineItem": {"LineID": "li-1", "Quantity": 2}}'
    >>> type(parse_record(value, b"sitecore.ordercloud.messages.orders.lines.updated")).__name__
    'OrderLineUpdated'
    >>> parse_record(value).type_inferred  # no type anywhere: the shape decides
    True
    """
    if isinstance(type_header, (bytes, bytearray)):
        type_header = bytes(type_header).decode("utf-8", "replace")
    hint = type_header if type_header and type_header.strip() else None
    return _decode(value, None, _Type.of(hint)).message


# --- builders: what OrderCloud does server-side --------------------------------------------------------


def _xp(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):
        return dict(value)
    return None


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


def _user_context(
    order: Order[Any], user: User[Any] | MeUser[Any] | OrderUser[Any] | None, anon_user_id: str | None
) -> tuple[UserContext, str | None]:
    """The ``UserContext`` and ``Email`` of an order event."""
    if user is not None:
        user_id = user.id
    elif anon_user_id is None:  # an authenticated shopper: the order's owner
        user_id = order.from_user.id if order.from_user is not None else order.from_user_id
    else:  # an anonymous shopper has no OrderCloud identity in the message
        user_id = None
    source = user if user is not None else order.from_user
    email = source.email if source is not None else None
    return UserContext(id=user_id, anonymous_id=anon_user_id), email


def _message_line(line: LineItem[Any]) -> MessageLineItem:
    product = line.product
    variant = line.variant
    return MessageLineItem(
        line_id=line.id,
        product=MessageProduct(
            product_id=line.product_id,
            product_name=product.name if product is not None else None,
            product_description=product.description if product is not None else None,
            price=line.unit_price,
            variant=(
                MessageVariant(variant_name=variant.name, variant_description=variant.description)
                if variant is not None
                else None
            ),
            xp=_xp(product.xp) if product is not None else None,
        ),
        quantity=Decimal(line.quantity) if line.quantity is not None else None,
        price=line.unit_price,
        line_total=line.line_total,
        line_subtotal=line.line_subtotal,
        xp=_xp(line.xp),
    )


def session_identified(
    user: User[Any] | MeUser[Any] | OrderUser[Any],
    *,
    anon_user_id: str | None = None,
    locale: Locale | None = None,
) -> SessionIdentified:
    """The ``sessions.identified`` message OrderCloud sends when ``user`` logs in.

    ``anon_user_id`` is the ``anonuserid`` of the anonymous session being left (``AnonymousId``);
    ``locale`` defaults to the user's ``Locale`` (``Language``, ``Currency``).

    >>> from ordercloud_tracking.models.commerce import Locale, MeUser
    >>> me = MeUser(id="buyer01", email="amy@example.com", first_name="Amy", last_name="Lee")
    >>> session_identified(me, anon_user_id="7c9e", locale=Locale(language="en-US", currency="USD")).to_request()
    {'UserContext': {'ID': 'buyer01', 'AnonymousId': '7c9e'}, 'Language': 'en-US', 'Currency': 'USD', \
'Email': 'amy@example.com', 'FirstName': 'Amy', 'LastName': 'Lee'}
    """
    loc = locale if locale is not None else user.locale
    return SessionIdentified(
        user_context=UserContext(id=user.id, anonymous_id=anon_user_id),
        language=loc.language if loc is not None else None,
        currency=loc.currency if loc is not None else None,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
    )


def order_line(
    order: Order[Any],
    line_item: LineItem[Any],
    *,
    event_type: TrackingEventType | str | type[OrderLineMessage],
    user: User[Any] | MeUser[Any] | OrderUser[Any] | None = None,
    anon_user_id: str | None = None,
    language: str | None = None,
) -> OrderLineAdded | OrderLineUpdated:
    """The ``orders.lines.added`` / ``orders.lines.updated`` message for ``line_item`` of ``order``.

    ``event_type`` is ``LineItemAdded`` or ``LineItemUpdated`` (or a namespace name). ``UserContext.ID``
    is ``user``'s ID; without ``user`` it is the order's ``FromUser`` — unless ``anon_user_id`` is given,
    which marks the shopper anonymous (``ID`` null, ``AnonymousId`` set). ``Email`` comes from ``user``
    or ``FromUser``; ``Language`` from ``language`` or the user's locale; ``Currency`` from the order.
    The line gets ``Price`` = ``UnitPrice`` and ``LineSubTotal`` = ``LineSubtotal``.

    >>> from ordercloud_tracking.models.commerce import LineItem, Order
    >>> order = Order.from_api({"ID": "o-1", "Currency": "USD", "FromUser": {"ID": "anon-1"}})
    >>> line = LineItem.from_api({"ID": "li-1", "ProductID": "SKU-1", "Quantity": 2, "UnitPrice": 10,
    ...                           "LineSubtotal": 20, "LineTotal": 18, "Product": {"Name": "Mug"}})
    >>> msg = order_line(order, line, event_type="LineItemAdded", anon_user_id="7c9e", language="en")
    >>> msg.to_request()["UserContext"], msg.line_item.line_subtotal, msg.line_item.product.price
    ({'ID': None, 'AnonymousId': '7c9e'}, Decimal('20'), Decimal('10'))
    """
    cls = message_class_for(event_type)
    if cls is None or not issubclass(cls, OrderLineMessage):
        raise ValueError(f"order_line() needs a line event type, not {event_type!r}")
    context, email = _user_context(order, user, anon_user_id)
    if language is None:
        source = user if user is not None else order.from_user
        if source is not None and source.locale is not None:
            language = source.locale.language
    message = cls(
        user_context=context,
        language=language,
        currency=order.currency,
        email=email,
        order_id=order.id,
        line_item=_message_line(line_item),
    )
    return cast("OrderLineAdded | OrderLineUpdated", message)


def order_submitted(
    order: Order[Any],
    line_items: Iterable[LineItem[Any]],
    *,
    user: User[Any] | MeUser[Any] | OrderUser[Any] | None = None,
    anon_user_id: str | None = None,
    payments: Iterable[Payment[Any] | Mapping[str, Any]] = (),
) -> OrderSubmitted:
    """The ``orders.submitted`` message for a submitted ``order`` and its ``line_items``.

    ``OrderTotal`` = ``Total``, ``OrderSubtotal`` = ``Subtotal``, ``OrderStatus`` = ``Status``,
    ``OrderDate`` = ``DateCreated`` (the reference calls it the date the order was created; falls back
    to ``DateSubmitted``), ``Payments`` as loose objects, ``xp`` = the order's ``xp``. The user fields
    follow :func:`order_line`.

    >>> from ordercloud_tracking.models.commerce import LineItem, Order
    >>> order = Order.from_api({"ID": "o-1", "Status": "Open", "Currency": "USD", "Subtotal": 20,
    ...                         "Total": 21.5, "FromUser": {"ID": "buyer01", "Email": "amy@example.com"}})
    >>> lines = [LineItem.from_api({"ID": "li-1", "ProductID": "SKU-1", "Quantity": 2, "UnitPrice": 10})]
    >>> body = order_submitted(order, lines, payments=[{"Type": "CreditCard", "Amount": 21.5}]).to_request()
    >>> body["OrderID"], body["OrderTotal"], body["OrderStatus"], body["UserContext"], body["Payments"]
    ('o-1', 21.5, 'Open', {'ID': 'buyer01', 'AnonymousId': None}, [{'Type': 'CreditCard', 'Amount': 21.5}])
    """
    context, email = _user_context(order, user, anon_user_id)
    loose_payments: list[dict[str, Any]] = []
    for payment in payments:
        if isinstance(payment, BaseModel):
            loose_payments.append(payment.model_dump(mode="json", by_alias=True, exclude_unset=True))
        else:
            loose_payments.append(dict(payment))
    return OrderSubmitted(
        user_context=context,
        order_id=order.id,
        currency=order.currency,
        email=email,
        order_date=_iso(order.date_created or order.date_submitted),
        order_status=str(order.status.value) if order.status is not None else None,
        order_total=order.total,
        order_subtotal=order.subtotal,
        payments=loose_payments,
        line_items=[_message_line(line) for line in line_items],
        xp=_xp(order.xp),
    )
