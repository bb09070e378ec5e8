"""``/v1/integrations/trackingEvents``: which events an API client publishes, and where to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models.tracking import TrackingEvent, TrackingEventPatch
from ._base import AsyncCrudResource, CrudEndpoint, CrudResource

if TYPE_CHECKING:
    from .._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["AsyncTrackingEvents", "TrackingEvents"]

_ENDPOINT = CrudEndpoint(
    "integrations/trackingEvents",
    TrackingEvent,
    TrackingEventPatch,
    object_type="TrackingEvent",
    id_name="event_id",
)


class TrackingEvents(CrudResource[TrackingEvent, TrackingEventPatch]):
    """Tracking events (one per ``EventType`` per API client)."""

    def __init__(self, client: SyncAPIClient) -> None:
        super().__init__(client)
        self._endpoint = _ENDPOINT


class AsyncTrackingEvents(AsyncCrudResource[TrackingEvent, TrackingEventPatch]):
    """Tracking events, asynchronously. Same operations as :class:`TrackingEvents`."""

    def __init__(self, client: AsyncAPIClient) -> None:
        super().__init__(client)
        self._endpoint = _ENDPOINT
