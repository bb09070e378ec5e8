"""Test OrderCloud integrations offline: :class:`FakeOrderCloud`, its seed types and the pytest plugin.

>>> from ordercloud_tracking.testing import FakeOrderCloud
>>> fake = FakeOrderCloud()
>>> fake.client().me.get().username
'admin'
"""

from __future__ import annotations

from ._state import DEFAULT_SEED, FakeClock, Seed, SeedApiClient, SeedProduct, SeedUser
from .fake import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    STOREFRONT_CLIENT_ID,
    Delivery,
    FakeOrderCloud,
    Fault,
    Faults,
    JournalEntry,
)
from .kafka import KafkaCluster, kafka_cluster
from .server import FakeServer

__all__ = [
    "ADMIN_CLIENT_ID",
    "ADMIN_CLIENT_SECRET",
    "DEFAULT_SEED",
    "STOREFRONT_CLIENT_ID",
    "Delivery",
    "FakeClock",
    "FakeOrderCloud",
    "FakeServer",
    "Fault",
    "Faults",
    "JournalEntry",
    "KafkaCluster",
    "Seed",
    "SeedApiClient",
    "SeedProduct",
    "SeedUser",
    "kafka_cluster",
]
