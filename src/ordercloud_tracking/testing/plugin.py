"""pytest plugin (registered through the ``pytest11`` entry point): fixtures over a fresh fake per test.

=====================  ===========================================================================
Fixture                What it is
=====================  ===========================================================================
``oc_fake``            a fresh :class:`~ordercloud_tracking.testing.FakeOrderCloud` (default seed)
``oc_client``          an :class:`~ordercloud_tracking.OrderCloud` on it with admin credentials
``oc_async_client``    an :class:`~ordercloud_tracking.AsyncOrderCloud` on it with admin credentials
``oc_shopper``         a started anonymous :class:`~ordercloud_tracking.identity.ShopperSession`
``oc_kafka``           librdkafka's mock Kafka cluster on loopback (:func:`~ordercloud_tracking.testing.kafka_cluster`;
                       needs ``ordercloud-tracking[kafka]``)
=====================  ===========================================================================

State never leaks between tests. To change the seed, override ``oc_fake`` in your ``conftest.py``::

    @pytest.fixture
    def oc_fake():
        return FakeOrderCloud(Seed(...))

The fake's transports are ``httpx.MockTransport`` instances, so the fixtures work beside pytest-httpx's
``httpx_mock`` (which only patches the real network transports).

**Async tests need an async runner.** Every fixture here is a plain (sync) fixture, ``oc_async_client``
included, so it works under either runner; but pytest cannot run an ``async def`` test (or an async
fixture of yours) by itself. Install one of:

- pytest-asyncio: mark tests ``@pytest.mark.asyncio`` (or set ``asyncio_mode = "auto"``), and declare
  async fixtures with ``@pytest_asyncio.fixture``;
- anyio (already installed with httpx): mark tests ``@pytest.mark.anyio`` and keep the ``anyio_backend``
  fixture at ``"asyncio"`` (its default).

Without one, pytest fails each async test with "async def functions are not natively supported".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .._client import AsyncOrderCloud, OrderCloud
    from ..identity import ShopperSession
    from .fake import FakeOrderCloud
    from .kafka import KafkaCluster

__all__ = ["oc_async_client", "oc_client", "oc_fake", "oc_kafka", "oc_shopper"]


@pytest.fixture
def oc_fake() -> Iterator[FakeOrderCloud]:
    """A fresh FakeOrderCloud for this test."""
    from .fake import FakeOrderCloud

    fake = FakeOrderCloud()
    yield fake
    fake.close()


@pytest.fixture
def oc_client(oc_fake: FakeOrderCloud) -> Iterator[OrderCloud]:
    """An admin OrderCloud client on ``oc_fake``."""
    with oc_fake.client() as client:
        yield client


@pytest.fixture
def oc_async_client(oc_fake: FakeOrderCloud) -> AsyncOrderCloud:
    """An admin AsyncOrderCloud client on ``oc_fake`` (its in-memory transport needs no closing).

    A sync fixture: use it from ``async def`` tests run by pytest-asyncio or anyio (see the module docs).
    """
    return oc_fake.async_client()


@pytest.fixture
def oc_shopper(oc_fake: FakeOrderCloud) -> ShopperSession:
    """An anonymous shopper on the storefront client of ``oc_fake``."""
    return oc_fake.shopper()


@pytest.fixture
def oc_kafka() -> Iterator[KafkaCluster]:
    """A fresh mock Kafka cluster (one broker) for this test; ``create_topic`` makes its topics."""
    from .kafka import oc_kafka as cluster

    yield from cluster()
