"""A client of each kind (sync and async) on pytest-httpx, authenticated with a static token.

Retries are off, so a request pytest-httpx does not expect fails the test at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pytest_httpx import HTTPXMock

from ordercloud_tracking import AsyncOrderCloud, OrderCloud, StaticToken
from tests.client_support import BASE_URL, MODES, Client, Sleeps, resolve, retry_policy


@pytest.fixture(params=MODES)
async def client(request: pytest.FixtureRequest, httpx_mock: HTTPXMock) -> AsyncIterator[Client]:
    policy = retry_policy(Sleeps(), max_retries=0)
    grant = StaticToken("static-token")
    made: Client
    if request.param == "sync":
        made = OrderCloud(grant=grant, base_url=BASE_URL, retry_policy=policy)
    else:
        made = AsyncOrderCloud(grant=grant, base_url=BASE_URL, retry_policy=policy)
    yield made
    await resolve(made.close())
