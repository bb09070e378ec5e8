"""The OrderCloud → Sitecore event table, as data, and :class:`SitecoreEventType`.

:data:`EVENT_MAPPING` is the one place that says which OrderCloud operation emits which
:class:`~ordercloud_tracking.TrackingEventType`, under which Sitecore backbone type (and its
``sitecore.ordercloud.messages.*`` alias), and what Discover and Send receive for it. The docs render
it with :func:`mapping_table_markdown`; :func:`~ordercloud_tracking.sitecore.to_discover_event` and
:func:`~ordercloud_tracking.sitecore.to_send_event` implement it.
"""

from __future__ import annotations

import enum
from typing import Any, TypeAlias

import attrs

from ..messages import (
    MESSAGE_CLASSES,
    MessageLineItem,
    OrderLineAdded,
    OrderLineUpdated,
    OrderSubmitted,
    SessionIdentified,
    TrackingMessage,
    UnknownMessage,
    message_class_for,
)
from ..models.commerce import LineItem, MeUser, Order, OrderUser, User
from ..models.tracking import TrackingEventType
from ._normalised import enum_text

__all__ = [
    "EVENT_MAPPING",
    "EventMapping",
    "MappingSource",
    "SitecoreEventType",
    "mapping_for",
    "mapping_table_markdown",
]


class SitecoreEventType(str, enum.Enum):
    """The four Sitecore backbone event types OrderCloud publishes."""

    SESSION_IDENTIFIED = "sitecore.backbone.messages.sessions.identified"
    ORDER_LINE_ADDED = "sitecore.backbone.messages.orders.lines.added"
    ORDER_LINE_UPDATED = "sitecore.backbone.messages.orders.lines.updated"
    ORDER_SUBMITTED = "sitecore.backbone.messages.orders.submitted"

    @classmethod
    def _missing_(cls, value: object) -> SitecoreEventType | None:
        if isinstance(value, str):
            wanted = value.strip().lower()
            for member in cls:
                if wanted in (member.value, member.alias):
                    return member
        return None

    @property
    def message_class(self) -> type[TrackingMessage]:
        """The message model delivered for this type."""
        return _MESSAGE_CLASS_BY_BACKBONE[self.value]

    @property
    def alias(self) -> str:
        """The ``sitecore.ordercloud.messages.*`` name (delivery-config message namespace)."""
        return self.message_class.namespace

    @property
    def tracking_event_type(self) -> TrackingEventType:
        """The :class:`~ordercloud_tracking.TrackingEventType` that emits this type."""
        return self.message_class.event_type

    @classmethod
    def from_tracking_event_type(cls, event_type: TrackingEventType | str) -> SitecoreEventType:
        """The backbone type of a tracking event type (``ValueError`` for an unknown one)."""
        wanted = enum_text(event_type).lower()
        for message_class in MESSAGE_CLASSES:
            if message_class.event_type.value.lower() == wanted:
                return cls(message_class.backbone_type)
        raise ValueError(f"{event_type!r} is not a tracking event type with a Sitecore backbone type")


_MESSAGE_CLASS_BY_BACKBONE: dict[str, type[TrackingMessage]] = {cls.backbone_type: cls for cls in MESSAGE_CLASSES}


@attrs.frozen
class EventMapping:
    """One row of :data:`EVENT_MAPPING`: an OrderCloud operation and what each side calls it."""

    operation: str
    api_calls: tuple[str, ...]
    tracking_event_type: TrackingEventType
    sitecore_event_type: SitecoreEventType
    message_class: type[TrackingMessage]
    discover_event: str
    send_event: str
    send_path: str
    cdp_event: str
    discover_alternative: str | None = None
    notes: str = ""

    @property
    def backbone_type(self) -> str:
        """The ``sitecore.backbone.messages.*`` name."""
        return self.sitecore_event_type.value

    @property
    def namespace(self) -> str:
        """The ``sitecore.ordercloud.messages.*`` alias."""
        return self.sitecore_event_type.alias


EVENT_MAPPING: tuple[EventMapping, ...] = (
    EventMapping(
        operation="Log in",
        api_calls=("POST /oauth/token (password, SSO or elevated grant; not anonymous)",),
        tracking_event_type=TrackingEventType.USER_LOGGED_IN,
        sitecore_event_type=SitecoreEventType.SESSION_IDENTIFIED,
        message_class=SessionIdentified,
        discover_event="user:login",
        send_event="IDENTIFY",
        send_path="/identify",
        cdp_event="IDENTITY",
        notes="Send needs the email; Discover links uuid to the user id and email.",
    ),
    EventMapping(
        operation="Add line item",
        api_calls=("POST /v1/orders/{direction}/{orderID}/lineitems", "POST /v1/cart/lineitems"),
        tracking_event_type=TrackingEventType.LINE_ITEM_ADDED,
        sitecore_event_type=SitecoreEventType.ORDER_LINE_ADDED,
        message_class=OrderLineAdded,
        discover_event="a2c",
        send_event="ADDED_TO_ORDER",
        send_path="/track",
        cdp_event="ADD",
        notes="One product with the line's quantity (the positive delta when previous_quantity is given).",
    ),
    EventMapping(
        operation="Update line item",
        api_calls=(
            "PUT /v1/orders/{direction}/{orderID}/lineitems/{lineItemID}",
            "PATCH /v1/orders/{direction}/{orderID}/lineitems/{lineItemID}",
            "PUT /v1/cart/lineitems/{lineItemID}",
            "PATCH /v1/cart/lineitems/{lineItemID}",
        ),
        tracking_event_type=TrackingEventType.LINE_ITEM_UPDATED,
        sitecore_event_type=SitecoreEventType.ORDER_LINE_UPDATED,
        message_class=OrderLineUpdated,
        discover_event="status:cart",
        discover_alternative="a2c",
        send_event="ADDED_TO_ORDER",
        send_path="/track",
        cdp_event="ADD",
        notes=(
            "Discover: line_update='cart' sends status:cart with the whole cart; line_update='delta' "
            "sends a2c with the positive quantity delta, nothing on a decrease. "
            "Send: the positive quantity delta only."
        ),
    ),
    EventMapping(
        operation="Submit order",
        api_calls=("POST /v1/orders/{direction}/{orderID}/submit", "POST /v1/cart/submit"),
        tracking_event_type=TrackingEventType.ORDER_SUBMITTED,
        sitecore_event_type=SitecoreEventType.ORDER_SUBMITTED,
        message_class=OrderSubmitted,
        discover_event="order:confirm",
        send_event="ORDER_COMPLETED",
        send_path="/track",
        cdp_event="ORDER_CHECKOUT",
        notes="Discover price is the unit price after discount (LineTotal / Quantity).",
    ),
)
"""The OrderCloud operation → TrackingEventType → Sitecore type → Discover / Send event table.

>>> [(row.tracking_event_type.value, row.discover_event, row.send_event) for row in EVENT_MAPPING]
[('UserLoggedIn', 'user:login', 'IDENTIFY'), ('LineItemAdded', 'a2c', 'ADDED_TO_ORDER'), \
('LineItemUpdated', 'status:cart', 'ADDED_TO_ORDER'), ('OrderSubmitted', 'order:confirm', 'ORDER_COMPLETED')]
"""


def mapping_for(
    key: TrackingEventType | SitecoreEventType | str | TrackingMessage | type[TrackingMessage],
) -> EventMapping:
    """The :data:`EVENT_MAPPING` row for an event type, a type name (either namespace) or a message."""
    if isinstance(key, TrackingMessage):
        key = type(key)
    message_class = message_class_for(key if isinstance(key, type) else enum_text(key))
    for row in EVENT_MAPPING:
        if row.message_class is message_class:
            return row
    raise ValueError(f"No Sitecore mapping for {key!r}")


def mapping_table_markdown() -> str:
    """:data:`EVENT_MAPPING` as a Markdown table (what the docs show)."""
    lines = [
        "| OrderCloud operation | API calls | TrackingEventType | Sitecore type (alias) | Discover | Send | CDP |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in EVENT_MAPPING:
        calls = "<br>".join(f"`{call}`" for call in row.api_calls)
        discover = f"`{row.discover_event}`"
        if row.discover_alternative:
            discover += f" or `{row.discover_alternative}`"
        lines.append(
            f"| {row.operation} | {calls} | `{row.tracking_event_type.value}` | "
            f"`{row.backbone_type}` (`{row.namespace}`) | {discover} | "
            f"`{row.send_event}` (`{row.send_path}`) | `{row.cdp_event}` |"
        )
    return "\n".join(lines) + "\n"


# --- what the builders accept ------------------------------------------------------------------------------

UserSource: TypeAlias = "User[Any] | MeUser[Any] | OrderUser[Any]"
LineSource: TypeAlias = "MessageLineItem | LineItem[Any]"
MappingSource: TypeAlias = "TrackingMessage | UnknownMessage | Order[Any] | User[Any] | MeUser[Any] | OrderUser[Any]"
"""What the builders accept: a delivered message, or hydrated API objects (an order or a user).

>>> from ordercloud_tracking.models.commerce import MeUser
>>> source: MappingSource = MeUser(id="u-1", email="amy@example.com")
>>> from ordercloud_tracking.sitecore import to_discover_event
>>> to_discover_event(source, uuid="r-1")["value"]["context"]["user"]
{'id': 'u-1', 'email': 'amy@example.com'}
"""
