"""Fixtures for the FakeOrderCloud tests: a fresh fake per test whose Http deliveries stay in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ordercloud_tracking import OrderCloud
from ordercloud_tracking.testing import FakeOrderCloud
from tests.testing.support import Endpoint


@pytest.fixture
def endpoint() -> Endpoint:
    return Endpoint()


@pytest.fixture
def fake(endpoint: Endpoint) -> Iterator[FakeOrderCloud]:
    made = FakeOrderCloud(http_delivery=endpoint)
    yield made
    made.close()


@pytest.fixture
def admin(fake: FakeOrderCloud) -> Iterator[OrderCloud]:
    with fake.client() as client:
        yield client
