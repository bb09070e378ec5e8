"""Retries: which failures are retried for which methods, backoff with full jitter, Retry-After and its cap.

Every client here gets recorded sleeps (``Sleeps``) and a fixed clock: no test waits in real time.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from ordercloud_tracking import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncOrderCloud,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    OrderCloud,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    StaticToken,
)
from ordercloud_tracking._requests import RequestSpec
from tests.client_support import (
    BASE_URL,
    MODES,
    T0,
    TE_JSON,
    Client,
    FakeClock,
    Mode,
    Reply,
    Server,
    Sleeps,
    make_client,
    resolve,
    retry_policy,
    sync_client,
)

OK = TE_JSON
STATIC = StaticToken("static-token")  # no token requests: every request below is an API request


def ok(status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=OK)


def client_for(mode: Mode, server: Server, sleeps: Sleeps, **kwargs: Any) -> Client:
    kwargs.setdefault("grant", STATIC)
    policy = kwargs.pop("policy", None) or retry_policy(sleeps, kwargs.pop("clock", None), random=lambda: 1.0)
    return make_client(mode, server, policy=policy, **kwargs)


async def call(client: Client, method: str) -> Any:
    """One API call with the given HTTP method, through the public resources."""
    events = client.tracking_events
    if method == "GET":
        return await resolve(events.get("te1"))
    if method == "POST":
        return await resolve(events.create(OK))
    if method == "PUT":
        return await resolve(events.save("te1", OK))
    if method == "PATCH":
        return await resolve(events.patch("te1", {"Name": "renamed"}))
    if method == "DELETE":
        return await resolve(events.delete("te1"))
    raise AssertionError(method)


# --------------------------------------------------------------------------------- status matrix


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
@pytest.mark.parametrize("mode", MODES)
async def test_retryable_statuses_are_retried(mode: Mode, status: int) -> None:
    sleeps = Sleeps()
    server = Server().reply(httpx.Response(status), ok())
    client = client_for(mode, server, sleeps)

    event = await call(client, "GET")

    assert event.id == "te1"
    assert len(server.api_requests) == 2
    assert sleeps.calls == [0.5]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (501, InternalServerError),  # Not Implemented is permanent: retrying cannot help
        (505, InternalServerError),
    ],
)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("mode", MODES)
async def test_client_errors_are_not_retried(mode: Mode, method: str, status: int, error: type[APIError]) -> None:
    sleeps = Sleeps()
    server = Server().reply(httpx.Response(status), ok())
    client = client_for(mode, server, sleeps)

    with pytest.raises(error):
        await call(client, method)

    assert len(server.api_requests) == 1
    assert sleeps.calls == []


@pytest.mark.parametrize("status", [408, 429, 500, 503])
@pytest.mark.parametrize("mode", MODES)
async def test_retries_stop_after_max_retries_with_the_mapped_error(mode: Mode, status: int) -> None:
    sleeps = Sleeps()
    server = Server(default=lambda request: httpx.Response(status))
    client = client_for(mode, server, sleeps)

    with pytest.raises(APIError) as excinfo:
        await call(client, "GET")

    assert excinfo.value.status_code == status
    assert len(server.api_requests) == 3  # max_retries=2 by default
    assert sleeps.calls == [0.5, 1.0]


@pytest.mark.parametrize("max_retries", [0, 1, 3])
@pytest.mark.parametrize("mode", MODES)
async def test_max_retries_is_respected(mode: Mode, max_retries: int) -> None:
    sleeps = Sleeps()
    server = Server(default=lambda request: httpx.Response(503))
    client = client_for(mode, server, sleeps, policy=retry_policy(sleeps, max_retries=max_retries))

    with pytest.raises(InternalServerError):
        await call(client, "GET")

    assert len(server.api_requests) == max_retries + 1
    assert len(sleeps.calls) == max_retries


@pytest.mark.parametrize("mode", MODES)
async def test_with_options_max_retries_zero_disables_retries(mode: Mode) -> None:
    sleeps = Sleeps()
    server = Server(default=lambda request: httpx.Response(502))
    client = client_for(mode, server, sleeps).with_options(max_retries=0)

    with pytest.raises(InternalServerError):
        await call(client, "GET")

    assert len(server.api_requests) == 1
    assert sleeps.calls == []


@pytest.mark.parametrize("mode", MODES)
async def test_constructor_max_retries_zero_never_sleeps(mode: Mode) -> None:
    server = Server(default=lambda request: httpx.Response(503))
    transport = httpx.MockTransport(server)
    client: Client
    if mode == "sync":
        client = OrderCloud(
            grant=STATIC, base_url=BASE_URL, max_retries=0, http_client=httpx.Client(transport=transport)
        )
    else:
        client = AsyncOrderCloud(
            grant=STATIC, base_url=BASE_URL, max_retries=0, http_client=httpx.AsyncClient(transport=transport)
        )
    with pytest.raises(InternalServerError):
        await call(client, "GET")
    assert len(server.api_requests) == 1


# ------------------------------------------------------------------------------ transport failures


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout])
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("mode", MODES)
async def test_connect_failures_are_retried_for_every_method(
    mode: Mode, method: str, exc: type[httpx.TransportError]
) -> None:
    sleeps = Sleeps()
    server = Server().reply(exc, ok(201 if method == "POST" else 200))
    client = client_for(mode, server, sleeps)

    await call(client, method)

    assert [r.method for r in server.api_requests] == [method, method]
    assert sleeps.calls == [0.5]


@pytest.mark.parametrize("mode", MODES)
async def test_post_is_not_retried_after_a_read_timeout(mode: Mode) -> None:
    sleeps = Sleeps()
    server = Server().reply(httpx.ReadTimeout, ok(201))
    client = client_for(mode, server, sleeps)

    with pytest.raises(APITimeoutError) as excinfo:
        await call(client, "POST")

    assert excinfo.value.may_have_reached_server is True
    assert excinfo.value.method == "POST"
    assert len(server.api_requests) == 1
    assert sleeps.calls == []


@pytest.mark.parametrize("exc", [httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteTimeout])
@pytest.mark.parametrize("mode", MODES)
async def test_post_is_not_retried_after_a_failure_mid_request(mode: Mode, exc: type[httpx.TransportError]) -> None:
    sleeps = Sleeps()
    server = Server().reply(exc, ok(201))
    client = client_for(mode, server, sleeps)

    with pytest.raises(APIConnectionError):
        await call(client, "POST")

    assert len(server.api_requests) == 1
    assert sleeps.calls == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@pytest.mark.parametrize("mode", MODES)
async def test_post_is_not_retried_after_a_5xx(mode: Mode, status: int) -> None:
    sleeps = Sleeps()
    server = Server().reply(httpx.Response(status), ok(201))
    client = client_for(mode, server, sleeps)

    with pytest.raises(InternalServerError) as excinfo:
        await call(client, "POST")

    assert excinfo.value.status_code == status
    assert len(server.api_requests) == 1
    assert sleeps.calls == []


@pytest.mark.parametrize("status", [408, 429])
@pytest.mark.parametrize("mode", MODES)
async def test_post_is_retried_after_408_and_429(mode: Mode, status: int) -> None:
    # The server says it did not process the request, so resending cannot duplicate it.
    sleeps = Sleeps()
    server = Server().reply(httpx.Response(status), ok(201))
    client = client_for(mode, server, sleeps)

    await call(client, "POST")

    assert len(server.api_requests) == 2


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("mode", MODES)
async def test_idempotent_methods_are_retried_after_a_read_timeout(mode: Mode, method: str) -> None:
    sleeps = Sleeps()
    server = Server().reply(httpx.ReadTimeout, ok())
    client = client_for(mode, server, sleeps)

    await call(client, method)

    assert [r.method for r in server.api_requests] == [method, method]
    assert sleeps.calls == [0.5]


@pytest.mark.parametrize("mode", MODES)
async def test_post_marked_idempotent_is_retried_after_a_5xx(mode: Mode) -> None:
    sleeps = Sleeps()
    server = Server().reply(httpx.Response(503), ok())
    client = client_for(mode, server, sleeps)

    response = await resolve(client._send(RequestSpec("POST", "orders/Outgoing/o1/validate", idempotent=True)))

    assert response.status_code == 200
    assert len(server.api_requests) == 2


@pytest.mark.parametrize("mode", MODES)
async def test_connection_errors_give_up_after_max_retries(mode: Mode) -> None:
    sleeps = Sleeps()
    server = Server(default=httpx.ConnectError)
    client = client_for(mode, server, sleeps)

    with pytest.raises(APIConnectionError) as excinfo:
        await call(client, "GET")

    assert not isinstance(excinfo.value, APITimeoutError)
    assert excinfo.value.may_have_reached_server is False
    assert len(server.api_requests) == 3
    assert sleeps.calls == [0.5, 1.0]


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ReadTimeout])
@pytest.mark.parametrize("mode", MODES)
async def test_a_post_is_retried_when_its_token_request_failed(mode: Mode, exc: type[httpx.TransportError]) -> None:
    # The API request was never sent, whatever happened to the token request.
    sleeps = Sleeps()
    server = Server()
    server.token_replies.extend([exc, server.mint])
    client = client_for(mode, server, sleeps, grant=None)

    await call(client, "POST")

    assert len(server.token_requests) == 2
    assert [r.method for r in server.api_requests] == ["POST"]
    assert sleeps.calls == [0.5]


# ---------------------------------------------------------------------------------- Retry-After


@pytest.mark.parametrize(("header", "expected"), [("2", 2.0), ("0", 0.0), ("1.5", 1.5), ("60", 60.0)])
@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("mode", MODES)
async def test_retry_after_seconds_is_waited_exactly(mode: Mode, status: int, header: str, expected: float) -> None:
    sleeps = Sleeps()
    server = Server().reply(httpx.Response(status, headers={"Retry-After": header}), ok())
    client = client_for(mode, server, sleeps)

    await call(client, "GET")

    assert sleeps.calls == [expected]
    assert len(server.api_requests) == 2


def http_date(timestamp: float) -> str:
    return format_datetime(datetime.fromtimestamp(timestamp, tz=timezone.utc), usegmt=True)


@pytest.mark.parametrize("mode", MODES)
async def test_retry_after_http_date_is_waited_exactly(mode: Mode) -> None:
    sleeps = Sleeps()
    clock = FakeClock(T0)
    server = Server().reply(httpx.Response(429, headers={"Retry-After": http_date(T0 + 7)}), ok())
    client = client_for(mode, server, sleeps, clock=clock)

    await call(client, "GET")

    assert sleeps.calls == [7.0]


@pytest.mark.parametrize("mode", MODES)
async def test_retry_after_http_date_in_the_past_means_now(mode: Mode) -> None:
    sleeps = Sleeps()
    clock = FakeClock(T0)
    server = Server().reply(httpx.Response(503, headers={"Retry-After": http_date(T0 - 30)}), ok())
    client = client_for(mode, server, sleeps, clock=clock)

    await call(client, "GET")

    assert sleeps.calls == [0.0]


@pytest.mark.parametrize("mode", MODES)
async def test_unparseable_retry_after_falls_back_to_backoff(mode: Mode) -> None:
    sleeps = Sleeps()
    server = Server().reply(httpx.Response(429, headers={"Retry-After": "soon"}), ok())
    client = client_for(mode, server, sleeps)

    await call(client, "GET")

    assert sleeps.calls == [0.5]


@pytest.mark.parametrize("header", ["61", "120", "http-date"])
@pytest.mark.parametrize("mode", MODES)
async def test_retry_after_over_sixty_seconds_raises_rate_limit_error_without_waiting(mode: Mode, header: str) -> None:
    sleeps = Sleeps()
    clock = FakeClock(T0)
    value = http_date(T0 + 300) if header == "http-date" else header
    body = {"Errors": [{"ErrorCode": "TooManyRequests", "Message": "Slow down"}]}
    server = Server().reply(httpx.Response(429, headers={"Retry-After": value}, json=body), ok())
    client = client_for(mode, server, sleeps, clock=clock)

    with pytest.raises(RateLimitError) as excinfo:
        await call(client, "GET")

    assert excinfo.value.retry_after == (300.0 if header == "http-date" else float(header))
    assert excinfo.value.status_code == 429
    assert excinfo.value.error_code == "TooManyRequests"
    assert sleeps.calls == []
    assert len(server.api_requests) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_rate_limit_error_after_the_last_retry_keeps_retry_after(mode: Mode) -> None:
    sleeps = Sleeps()
    server = Server(default=lambda request: httpx.Response(429, headers={"Retry-After": "3"}))
    client = client_for(mode, server, sleeps)

    with pytest.raises(RateLimitError) as excinfo:
        await call(client, "GET")

    assert excinfo.value.retry_after == 3.0
    assert sleeps.calls == [3.0, 3.0]


def test_max_retry_after_is_configurable() -> None:
    sleeps = Sleeps()
    server = Server().reply(httpx.Response(429, headers={"Retry-After": "90"}), ok())
    client = sync_client(server, grant=STATIC, policy=retry_policy(sleeps, max_retry_after=120))
    client.tracking_events.get("te1")
    assert sleeps.calls == [90.0]


# -------------------------------------------------------------------------------------- backoff


@pytest.mark.parametrize("mode", MODES)
async def test_backoff_doubles_from_half_a_second_up_to_eight(mode: Mode) -> None:
    sleeps = Sleeps()
    server = Server(default=lambda request: httpx.Response(503))
    policy = retry_policy(sleeps, max_retries=7, random=lambda: 1.0)  # the ceiling of each jitter range
    client = client_for(mode, server, sleeps, policy=policy)

    with pytest.raises(InternalServerError):
        await call(client, "GET")

    assert sleeps.calls == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


@pytest.mark.parametrize("mode", MODES)
async def test_jitter_stays_within_the_full_jitter_bounds(mode: Mode) -> None:
    retries = 7
    draws: dict[int, list[float]] = {n: [] for n in range(retries)}
    for seed in range(60):
        sleeps = Sleeps()
        server = Server(default=lambda request: httpx.Response(503))
        policy = retry_policy(sleeps, max_retries=retries, random=random.Random(seed).random)
        client = client_for(mode, server, sleeps, policy=policy)
        with pytest.raises(InternalServerError):
            await call(client, "GET")
        assert len(sleeps.calls) == retries
        for n, delay in enumerate(sleeps.calls):
            draws[n].append(delay)

    for n, delays in draws.items():
        ceiling = min(8.0, 0.5 * 2**n)
        assert all(0.0 <= d <= ceiling for d in delays), (n, delays)
        assert len(set(delays)) > 1, f"retry {n} was not jittered"
        # Full jitter: the whole range is used, not just a band near the ceiling.
        assert min(delays) < ceiling / 2 < max(delays)
    all_delays = [d for delays in draws.values() for d in delays]
    assert len(set(all_delays)) == len(all_delays)


def test_backoff_is_reproducible_with_a_seeded_random() -> None:
    first = RetryPolicy(random=random.Random(7).random)
    second = RetryPolicy(random=random.Random(7).random)
    assert [first.backoff(n) for n in range(6)] == [second.backoff(n) for n in range(6)]


def test_retry_policy_refuses_negative_settings() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError, match="base_delay"):
        RetryPolicy(base_delay=-0.1)


# ------------------------------------------------------------------------------- retry + success


@pytest.mark.parametrize("mode", MODES)
async def test_mixed_failures_then_success(mode: Mode) -> None:
    sleeps = Sleeps()
    replies: list[Reply] = [httpx.ConnectError, httpx.Response(502)]
    server = Server().reply(*replies, ok())
    client = client_for(mode, server, sleeps)

    event = await call(client, "GET")

    assert event.name == "Orders to Send"
    assert len(server.api_requests) == 3
    assert sleeps.calls == [0.5, 1.0]
