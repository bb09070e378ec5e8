"""The pytest plugin (``pytest11`` entry point): fixtures, isolation per test, and living beside httpx_mock."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

FIXTURE_TESTS = """
import httpx
import pytest

from ordercloud_tracking import AsyncOrderCloud, OrderCloud
from ordercloud_tracking.identity import ShopperSession
from ordercloud_tracking.testing import FakeOrderCloud

SEEN = []


def test_fixtures_beside_httpx_mock(oc_fake, oc_client, oc_shopper, httpx_mock):
    assert isinstance(oc_fake, FakeOrderCloud)
    assert isinstance(oc_client, OrderCloud)
    assert isinstance(oc_shopper, ShopperSession) and oc_shopper.is_anonymous
    httpx_mock.add_response(url="https://partner.example.test/ping", json={"pong": True})
    assert httpx.get("https://partner.example.test/ping").json() == {"pong": True}

    oc_client.delivery_configs.create(
        {"ID": "dc-1", "Name": "n", "DeliveryTargets": {"Http": {"Endpoint": "https://hook.test", "Secret": "s"}}}
    )
    oc_client.tracking_events.create(
        {"ID": "te-1", "EventType": "LineItemAdded", "ClientID": "storefront", "Name": "n", "DeliveryConfigID": "dc-1"}
    )
    oc_fake.http_delivery = lambda request: httpx.Response(200)
    line = oc_shopper.client.cart.add_line_item({"ProductID": "SKU-MUG", "Quantity": 2})
    assert line.line_total == 25
    assert [d.event_type for d in oc_fake.deliveries] == ["LineItemAdded"]
    assert oc_fake.anonymous_users == [oc_shopper.anon_user_id]
    SEEN.append(oc_fake)


def test_the_next_test_sees_a_fresh_fake(oc_fake, oc_client):
    assert SEEN and oc_fake is not SEEN[0]
    assert oc_fake.requests == []
    assert oc_client.tracking_events.list().meta.total_count == 0
    assert oc_client.delivery_configs.list().meta.total_count == 0
    assert oc_fake.deliveries == [] and oc_fake.anonymous_users == []


def test_the_client_belongs_to_the_fake(oc_fake, oc_client):
    oc_client.me.get()
    assert [entry.path for entry in oc_fake.requests] == ["/oauth/token", "/v1/me"]


@pytest.mark.asyncio
async def test_async_client(oc_fake, oc_async_client):
    assert isinstance(oc_async_client, AsyncOrderCloud)
    assert (await oc_async_client.me.get()).username == "admin"
    assert len(oc_fake.requests) == 2


def test_unused_httpx_mock_responses_still_fail(oc_client, httpx_mock):
    httpx_mock.add_response(url="https://partner.example.test/never")
    oc_client.me.get()  # the fake's traffic is not taken for the partner's
"""

OVERRIDE_CONFTEST = """
import pytest

from ordercloud_tracking.testing import FakeOrderCloud, Seed, SeedApiClient, SeedProduct, SeedUser


@pytest.fixture
def oc_fake():
    seed = Seed(
        api_clients=(
            SeedApiClient("admin-client", client_secret="admin-client-secret", default_context_username="boss"),
            SeedApiClient("storefront", is_anon_buyer=True, default_context_username="template"),
        ),
        users=(
            SeedUser("boss", "boss-password", user_type="admin"),
            SeedUser("template", "x"),
        ),
        products=(SeedProduct("SKU-ONE", "One", "3.00"),),
    )
    return FakeOrderCloud(seed)
"""

OVERRIDE_TESTS = """
def test_custom_seed(oc_client, oc_shopper):
    assert oc_client.me.get().username == "boss"
    line = oc_shopper.client.cart.add_line_item({"ProductID": "SKU-ONE", "Quantity": 2})
    assert line.line_total == 6
"""


INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def test_fixtures_isolation_and_httpx_mock(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_fixtures=FIXTURE_TESTS)
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider")
    # the last test passes, then httpx_mock fails its teardown: the fake's requests never consumed its response
    result.assert_outcomes(passed=5, errors=1)
    result.stdout.fnmatch_lines(["*responses are mocked but not requested*", "*partner.example.test/never*"])


def test_overriding_oc_fake_changes_the_seed(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makeconftest(OVERRIDE_CONFTEST)
    pytester.makepyfile(test_override=OVERRIDE_TESTS)
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_entry_point_registers_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_entry_point="""
def test_fixture_exists(oc_fake):
    assert type(oc_fake).__name__ == "FakeOrderCloud"
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")  # a fresh interpreter
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["plugins:*ordercloud-tracking*"])
