"""Kafka and Event Hubs: consume tracking deliveries in a consumer group, and forward Http deliveries to Kafka.

Needs the ``kafka`` extra (``pip install 'ordercloud-tracking[kafka]'``, which brings
``confluent-kafka``); the engine is imported on first use, and without it you get one
:class:`ImportError` naming the extra.

=======================================  ===============================================================
Name                                     What it is
=======================================  ===============================================================
:class:`KafkaSettings`                   brokers, topic, group and credentials (Kafka or Event Hubs)
:class:`TrackingConsumer`                consume with worker threads (plain handlers)
:class:`AsyncTrackingConsumer`           consume on asyncio (``async`` or plain handlers)
:class:`KafkaDelivery`                   what a handler receives
:class:`KafkaForwarder`                  the handler for ``asgi_app``/``wsgi_app`` that produces to Kafka
:class:`ConsumerStats`                   counters and lag
=======================================  ===============================================================

>>> from ordercloud_tracking.streams import KafkaSettings
>>> KafkaSettings("localhost:9092", "tracking", group_id="shop").client_config()["group.id"]
'shop'
"""

from __future__ import annotations

from ._async import AsyncTrackingConsumer
from ._core import (
    ConsumerFailedError,
    ConsumerStats,
    KafkaConnectionError,
    KafkaDelivery,
    KafkaForwardError,
    PartitionLag,
    decode_record,
)
from ._forwarder import KafkaForwarder, forward_record
from ._settings import KafkaSettings
from ._sync import TrackingConsumer

__all__ = [
    "AsyncTrackingConsumer",
    "ConsumerFailedError",
    "ConsumerStats",
    "KafkaConnectionError",
    "KafkaDelivery",
    "KafkaForwardError",
    "KafkaForwarder",
    "KafkaSettings",
    "PartitionLag",
    "TrackingConsumer",
    "decode_record",
    "forward_record",
]
