"""Test OrderCloud integrations offline: :class:`FakeOrderCloud`, its seed types and the pytest plugin.

>>> from ordercloud_tracking.testing import FakeOrderCloud
>>> fake = FakeOrderCloud()
>>> fake.client().me.get().username
'admin'
"""

from __future__ import annotations

from ._delivery import DeliveryAttempt
from ._journal import DEFAULT_JOURNAL_LIMIT, Fault, Faults, JournalEntry
from ._seed import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    DEFAULT_SEED,
    STOREFRONT_CLIENT_ID,
    Seed,
    SeedApiClient,
    SeedProduct,
    SeedUser,
)
from ._state import FakeClock
from ._wire import FakeRequest, FakeResponse
from .fake import FakeOrderCloud, Outcome
from .kafka import KafkaCluster, kafka_cluster
from .server import FakeServer

__all__ = [
    "ADMIN_CLIENT_ID",
    "ADMIN_CLIENT_SECRET",
    "DEFAULT_JOURNAL_LIMIT",
    "DEFAULT_SEED",
    "STOREFRONT_CLIENT_ID",
    "DeliveryAttempt",
    "FakeClock",
    "FakeOrderCloud",
    "FakeRequest",
    "FakeResponse",
    "FakeServer",
    "Fault",
    "Faults",
    "JournalEntry",
    "KafkaCluster",
    "Outcome",
    "Seed",
    "SeedApiClient",
    "SeedProduct",
    "SeedUser",
    "kafka_cluster",
]
