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
from .models._base import Money, OCModel, json_name
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
"""``OrderStatus`` sent as an integer → its member of :class:`~ordercloud_tracking.models.commerce.OrderStatus`."""
USER_TYPE_CODES: dict[int, str] = {0: "Buyer", 1: "Supplier", 2: "Admin"}
"""``UserType`` sent as an integer → its name (kept as an unknown field of :class:`UserContext`)."""


def _enum_text(codes: Mapping[int, str]) -> Callable[[object], object]:
    def convert(value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return codes.get(value, str(value))
        return value

    return convert


_OrderStatusText = Annotated[str | None, BeforeValidator(_enum_text(ORDER_STATUS_CODES))]


class UserContext(_MessageModel):
    """Who caused the event: ``ID`` (the OrderCloud user, when authenticated) and ``AnonymousId`` (the beacon ID)."""

    id: str | None = None
    anonymous_id: str | None = Field(default=None, validation_alias="AnonymousId", serialization_alias="AnonymousId")

    @model_validator(mode="before")
    @classmethod
    def _user_type_text(cls, data: Any) -> Any:
        # ``UserType`` is not documented on tracking messages; when it comes (as sibling messages send
        # it, an integer), it is kept as an unknown field, by name.
        if isinstance(data, dict) and isinstance(data.get("UserType"), int):
            data = {**data, "UserType": _enum_text(USER_TYPE_CODES)(data["UserType"])}
        return data


class MessageVariant(_MessageModel):
    """The variant of a message line (``VariantName``, ``VariantDescription``; no variant ID)."""

    variant_name: str | None = None
    variant_description: str | None = None


class MessageProduct(_MessageModel):
    """The product of a message line. ``Price`` is the unit price."""

    product_id: str | None = None
    product_name: str | None = None
    product_description: str | None = None
    price: Money | None = None
    variant: MessageVariant | None = None
    xp: dict[str, Any] | None = None


class MessageLineItem(_MessageModel):
    """A line of a message. An integral ``Quantity`` is written as an integer.

    ``Price`` is the unit price, ``LineSubTotal`` (capital ``T``) price x quantity, ``LineTotal`` that minus discounts.
    """

    line_id: str | None = None
    product: MessageProduct | None = None
    quantity: Money | None = None
    price: Money | None = None
    line_total: Money | None = None
    line_subtotal: Money | None = Field(
        default=None, validation_alias="LineSubTotal", serialization_alias="LineSubTotal"
    )
    xp: dict[str, Any] | None = None

    @property
    def unit_price(self) -> Decimal | None:
        """``Price``, or the product's ``Price`` when the line has none (the reference is unsure)."""
        if self.price is not None:
            return self.price
        return self.product.price if self.product is not None else None


class TrackingMessage(_MessageModel):
    """Base class of the four typed messages; each knows its ``event_type``, ``backbone_type`` and ``namespace``."""

    event_type: ClassVar[TrackingEventType]
    backbone_type: ClassVar[str]
    namespace: ClassVar[str]

    def __init_subclass__(
        cls, *, event_type: TrackingEventType | None = None, type_name: str | None = None, **kwargs: Any
    ) -> None:
        # A typed message names its event and its type (``orders.submitted``) in its class statement.
        super().__init_subclass__(**kwargs)
        if event_type is not None and type_name is not None:
            cls.event_type = event_type
            cls.backbone_type = BACKBONE_PREFIX + type_name
            cls.namespace = ORDERCLOUD_PREFIX + type_name

    user_context: UserContext | None = None

    # How the message was parsed lives in ``__pydantic_private__``, set by the parser; no ``PrivateAttr``,
    # whose initialisation would cost Python calls on every validated message (measured in ``make bench``).

    @property
    def type_inferred(self) -> bool:
        """Whether the type was recognised from the shape of the body (no type was declared)."""
        private = self.__pydantic_private__
        return bool(private and private.get("type_inferred"))

    @property
    def envelope(self) -> dict[str, Any] | None:
        """The outermost wrapper around the message, without the message itself (``None`` if bare)."""
        private = self.__pydantic_private__
        return private.get("envelope") if private else None

    @property
    def user_id(self) -> str | None:
        """``UserContext.ID``: the authenticated OrderCloud user, if any."""
        return self.user_context.id if self.user_context is not None else None

    @property
    def anonymous_id(self) -> str | None:
        """``UserContext.AnonymousId``: the beacon ID given with the anonymous token, if any."""
        return self.user_context.anonymous_id if self.user_context is not None else None


class SessionIdentified(TrackingMessage, event_type=TrackingEventType.USER_LOGGED_IN, type_name="sessions.identified"):
    """A shopper logged in (``UserLoggedIn``; ``sessions.identified``). This model has no ``xp``."""

    language: str | None = None
    currency: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class OrderLineMessage(TrackingMessage):
    """Fields shared by :class:`OrderLineAdded` and :class:`OrderLineUpdated` (note ``OrderId``).

    The line's ``Quantity`` is absolute, for an update as for an add.
    """

    language: str | None = None
    currency: str | None = None
    email: str | None = None
    order_id: str | None = Field(default=None, validation_alias="OrderId", serialization_alias="OrderId")
    line_item: MessageLineItem | None = None


class OrderLineAdded(OrderLineMessage, event_type=TrackingEventType.LINE_ITEM_ADDED, type_name="orders.lines.added"):
    """A line item was added (``LineItemAdded``; ``orders.lines.added``).

    Also what a line message that declares no type parses as, with ``type_inferred`` set.
    """


class OrderLineUpdated(
    OrderLineMessage, event_type=TrackingEventType.LINE_ITEM_UPDATED, type_name="orders.lines.updated"
):
    """A line item was updated (``LineItemUpdated``; ``orders.lines.updated``). Same shape as added."""


class OrderSubmitted(TrackingMessage, event_type=TrackingEventType.ORDER_SUBMITTED, type_name="orders.submitted"):
    """An order was submitted (``OrderSubmitted``; ``orders.submitted``). Note ``OrderID``.

    ``Payments`` are loose JSON objects; ``OrderDate`` is the string that was sent; no ``Language``.
    """

    order_id: str | None = None
    currency: str | None = None
    email: str | None = None
    order_date: str | None = None
    order_status: _OrderStatusText = None
    order_total: Money | None = None
    order_subtotal: Money | None = None
    payments: list[dict[str, Any]] | None = None
    line_items: list[MessageLineItem] | None = None
    xp: dict[str, Any] | None = None


class UnknownMessage(BaseModel):
    """A delivery this SDK does not recognise: the whole body as received (``data``) and its declared ``type_name``."""

    model_config = ConfigDict(frozen=True)

    data: dict[str, Any]
    type_name: str | None = None

    @property
    def event_type(self) -> TrackingEventType | None:
        """The declared type as a (possibly unknown) ``TrackingEventType`` when it has no dots, else ``None``."""
        if self.type_name and "." not in self.type_name:
            return TrackingEventType(self.type_name)
        return None

    def to_request(self) -> dict[str, Any]:
        """The raw object, as received."""
        return dict(self.data)


Message: TypeAlias = SessionIdentified | OrderLineAdded | OrderLineUpdated | OrderSubmitted | UnknownMessage
"""What :func:`parse_message` returns: one of the four typed messages or an :class:`UnknownMessage`."""

MESSAGE_CLASSES: tuple[type[TrackingMessage], ...] = (
    SessionIdentified,
    OrderLineAdded,
    OrderLineUpdated,
    OrderSubmitted,
)
"""The four typed message classes, in the order of the tracking event table."""


def _build_type_index() -> dict[str, type[TrackingMessage]]:
    index: dict[str, type[TrackingMessage]] = {}
    for cls in MESSAGE_CLASSES:
        suffix = cls.backbone_type[len(BACKBONE_PREFIX) :]
        for name in (cls.event_type.value, cls.backbone_type, cls.namespace, suffix):
            index[name.lower()] = cls
    return index


_TYPE_INDEX = _build_type_index()


def message_class_for(name: str | type[TrackingMessage]) -> type[TrackingMessage] | None:
    """The message class for a type name or message class; ``None`` if it is not one of the four events.

    A name is a ``TrackingEventType``, either namespace's name or its bare suffix (``orders.submitted``), any casing.
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
    """What :func:`decode_delivery` returns: the message, its dedupe ``delivery_key`` and ``fingerprint``.

    The same message has the same key and fingerprint enveloped or bare (see :mod:`~ordercloud_tracking.receiver`).
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
    view: dict[str, Any] = {json_name(name, fields[name]): None for name in message.model_fields_set if name in fields}
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
    try:  # the validator itself: its ValidationError never leaves here (the full path then decides)
        message = chosen.cls.__pydantic_validator__.validate_json(payload)
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
        message = cls.__pydantic_validator__.validate_json(raw)
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
    if type(body) is bytes and not body.startswith(b"\xef\xbb\xbf"):  # a record value, a request body: no copy
        raw = body
    elif isinstance(body, Mapping):
        obj = dict(body)
        raw = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()  # what is hashed
        return _decode_object(obj, raw, override, hint)
    elif isinstance(body, (bytes, bytearray, memoryview, str)):
        raw = _raw_bytes(body)
    else:
        raise TypeError(f"parse_message() takes bytes, str or a mapping, not {type(body).__name__}")
    head = _ENVELOPE_HEAD.match(raw)
    fast = _decode_envelope(raw, head, override) if head else _decode_bare(raw, override, hint)
    if fast is not None:
        return fast
    return _decode_object(_load(raw), raw, override, hint)


def _decode_object(obj: Any, raw: bytes, override: _Type | None, hint: _Type | None) -> DecodedDelivery:
    """The full path: ``obj`` is the parsed body, ``raw`` what is hashed when nothing better is known."""
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
    """Parse a delivery like :func:`parse_message`, with its dedupe key and fingerprint.

    ``event_type`` overrides what the body says; ``type_hint`` only names a body that declares none (``?type=``).
    """
    return _decode(body, _type_of(event_type), _type_of(type_hint))


_TYPES: dict[str, _Type] = {}  # type names seen (a record header per record): resolved once


def _type_of(value: _TypeName | None) -> _Type | None:
    """``_Type.of(value)``, remembered for names given as text."""
    if type(value) is not str:
        return _Type.of(value)
    found = _TYPES.get(value)
    if found is None:
        found = _Type(message_class_for(value), _type_text(value))
        if len(_TYPES) >= 256:  # the names are few; anything else is not worth keeping
            _TYPES.clear()
        _TYPES[value] = found
    return found


def parse_message(
    body: bytes | bytearray | memoryview | str | Mapping[str, Any],
    *,
    event_type: _TypeName | None = None,
) -> Message:
    """Parse a delivered message into its typed model (see the module docstring for the rules).

    ``body`` is the raw bytes or text of a delivery, or a decoded JSON object; ``event_type``, when you know it,
    wins over the body. A JSON object never raises (what is not recognised is an :class:`UnknownMessage`);
    anything else is an :class:`InvalidPayloadError` (a ``ValueError``), or a ``TypeError`` for another type.

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
    """A Kafka or Event Hubs record value as a typed message, as tolerantly as :func:`parse_message`.

    ``type_header`` is the record's ``type`` (or ``ce_type``) header, text or UTF-8 bytes; a type in the value wins.
    """
    if isinstance(type_header, (bytes, bytearray)):
        type_header = bytes(type_header).decode("utf-8", "replace")
    hint = type_header if type_header and type_header.strip() else None
    return _decode(value, None, _type_of(hint)).message


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

    ``anon_user_id`` is the ``AnonymousId``; ``locale`` defaults to the user's.
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
    """The ``orders.lines.added`` / ``orders.lines.updated`` message (``event_type``) for ``line_item`` of ``order``.

    ``UserContext.ID`` is ``user``'s ID, else the order's ``FromUser``; ``anon_user_id`` marks the shopper anonymous.
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

    ``OrderDate`` is ``DateCreated`` (else ``DateSubmitted``); the user fields follow :func:`order_line`.
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
