"""Tracking events: which events of an API client OrderCloud publishes, and to which delivery config.

One :class:`TrackingEvent` per :class:`TrackingEventType` per API client (``ClientID``);
``EventType`` and ``ClientID`` cannot be changed after creation.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

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

    id: Annotated[str | None, caller_max_length(100)] = Field(
        default=None, validation_alias="ID", serialization_alias="ID"
    )
    event_type: TrackingEventType = Field(validation_alias="EventType", serialization_alias="EventType")
    client_id: str = Field(validation_alias="ClientID", serialization_alias="ClientID")
    name: str = Field(validation_alias="Name", serialization_alias="Name")
    config_data: dict[str, Any] | str | None = Field(
        default=None, validation_alias="ConfigData", serialization_alias="ConfigData"
    )
    delivery_config_id: str | None = Field(validation_alias="DeliveryConfigID", serialization_alias="DeliveryConfigID")


class TrackingEventPatch(OCModel):
    """A partial :class:`TrackingEvent` for PATCH: only the fields you give are sent (``None`` as null)."""

    id: Annotated[str | None, caller_max_length(100)] = Field(
        default=None, validation_alias="ID", serialization_alias="ID"
    )
    event_type: TrackingEventType | None = Field(
        default=None, validation_alias="EventType", serialization_alias="EventType"
    )
    client_id: str | None = Field(default=None, validation_alias="ClientID", serialization_alias="ClientID")
    name: str | None = Field(default=None, validation_alias="Name", serialization_alias="Name")
    config_data: dict[str, Any] | str | None = Field(
        default=None, validation_alias="ConfigData", serialization_alias="ConfigData"
    )
    delivery_config_id: str | None = Field(
        default=None, validation_alias="DeliveryConfigID", serialization_alias="DeliveryConfigID"
    )
