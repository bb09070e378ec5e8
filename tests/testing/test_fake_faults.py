"""Fault injection driving the SDK's retries, ``reset()`` and the request journal."""

from __future__ import annotations

import time

import attrs
import pytest

from ordercloud_tracking import (
    AmbiguousSubmitError,
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    OrderCloud,
    RateLimitError,
)
from ordercloud_tracking.identity import ShopperSession
from ordercloud_tracking.models.commerce import OrderStatus
from ordercloud_tracking.testing import FakeOrderCloud, Faults, JournalEntry
from tests.testing.support import anonymous_token, delivery_targets, provision, raw

DC_PATH = "/v1/integrations/deliveryconfig"
TE_PATH = "/v1/integrations/trackingEvents"


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.calls.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.calls.append(seconds)


def recording_client(fake: FakeOrderCloud, sleeps: Sleeps) -> OrderCloud:
    policy = attrs.evolve(fake.retry_policy(), sleep=sleeps.sleep, async_sleep=sleeps.async_sleep)
    return fake.client(retry_policy=policy)


def dc(config_id: str = "dc-1") -> dict[str, object]:
    return {"ID": config_id, "Name": "n", "DeliveryTargets": delivery_targets(["SendEvent"])}


def journal(fake: FakeOrderCloud, path: str) -> list[tuple[str, int | None, str | None]]:
    return [(entry.method, entry.status, entry.fault) for entry in fake.requests_to("*", path)]


@pytest.fixture
def shopper(fake: FakeOrderCloud) -> ShopperSession:
    session = fake.shopper(anon_user_id="beacon-1")
    session.client.cart.add_line_item({"ProductID": "SKU-TEE", "Quantity": 2})
    return session


# ---------------------------------------------------------------------------------------------- statuses


def test_503_with_retry_after_is_retried_after_the_wait(fake: FakeOrderCloud) -> None:
    sleeps = Sleeps()
    fault = fake.faults.add("GET", TE_PATH, status=503, headers={"Retry-After": "2"})
    with recording_client(fake, sleeps) as client:
        assert client.tracking_events.list().meta.total_count == 0
    assert sleeps.calls == [2.0]
    assert journal(fake, TE_PATH) == [("GET", 503, "status 503"), ("GET", 200, None)]
    assert fault.hits == 1
    assert fake.faults.pending == []


def test_429_is_retried_even_for_a_post(fake: FakeOrderCloud) -> None:
    sleeps = Sleeps()
    fake.faults.add("POST", DC_PATH, status=429, times=2, headers={"Retry-After": "0"})
    with recording_client(fake, sleeps) as client:
        client.delivery_configs.create(dc())
    assert journal(fake, DC_PATH) == [("POST", 429, "status 429"), ("POST", 429, "status 429"), ("POST", 201, None)]
    assert list(fake.api.delivery_configs) == ["dc-1"]


def test_retries_run_out(fake: FakeOrderCloud) -> None:
    fake.faults.add("GET", TE_PATH, status=429, times=5, headers={"Retry-After": "1"})
    with fake.client(max_retries=1) as client, pytest.raises(RateLimitError) as caught:
        client.tracking_events.list()
    assert caught.value.retry_after == 1.0
    assert caught.value.error_code == "FakeFault"
    assert len(fake.requests_to("GET", TE_PATH)) == 2
    assert fake.faults.pending[0].hits == 2  # three more to go


def test_a_5xx_on_a_post_is_not_retried_and_not_processed(fake: FakeOrderCloud) -> None:
    fake.faults.add("POST", DC_PATH, status=500, body={"Errors": [{"ErrorCode": "ServerError", "Message": "Boom"}]})
    with fake.client() as client, pytest.raises(InternalServerError) as caught:
        client.delivery_configs.create(dc())
    assert caught.value.error_code == "ServerError"
    assert journal(fake, DC_PATH) == [("POST", 500, "status 500")]
    assert fake.api.delivery_configs == {}  # a status fault answers without processing


def test_a_5xx_on_a_get_is_retried(fake: FakeOrderCloud) -> None:
    fake.faults.add("GET", "/v1/integrations/*", status=502, times=2)
    with fake.client() as client:
        client.tracking_events.list()
    assert [entry.status for entry in fake.requests_to("GET", TE_PATH)] == [502, 502, 200]


def test_the_token_request_is_retried(fake: FakeOrderCloud) -> None:
    fake.faults.add("POST", "/oauth/token", status=503)
    with fake.client() as client:
        assert client.me.get().username == "admin"
    assert [entry.status for entry in fake.requests_to("POST", "/oauth/token")] == [503, 200]


# ------------------------------------------------------------------------------------ transport errors


def test_a_connect_error_is_retried_for_a_post(fake: FakeOrderCloud) -> None:
    fake.faults.add("POST", DC_PATH, error="connect")
    with fake.client() as client:
        created = client.delivery_configs.create(dc())
    assert created.id == "dc-1"
    assert journal(fake, DC_PATH) == [("POST", None, "connect"), ("POST", 201, None)]


def test_connect_errors_beyond_the_retries(fake: FakeOrderCloud) -> None:
    fake.faults.add("*", "/v1/*", error="connect", times=3)
    with fake.client() as client, pytest.raises(APIConnectionError) as caught:
        client.me.get()
    assert caught.value.may_have_reached_server is False
    assert len(fake.requests_to("GET", "/v1/me")) == 3


def test_a_read_timeout_is_processed_then_lost(fake: FakeOrderCloud) -> None:
    fake.faults.add("POST", DC_PATH, error="read_timeout")
    with fake.client() as client, pytest.raises(APITimeoutError) as caught:
        client.delivery_configs.create(dc())
    assert caught.value.may_have_reached_server
    assert journal(fake, DC_PATH) == [("POST", 201, "read_timeout")]
    assert list(fake.api.delivery_configs) == ["dc-1"]  # it happened; only the answer was lost


def test_a_read_timeout_on_an_idempotent_call_is_retried(fake: FakeOrderCloud) -> None:
    fake.faults.add("PUT", f"{DC_PATH}/*", error="read_timeout")
    with fake.client() as client:
        client.delivery_configs.save("dc-1", dc())
    assert journal(fake, f"{DC_PATH}/dc-1") == [("PUT", 200, "read_timeout"), ("PUT", 200, None)]


@pytest.mark.parametrize("how", ["cart", "orders"])
def test_read_timeout_on_submit_is_not_resent_and_the_check_returns_the_order(
    fake: FakeOrderCloud, admin: OrderCloud, shopper: ShopperSession, how: str
) -> None:
    provision(admin, event_types=["OrderSubmitted"], targets=["Http"])
    order_id = str(shopper.order_id)
    fake.faults.add("POST", "*/submit", error="read_timeout")
    order = shopper.client.cart.submit() if how == "cart" else shopper.client.orders.submit("Outgoing", order_id)
    assert (order.id, order.status, order.is_submitted) == (order_id, OrderStatus.OPEN, True)
    submits = [entry for entry in fake.requests if entry.path.endswith("/submit")]
    assert [(entry.status, entry.fault) for entry in submits] == [(200, "read_timeout")]  # processed once
    assert fake.requests[-1].method == "GET"  # then the order was read back
    assert fake.requests[-1].path == f"/v1/orders/Outgoing/{order_id}"
    assert len(fake.deliveries_for("OrderSubmitted")) == 1  # and the event fired once


def test_a_503_on_submit_is_ambiguous_and_the_check_says_unsubmitted(
    fake: FakeOrderCloud, shopper: ShopperSession
) -> None:
    fake.faults.add("POST", "/v1/cart/submit", status=503)
    with pytest.raises(AmbiguousSubmitError) as caught:
        shopper.client.cart.submit()
    assert caught.value.order is not None
    assert caught.value.order.status == OrderStatus.UNSUBMITTED
    assert len(fake.requests_to("POST", "/v1/cart/submit")) == 1
    assert shopper.client.cart.submit().status == OrderStatus.OPEN  # safe to submit again


def test_a_delay_fault_only_waits(fake: FakeOrderCloud) -> None:
    fake.faults.add("GET", "/v1/me", delay=0.01)
    started = time.perf_counter()
    with fake.client() as client:
        client.me.get()
    assert time.perf_counter() - started >= 0.01
    assert [entry.status for entry in fake.requests_to("GET", "/v1/me")] == [200]


async def test_faults_drive_the_async_client(fake: FakeOrderCloud) -> None:
    fake.faults.add("GET", TE_PATH, status=503, headers={"Retry-After": "0"})
    fake.faults.add("POST", DC_PATH, error="connect")
    fake.faults.add("PUT", f"{DC_PATH}/*", error="read_timeout")
    async with fake.async_client() as client:
        await client.tracking_events.list()
        await client.delivery_configs.create(dc())
        await client.delivery_configs.save("dc-2", dc("dc-2"))
    assert [entry.fault for entry in fake.requests if entry.path != "/oauth/token"] == [
        "status 503",
        None,
        "connect",
        None,
        "read_timeout",
        None,
    ]


def test_fault_matching_and_bookkeeping() -> None:
    faults = Faults()
    any_method = faults.add("*", "/v1/integrations/*", status=500, times=2)
    faults.add("get", "/v1/me", status=404)
    assert faults.take("DELETE", "/v1/cart") is None
    assert faults.take("GET", "/v1/me") is not None  # method names match case-insensitively
    assert faults.take("PATCH", "/v1/integrations/deliveryconfig/x") is any_method
    assert faults.take("GET", "/v1/integrations/trackingEvents") is any_method
    assert faults.take("GET", "/v1/integrations/trackingEvents") is None  # used up
    faults.add("GET", "/v1/me", status=500)
    faults.clear()
    assert faults.pending == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({}, "needs a status"), ({"status": 500, "times": 0}, "at least 1"), ({"error": "dns"}, "connect")],
    ids=["nothing-to-do", "times-0", "unknown-error"],
)
def test_fault_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Faults().add("GET", "/v1/me", **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- reset


def test_reset_goes_back_to_the_seed(fake: FakeOrderCloud, admin: OrderCloud) -> None:
    provision(admin)
    session = fake.shopper(anon_user_id="beacon-1")
    session.client.cart.add_line_item({"ProductID": "SKU-MUG", "Quantity": 1})
    fake.faults.add("GET", "/v1/products", status=500)
    fake.clock.advance(1000)
    now = fake.clock.now()
    fake.reset()
    assert (fake.requests, fake.deliveries, fake.faults.pending, fake.anonymous_users) == ([], [], [], [])
    assert fake.api.tracking_events == {}
    assert fake.api.delivery_configs == {}
    assert fake.api.orders == {}
    assert fake.clock.now() >= now  # the clock keeps its time
    assert admin.tracking_events.list().meta.total_count == 0  # the old token is gone: the SDK got a new one
    assert [(entry.path, entry.status) for entry in fake.requests] == [
        (TE_PATH, 401),
        ("/oauth/token", 200),
        (TE_PATH, 200),
    ]
    assert {user["Username"] for user in fake.api.users.values()} >= {"admin", "jane", "john"}


# -------------------------------------------------------------------------------------------- journal


def test_the_request_journal(fake: FakeOrderCloud) -> None:
    token = anonymous_token(fake, "beacon-1")
    raw(fake, "POST", "/v1/cart/lineitems", token=token, json_body={"ProductID": "SKU-MUG", "Quantity": 2})
    raw(fake, "GET", "/v1/cart/lineitems", token=token, params=[("sortBy", "!ID"), ("ProductID", "SKU-*")])
    raw(fake, "PUT", "/v1/me/orders", token=token, params=[("anonUserToken", token)])
    assert [(entry.method, entry.path, entry.status) for entry in fake.requests] == [
        ("POST", "/oauth/token", 200),
        ("POST", "/v1/cart/lineitems", 201),
        ("GET", "/v1/cart/lineitems", 200),
        ("PUT", "/v1/me/orders", 400),
    ]
    post = fake.requests[1]
    assert isinstance(post, JournalEntry)
    assert post.json() == {"ProductID": "SKU-MUG", "Quantity": 2}
    assert abs(post.at - fake.clock.now()) < 5
    assert fake.requests[2].query == (("sortBy", "!ID"), ("ProductID", "SKU-*"))
    assert fake.requests[2].json() is None
    assert [entry.method for entry in fake.requests_to("*", "/v1/cart/*")] == ["POST", "GET"]
    assert fake.requests_to("get", "/v1/cart/lineitems") == [fake.requests[2]]
    assert token not in repr(fake.requests[3])  # anonUserToken is redacted from the repr
    assert fake.requests[3].query == (("anonUserToken", token),)
    assert token not in repr(fake.requests[0])  # bodies are never shown
