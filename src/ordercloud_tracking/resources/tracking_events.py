"""``/v1/integrations/trackingEvents``: which events an API client publishes, and where to."""

from __future__ import annotations

from ..models.tracking import TrackingEvent, TrackingEventPatch
from ._base import AsyncCrudResource, CrudEndpoint, CrudResource

__all__ = ["AsyncTrackingEvents", "TrackingEvents"]

_ENDPOINT = CrudEndpoint("integrations/trackingEvents", TrackingEvent, TrackingEventPatch, id_name="event_id")


class TrackingEvents(CrudResource[TrackingEvent, TrackingEventPatch]):
    """Tracking events (one per ``EventType`` per API client)."""

    _endpoint = _ENDPOINT


class AsyncTrackingEvents(AsyncCrudResource[TrackingEvent, TrackingEventPatch]):
    """Tracking events, asynchronously. Same operations as :class:`TrackingEvents`."""

    _endpoint = _ENDPOINT
