"""The flow driver (``_flow``): one generator over either client, run by the sync or the async runner.

mypy checks the ``assert_type`` lines: a call's result is typed as the method's return type (after
``await`` for the async client), never ``Any``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Coroutine, Generator
from typing import Any, TypeVar

import pytest
from typing_extensions import assert_type

from ordercloud_tracking import AsyncOrderCloud, NotFoundError, OrderCloud
from ordercloud_tracking._driven import Driven
from ordercloud_tracking._flow import Flow, call, drive, run_async, run_sync
from ordercloud_tracking.models.tracking import TrackingEvent
from ordercloud_tracking.testing import STOREFRONT_CLIENT_ID, FakeOrderCloud

R = TypeVar("R")
EVENT = {
    "ID": "te-flow",
    "EventType": "OrderSubmitted",
    "ClientID": STOREFRONT_CLIENT_ID,
    "Name": "Orders",
    "DeliveryConfigID": "dc-flow",
}
CONFIG = {
    "ID": "dc-flow",
    "Name": "Flow",
    "DeliveryTargets": {"Http": {"Endpoint": "https://x.example", "Secret": "s"}},
}


def rename(client: OrderCloud | AsyncOrderCloud, event_id: str, name: str) -> Flow[tuple[str, str]]:
    """Read an event (creating it when missing), rename it, and say what it was called."""
    try:
        event = yield from call(client.tracking_events.get, event_id)
    except NotFoundError:
        yield from call(client.delivery_configs.save, "dc-flow", CONFIG)
        event = yield from call(client.tracking_events.save, event_id, EVENT)
    assert_type(event, TrackingEvent)
    token = yield from call(client.get_access_token)
    assert_type(token, str)
    renamed = yield from call(client.tracking_events.patch, event_id, {"Name": name})
    return event.name, renamed.name


def missing(client: OrderCloud | AsyncOrderCloud) -> Flow[str]:
    event = yield from call(client.tracking_events.get, "no-such-event")
    return event.name


@pytest.fixture(params=["sync", "async"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[OrderCloud | AsyncOrderCloud]:
    fake = FakeOrderCloud()
    if request.param == "sync":
        with fake.client() as sync_client:
            yield sync_client
    else:
        async with fake.async_client() as async_client:
            yield async_client
    fake.close()


async def run(client: OrderCloud | AsyncOrderCloud, flow: Flow[R]) -> R:
    if isinstance(client, AsyncOrderCloud):
        return await run_async(flow)
    return run_sync(flow)


async def test_a_flow_gets_each_result_and_catches_the_errors_it_expects(client: OrderCloud | AsyncOrderCloud) -> None:
    first = await run(client, rename(client, "te-flow", "Renamed"))
    again = await run(client, rename(client, "te-flow", "Renamed again"))

    assert first == ("Orders", "Renamed")  # NotFoundError was thrown into the flow, which created the event
    assert again == ("Renamed", "Renamed again")


async def test_an_error_the_flow_does_not_catch_reaches_the_caller(client: OrderCloud | AsyncOrderCloud) -> None:
    with pytest.raises(NotFoundError) as raised:
        await run(client, missing(client))

    assert "no-such-event" in str(raised.value)


async def test_drive_runs_the_sync_client_now_and_gives_a_coroutine_for_the_async_one(
    client: OrderCloud | AsyncOrderCloud,
) -> None:
    outcome = drive(client, rename(client, "te-flow", "Driven"))

    if isinstance(client, AsyncOrderCloud):
        assert isinstance(outcome, Coroutine)
        coroutine: Coroutine[Any, Any, tuple[str, str]] = outcome
        assert await coroutine == ("Orders", "Driven")
    else:
        assert outcome == ("Orders", "Driven")


def test_a_call_never_shows_its_arguments() -> None:
    with FakeOrderCloud().client() as admin:
        step = call(admin.me.transfer_anon_user_order, "anon-token-5f2a")

    assert "transfer_anon_user_order" in repr(step)
    assert "anon-token-5f2a" not in repr(step)


# ------------------------------------------------------------------------------ Driven, the shared driver


def test_driven_sends_results_and_keeps_what_the_generator_returned() -> None:
    def steps() -> Generator[str, int, int]:
        first = yield "a"
        second = yield "b"
        return first + second

    seen: list[str] = []
    with Driven(steps()) as run:
        while (step := run.step) is not None:
            seen.append(step)
            run.send(len(seen))

    assert seen == ["a", "b"]
    assert run.value == 3


def test_an_exception_leaving_the_block_is_thrown_into_the_generator_which_is_closed() -> None:
    events: list[str] = []

    def steps() -> Generator[str, object, None]:
        try:
            yield "hold a claim"
            yield "never reached"
        except KeyboardInterrupt:
            events.append("released on KeyboardInterrupt")
            raise
        finally:
            events.append("closed")

    with pytest.raises(KeyboardInterrupt), Driven(steps()):
        raise KeyboardInterrupt  # what a handler may raise between two steps

    assert events == ["released on KeyboardInterrupt", "closed"]
