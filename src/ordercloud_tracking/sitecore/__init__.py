"""What Sitecore Send and Discover receive for each OrderCloud tracking event.

* :class:`SitecoreEventType` — the four backbone types and their ``sitecore.ordercloud.messages.*``
  aliases;
* :data:`EVENT_MAPPING` — the operation → ``TrackingEventType`` → Sitecore type → Discover / Send
  table, as data (:func:`mapping_table_markdown` renders it);
* :func:`to_discover_event` and :func:`to_send_event` — the payloads, from a delivered message or from
  hydrated OrderCloud objects.

Nothing here needs an HTTP client: build the payloads and send them with the client you use.

>>> from ordercloud_tracking.sitecore import SitecoreEventType, mapping_for
>>> mapping_for(SitecoreEventType.ORDER_LINE_ADDED).discover_event
'a2c'
"""

from __future__ import annotations

from .discover import LineUpdatePolicy, discover_request_body, to_discover_event
from .mapping import (
    EVENT_MAPPING,
    EventMapping,
    MappingSource,
    SitecoreEventType,
    mapping_for,
    mapping_table_markdown,
)
from .send import SEND_HOST, SEND_STAGING_HOST, UrlSource, send_url, to_send_event

__all__ = [
    "EVENT_MAPPING",
    "EventMapping",
    "LineUpdatePolicy",
    "MappingSource",
    "SEND_HOST",
    "SEND_STAGING_HOST",
    "SitecoreEventType",
    "UrlSource",
    "discover_request_body",
    "mapping_for",
    "mapping_table_markdown",
    "send_url",
    "to_discover_event",
    "to_send_event",
]
