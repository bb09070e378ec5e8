"""Tracking events: which events of an API client OrderCloud publishes, and to which delivery config.

One :class:`TrackingEvent` per :class:`TrackingEventType` per API client (``ClientID``);
``EventType`` and ``ClientID`` cannot be changed after creation.
"""

from __future__ import annotations

from typing import Annotated, Any

from ._base import OCModel, OpenEnum, caller_max_length

__all__ = ["TrackingEvent", "TrackingEventPatch", "TrackingEventType"]


class TrackingEventType(OpenEnum):
    """The event a :class:`TrackingEvent` publishes. Unknown (newer) values are accepted and kept."""

    USER_LOGGED_IN = "UserLoggedIn"
    LINE_ITEM_ADDED = "LineItemAdded"
    LINE_ITEM_UPDATED = "LineItemUpdated"
    ORDER_SUBMITTED = "OrderSubmitted"


class TrackingEvent(OCModel):
    """A tracking event (``/v1/integrations/trackingEvents``)."""

    id: Annotated[str | None, caller_max_length(100)] = None
    event_type: TrackingEventType
    client_id: str
    name: str
    config_data: dict[str, Any] | str | None = None
    delivery_config_id: str | None


class TrackingEventPatch(OCModel):
    """A partial :class:`TrackingEvent` for PATCH: only the fields you give are sent (``None`` as null)."""

    id: Annotated[str | None, caller_max_length(100)] = None
    event_type: TrackingEventType | None = None
    client_id: str | None = None
    name: str | None = None
    config_data: dict[str, Any] | str | None = None
    delivery_config_id: str | None = None
