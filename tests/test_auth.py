"""Grants, the token cache (early refresh, single-flight, refresh tokens), 401 replay, TokenError, decode_token."""

from __future__ import annotations

import asyncio
import base64
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from ordercloud_tracking import (
    AnonymousGrant,
    APIError,
    AuthenticationError,
    ClientCredentials,
    MissingCredentialsError,
    OrderCloudError,
    PasswordGrant,
    StaticToken,
    TokenError,
    decode_token,
)
from ordercloud_tracking._auth import Grant
from tests.client_support import (
    API,
    MODES,
    T0,
    TE_JSON,
    TOKEN_URL,
    FakeClock,
    Mode,
    Server,
    Sleeps,
    async_client,
    bearer,
    form,
    make_client,
    resolve,
    retry_policy,
    sync_client,
    token_json,
)
from tests.conftest import make_jwt

# ----------------------------------------------------------------------------------- grant forms


@pytest.mark.parametrize(
    ("grant", "expected"),
    [
        pytest.param(
            ClientCredentials("client-id", "client-secret"),
            {
                "grant_type": "client_credentials",
                "client_id": "client-id",
                "client_secret": "client-secret",
                "scope": "FullAccess",
            },
            id="client-credentials",
        ),
        pytest.param(
            ClientCredentials("client-id", "client-secret", scopes=("TrackingEventAdmin", "DeliveryConfigAdmin")),
            {
                "grant_type": "client_credentials",
                "client_id": "client-id",
                "client_secret": "client-secret",
                "scope": "TrackingEventAdmin DeliveryConfigAdmin",
            },
            id="client-credentials-scopes",
        ),
        pytest.param(
            PasswordGrant("client-id", "jane", "pa ss&word=1", scopes=("Shopper", "MeAddressAdmin")),
            {
                "grant_type": "password",
                "client_id": "client-id",
                "username": "jane",
                "password": "pa ss&word=1",
                "scope": "Shopper MeAddressAdmin",
            },
            id="password",
        ),
        pytest.param(
            PasswordGrant("client-id", "jane", "pw", client_secret="client-secret", scopes=("Shopper",)),
            {
                "grant_type": "password",
                "client_id": "client-id",
                "username": "jane",
                "password": "pw",
                "client_secret": "client-secret",
                "scope": "Shopper",
            },
            id="password-elevated",
        ),
        pytest.param(
            AnonymousGrant("client-id"),
            {"grant_type": "client_credentials", "client_id": "client-id", "scope": "Shopper"},
            id="anonymous",
        ),
        pytest.param(
            AnonymousGrant("client-id", anon_user_id="7c9e6679742540de944be07fc1f90ae7"),
            {
                "grant_type": "client_credentials",
                "client_id": "client-id",
                "scope": "Shopper",
                "anonuserid": "7c9e6679742540de944be07fc1f90ae7",
            },
            id="anonymous-with-beacon-id",
        ),
        pytest.param(
            AnonymousGrant("client-id", anon_user_id=""),
            {"grant_type": "client_credentials", "client_id": "client-id", "scope": "Shopper"},
            id="anonymous-empty-beacon-id",
        ),
    ],
)
@pytest.mark.parametrize("mode", MODES)
async def test_token_request_form_is_exactly_the_reference(mode: Mode, grant: Grant, expected: dict[str, str]) -> None:
    server = Server()
    client = make_client(mode, server, grant=grant)

    await resolve(client.tracking_events.get("te1"))

    token_request, api_request = server.requests
    assert token_request.method == "POST"
    assert str(token_request.url) == TOKEN_URL
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert token_request.headers["Accept"] == "application/json"
    assert "Authorization" not in token_request.headers
    assert form(token_request) == expected
    assert bearer(api_request) == "tok-1"


def test_anonymous_grant_has_no_client_secret_at_all() -> None:
    grant = AnonymousGrant("client-id", anon_user_id="beacon")
    assert "client_secret" not in grant.form()
    assert not hasattr(grant, "client_secret")


def test_grants_accept_a_space_delimited_scope_string() -> None:
    assert ClientCredentials("c", "s", scopes="Shopper MeAdmin").scopes == ("Shopper", "MeAdmin")


@pytest.mark.parametrize("mode", MODES)
async def test_static_token_is_sent_as_is_and_never_requested(mode: Mode) -> None:
    server = Server()
    client = make_client(mode, server, grant=StaticToken("static-token"))
    await resolve(client.tracking_events.get("te1"))
    await resolve(client.tracking_events.get("te1"))
    assert server.token_requests == []
    assert [bearer(r) for r in server.api_requests] == ["static-token", "static-token"]


@pytest.mark.parametrize("mode", MODES)
async def test_an_expired_static_token_sends_nothing_and_claims_no_http_status(mode: Mode) -> None:
    # Issue 11 §3: a client state is not an HTTP answer. No request was sent, so no 401 (nor any status).
    clock = FakeClock()
    server = Server()
    client = make_client(mode, server, clock=clock)
    cache = client.new_token_cache(StaticToken("short-lived"))
    cache.set_token("short-lived", expires_in=60)
    as_user = client.with_options(token_cache=cache)
    await resolve(as_user.tracking_events.get("te1"))
    clock.advance(61)

    with pytest.raises(MissingCredentialsError, match="static access token has expired") as excinfo:
        await resolve(as_user.tracking_events.get("te1"))

    assert not isinstance(excinfo.value, APIError)
    assert not hasattr(excinfo.value, "status_code")
    assert "401" not in str(excinfo.value)
    assert len(server.api_requests) == 1
    assert server.token_requests == []


# ------------------------------------------------------------------------------------ token cache


@pytest.mark.parametrize("mode", MODES)
async def test_token_is_reused_until_the_refresh_skew(mode: Mode) -> None:
    clock = FakeClock()
    server = Server(expires_in=3600)
    client = make_client(mode, server, clock=clock)

    await resolve(client.tracking_events.get("te1"))
    clock.advance(3600 - 61)  # 61 s left: outside the default 60 s skew
    await resolve(client.tracking_events.get("te1"))
    assert len(server.token_requests) == 1

    clock.advance(2)  # 59 s left: refreshed before it expires
    await resolve(client.tracking_events.get("te1"))
    assert len(server.token_requests) == 2
    assert [bearer(r) for r in server.api_requests] == ["tok-1", "tok-1", "tok-2"]


@pytest.mark.parametrize("mode", MODES)
async def test_custom_refresh_skew(mode: Mode) -> None:
    clock = FakeClock()
    server = Server(expires_in=3600)
    client = make_client(mode, server, clock=clock, refresh_skew=600)

    await resolve(client.tracking_events.get("te1"))
    clock.advance(3600 - 601)
    await resolve(client.tracking_events.get("te1"))
    clock.advance(2)
    await resolve(client.tracking_events.get("te1"))

    assert [bearer(r) for r in server.api_requests] == ["tok-1", "tok-1", "tok-2"]


@pytest.mark.parametrize("mode", MODES)
async def test_expiry_falls_back_to_the_jwt_exp_claim(mode: Mode) -> None:
    clock = FakeClock()
    jwt = make_jwt(exp=int(T0) + 120)
    server = Server()
    server.token_replies.append(httpx.Response(200, json={"access_token": jwt, "token_type": "bearer"}))
    client = make_client(mode, server, clock=clock)

    await resolve(client.tracking_events.get("te1"))
    clock.advance(59)  # 61 s before exp
    await resolve(client.tracking_events.get("te1"))
    clock.advance(2)  # inside the skew
    await resolve(client.tracking_events.get("te1"))

    assert [bearer(r) for r in server.api_requests] == [jwt, jwt, "tok-1"]


@pytest.mark.parametrize("mode", MODES)
async def test_token_request_uses_the_client_timeout(mode: Mode) -> None:
    server = Server()
    client = make_client(mode, server, timeout=7.0)
    await resolve(client.tracking_events.get("te1"))
    token_request, api_request = server.requests
    assert token_request.extensions.get("timeout") == api_request.extensions["timeout"] == httpx.Timeout(7.0).as_dict()

    quick = make_client(mode, server, timeout=3.0).with_options(timeout=2.0)
    assert await resolve(quick.get_access_token()) == "tok-2"
    assert server.requests[-1].extensions.get("timeout") == httpx.Timeout(2.0).as_dict()


# --------------------------------------------------------------------------------- refresh tokens


@pytest.mark.parametrize("mode", MODES)
async def test_refresh_token_is_used_when_the_server_returns_one(mode: Mode) -> None:
    clock = FakeClock()
    server = Server(expires_in=600, refresh_token="rt-1")
    grant = PasswordGrant("client-id", "jane", "pw", client_secret="client-secret", scopes=("Shopper",))
    client = make_client(mode, server, grant=grant, clock=clock)

    await resolve(client.tracking_events.get("te1"))
    clock.advance(601)
    await resolve(client.tracking_events.get("te1"))

    first, refresh = server.token_requests
    assert form(first)["grant_type"] == "password"
    # §4.2 lists client_id + refresh_token; §3: a client with a secret needs it on every grant.
    assert form(refresh) == {
        "grant_type": "refresh_token",
        "client_id": "client-id",
        "refresh_token": "rt-1",
        "client_secret": "client-secret",
    }
    assert [bearer(r) for r in server.api_requests] == ["tok-1", "tok-2"]


@pytest.mark.parametrize("mode", MODES)
async def test_refresh_without_a_client_secret_sends_only_client_id_and_refresh_token(mode: Mode) -> None:
    clock = FakeClock()
    server = Server(expires_in=600, refresh_token="rt-1")
    grant = PasswordGrant("client-id", "jane", "pw", scopes=("Shopper",))
    client = make_client(mode, server, grant=grant, clock=clock)

    await resolve(client.tracking_events.get("te1"))
    clock.advance(601)
    await resolve(client.tracking_events.get("te1"))

    assert form(server.token_requests[1]) == {
        "grant_type": "refresh_token",
        "client_id": "client-id",
        "refresh_token": "rt-1",
    }


@pytest.mark.parametrize("mode", MODES)
async def test_failed_refresh_falls_back_to_the_grant(mode: Mode) -> None:
    clock = FakeClock()
    server = Server(expires_in=600, refresh_token="rt-1")
    revoked = httpx.Response(400, json={"error": "invalid_grant", "error_description": "refresh token expired"})
    server.token_replies.extend([server.mint, revoked, server.mint])
    client = make_client(mode, server, grant=PasswordGrant("client-id", "jane", "pw"), clock=clock)

    await resolve(client.tracking_events.get("te1"))
    clock.advance(601)
    await resolve(client.tracking_events.get("te1"))

    assert [form(r)["grant_type"] for r in server.token_requests] == ["password", "refresh_token", "password"]
    assert form(server.token_requests[2])["password"] == "pw"
    assert [bearer(r) for r in server.api_requests] == ["tok-1", "tok-2"]


@pytest.mark.parametrize("mode", MODES)
async def test_anonymous_tokens_are_re_minted_not_refreshed(mode: Mode) -> None:
    clock = FakeClock()
    server = Server(expires_in=600)
    client = make_client(mode, server, grant=AnonymousGrant("client-id", anon_user_id="beacon"), clock=clock)

    await resolve(client.tracking_events.get("te1"))
    clock.advance(601)
    await resolve(client.tracking_events.get("te1"))

    assert [form(r) for r in server.token_requests] == [
        {"grant_type": "client_credentials", "client_id": "client-id", "scope": "Shopper", "anonuserid": "beacon"}
    ] * 2


# ---------------------------------------------------------------------------------- single-flight


async def test_fifty_concurrent_async_calls_with_an_expired_token_make_one_token_request() -> None:
    clock = FakeClock()
    server = Server(expires_in=3600)
    token_started = asyncio.Event()
    release = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token" and server.issued:  # hold the second token response back
            token_started.set()
            await release.wait()
        return server(request)

    client = async_client(handler, clock=clock)
    await client.tracking_events.get("te1")
    clock.advance(3601)  # expired: nobody may use it

    tasks = [asyncio.create_task(client.tracking_events.get("te1")) for _ in range(50)]
    await asyncio.wait_for(token_started.wait(), timeout=5)
    for _ in range(5):  # let every task reach the token lock
        await asyncio.sleep(0)
    assert not any(task.done() for task in tasks)
    release.set()
    events = await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)

    assert len(events) == 50
    assert len(server.token_requests) == 2  # the first token, then exactly one refresh
    assert [bearer(r) for r in server.api_requests[1:]] == ["tok-2"] * 50


async def test_fifty_concurrent_async_calls_without_a_token_make_one_token_request() -> None:
    server = Server()
    release = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            await release.wait()
        return server(request)

    client = async_client(handler)
    tasks = [asyncio.create_task(client.tracking_events.get("te1")) for _ in range(50)]
    for _ in range(5):
        await asyncio.sleep(0)
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)

    assert len(server.token_requests) == 1
    assert {bearer(r) for r in server.api_requests} == {"tok-1"}
    assert len(server.api_requests) == 50


class CountingLock:
    """A lock that tells how many callers have asked for it (to prove the threads contended)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self.attempts = 0

    def acquire(self, blocking: bool = True) -> bool:
        with self._changed:
            self.attempts += 1
            self._changed.notify_all()
        return self._lock.acquire(blocking)

    def release(self) -> None:
        self._lock.release()

    def wait_for_attempts(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.attempts >= count, timeout=10)


def test_sixteen_threads_with_an_expired_token_make_one_token_request() -> None:
    clock = FakeClock()
    server = Server(expires_in=3600)
    release = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token" and server.issued:
            assert release.wait(timeout=10)
        return server(request)

    client = sync_client(handler, clock=clock)
    client.tracking_events.get("te1")
    clock.advance(3601)
    cache = client.token_cache
    assert cache is not None
    lock = CountingLock()
    cache.thread_lock = lock  # type: ignore[assignment]
    start = threading.Barrier(16)

    def call() -> None:
        start.wait(timeout=10)
        client.tracking_events.get("te1")

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(call) for _ in range(16)]
        # All 16 threads are queued on the token lock while one token request is held back.
        assert lock.wait_for_attempts(16)
        release.set()
        for future in futures:
            future.result(timeout=10)

    assert len(server.token_requests) == 2
    assert [bearer(r) for r in server.api_requests[1:]] == ["tok-2"] * 16


def test_a_thread_with_a_valid_token_is_not_blocked_by_a_refresh() -> None:
    clock = FakeClock()
    server = Server(expires_in=3600)
    token_started = threading.Event()
    release = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token" and server.issued:
            token_started.set()
            assert release.wait(timeout=10)
        return server(request)

    client = sync_client(handler, clock=clock)
    client.tracking_events.get("te1")
    clock.advance(3600 - 30)  # still valid, but inside the refresh skew

    with ThreadPoolExecutor(max_workers=2) as pool:
        refresher = pool.submit(client.tracking_events.get, "te1")
        assert token_started.wait(timeout=10)
        # While the refresh is in flight, another caller goes ahead with the still-valid token.
        other = pool.submit(client.tracking_events.get, "te1")
        other.result(timeout=10)
        assert not refresher.done()
        assert [bearer(r) for r in server.api_requests] == ["tok-1", "tok-1"]
        release.set()
        refresher.result(timeout=10)

    assert [bearer(r) for r in server.api_requests] == ["tok-1", "tok-1", "tok-2"]
    assert len(server.token_requests) == 2


async def test_a_task_with_a_valid_token_is_not_blocked_by_a_refresh() -> None:
    clock = FakeClock()
    server = Server(expires_in=3600)
    token_started = asyncio.Event()
    release = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token" and server.issued:
            token_started.set()
            await release.wait()
        return server(request)

    client = async_client(handler, clock=clock)
    await client.tracking_events.get("te1")
    clock.advance(3600 - 30)

    refresher = asyncio.create_task(client.tracking_events.get("te1"))
    await asyncio.wait_for(token_started.wait(), timeout=5)
    await asyncio.wait_for(client.tracking_events.get("te1"), timeout=5)
    assert not refresher.done()
    assert [bearer(r) for r in server.api_requests] == ["tok-1", "tok-1"]
    release.set()
    await asyncio.wait_for(refresher, timeout=5)

    assert [bearer(r) for r in server.api_requests] == ["tok-1", "tok-1", "tok-2"]


# ----------------------------------------------------------------------------------- 401 replay


@pytest.mark.parametrize("mode", MODES)
async def test_401_invalidates_the_token_and_replays_once(mode: Mode) -> None:
    server = Server().reply(httpx.Response(401), httpx.Response(200, json=TE_JSON))
    client = make_client(mode, server)

    event = await resolve(client.tracking_events.get("te1"))

    assert event.id == "te1"
    assert [(r.url.path, bearer(r)) for r in server.requests] == [
        ("/oauth/token", None),
        ("/v1/integrations/trackingEvents/te1", "tok-1"),
        ("/oauth/token", None),
        ("/v1/integrations/trackingEvents/te1", "tok-2"),
    ]
    # The new token is kept for later calls.
    await resolve(client.tracking_events.get("te1"))
    assert bearer(server.requests[-1]) == "tok-2"
    assert len(server.token_requests) == 2


@pytest.mark.parametrize("mode", MODES)
async def test_401_replay_uses_the_refresh_token_when_there_is_one(mode: Mode) -> None:
    server = Server(refresh_token="rt-1").reply(httpx.Response(401))
    client = make_client(mode, server, grant=PasswordGrant("client-id", "jane", "pw"))

    await resolve(client.tracking_events.get("te1"))

    assert [form(r)["grant_type"] for r in server.token_requests] == ["password", "refresh_token"]


@pytest.mark.parametrize("mode", MODES)
async def test_second_401_raises_authentication_error(mode: Mode) -> None:
    unauthorized = {"Errors": [{"ErrorCode": "InvalidToken", "Message": "Access token is invalid or expired."}]}
    server = Server().reply(httpx.Response(401, json=unauthorized), httpx.Response(401, json=unauthorized))
    sleeps = Sleeps()
    client = make_client(mode, server, sleeps=sleeps)

    with pytest.raises(AuthenticationError) as excinfo:
        await resolve(client.tracking_events.get("te1"))

    assert excinfo.value.status_code == 401
    assert excinfo.value.error_code == "InvalidToken"
    assert len(server.api_requests) == 2
    assert len(server.token_requests) == 2
    assert sleeps.calls == []


@pytest.mark.parametrize("mode", MODES)
async def test_static_token_401_raises_without_a_token_request(mode: Mode) -> None:
    server = Server().reply(httpx.Response(401))
    client = make_client(mode, server, grant=StaticToken("stale-token"))

    with pytest.raises(AuthenticationError):
        await resolve(client.tracking_events.get("te1"))

    assert server.token_requests == []
    assert len(server.api_requests) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_per_call_access_token_401_raises_without_a_token_request(mode: Mode) -> None:
    server = Server().reply(httpx.Response(401))
    client = make_client(mode, server)

    with pytest.raises(AuthenticationError):
        await resolve(client.tracking_events.get("te1", access_token="stale-token"))

    assert server.token_requests == []
    assert len(server.api_requests) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_401_replay_resends_the_request_body(mode: Mode) -> None:
    server = Server().reply(httpx.Response(401), httpx.Response(201, json=TE_JSON))
    client = make_client(mode, server)

    await resolve(client.tracking_events.create(TE_JSON))

    first, replay = server.api_requests
    assert first.method == replay.method == "POST"
    assert first.content == replay.content
    assert replay.headers["Content-Type"] == "application/json"


# ------------------------------------------------------------------------------------ TokenError


@pytest.mark.parametrize("mode", MODES)
async def test_token_error_carries_the_oauth_and_ordercloud_fields(mode: Mode) -> None:
    body = {
        "error": "invalid_grant",
        "error_description": "Invalid username or password",
        "Errors": [
            {"ErrorCode": "Auth.InvalidUsernameOrPassword", "Message": "Invalid username or password", "Data": None}
        ],
    }
    server = Server()
    server.token_replies.append(httpx.Response(400, json=body))
    sleeps = Sleeps()
    client = make_client(mode, server, grant=PasswordGrant("client-id", "jane", "wrong-password"), sleeps=sleeps)

    with pytest.raises(TokenError) as excinfo:
        await resolve(client.tracking_events.get("te1"))

    exc = excinfo.value
    assert isinstance(exc, APIError)
    assert isinstance(exc, OrderCloudError)
    assert exc.error == "invalid_grant"
    assert exc.error_description == "Invalid username or password"
    assert exc.error_code == "Auth.InvalidUsernameOrPassword"
    assert [(e.error_code, e.message) for e in exc.errors] == [
        ("Auth.InvalidUsernameOrPassword", "Invalid username or password")
    ]
    assert exc.status_code == 400
    assert exc.method == "POST"
    assert exc.url == TOKEN_URL
    assert "wrong-password" not in str(exc)
    assert "wrong-password" not in repr(exc)
    assert server.api_requests == []
    assert len(server.token_requests) == 1, "a refused grant is not retried"
    assert sleeps.calls == []


@pytest.mark.parametrize("mode", MODES)
async def test_token_error_with_only_oauth_fields_and_a_bom(mode: Mode) -> None:
    server = Server()
    server.token_replies.append(
        httpx.Response(401, content=b'\xef\xbb\xbf{"error":"invalid_client","error_description":"Unknown client"}')
    )
    client = make_client(mode, server)

    with pytest.raises(TokenError) as excinfo:
        await resolve(client.tracking_events.get("te1"))

    assert excinfo.value.error == "invalid_client"
    assert excinfo.value.error_code == "invalid_client"
    assert excinfo.value.errors == []
    assert "Unknown client" in str(excinfo.value)
    assert excinfo.value.status_code == 401


@pytest.mark.parametrize("mode", MODES)
async def test_token_response_without_access_token_is_a_token_error(mode: Mode) -> None:
    server = Server()
    server.token_replies.append(httpx.Response(200, json={"token_type": "bearer"}))
    client = make_client(mode, server)

    with pytest.raises(TokenError, match="access_token"):
        await resolve(client.tracking_events.get("te1"))
    assert server.api_requests == []


DEEP = b"[" * 100_000 + b"]" * 100_000


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "body",
    [DEEP, b'{"access_token": ' + DEEP + b"}", b'{"error": ' + DEEP + b"}"],
    ids=["array", "in-access-token", "in-error"],
)
async def test_deeply_nested_token_responses_are_token_errors(mode: Mode, body: bytes) -> None:
    server = Server()
    server.token_replies.append(httpx.Response(200 if b"error" not in body else 400, content=body))
    client = make_client(mode, server, policy=retry_policy(Sleeps(), max_retries=0))

    with pytest.raises(TokenError):
        await resolve(client.tracking_events.get("te1"))
    assert server.api_requests == []


@pytest.mark.parametrize("mode", MODES)
async def test_a_token_with_deeply_nested_claims_is_still_used(mode: Mode) -> None:
    empty, deep = b64url(b"{}"), b64url(b'{"a": ' + DEEP + b"}")
    token = f"{empty}.{deep}.sig"
    server = Server()
    server.token_replies.append(httpx.Response(200, json={"access_token": token}))  # no expires_in: read exp
    client = make_client(mode, server)

    await resolve(client.tracking_events.get("te1"))
    assert bearer(server.api_requests[0]) == token


@pytest.mark.parametrize("where", ["header", "claims"])
def test_decode_token_with_deeply_nested_json_is_a_value_error(where: str) -> None:
    empty, deep = b64url(b"{}"), b64url(b'{"a": ' + DEEP + b"}")
    token = f"{deep}.{empty}.sig" if where == "header" else f"{empty}.{deep}.sig"
    with pytest.raises(ValueError, match="Malformed token") as excinfo:
        decode_token(token)
    assert excinfo.value.__context__ is None  # the decoding error holds the token's text
    assert excinfo.value.__cause__ is None


@pytest.mark.parametrize("mode", MODES)
async def test_token_endpoint_outage_is_retried(mode: Mode) -> None:
    server = Server()
    server.token_replies.extend([httpx.Response(503), server.mint])
    sleeps = Sleeps()
    client = make_client(mode, server, policy=retry_policy(sleeps, random=lambda: 1.0))

    event = await resolve(client.tracking_events.create(TE_JSON))

    assert event.id == "te1"
    assert len(server.token_requests) == 2
    assert len(server.api_requests) == 1
    assert sleeps.calls == [0.5]


@pytest.mark.parametrize("mode", MODES)
async def test_a_token_request_that_cannot_connect_releases_the_token_lock(mode: Mode) -> None:
    # The failed attempt's exception (and the frames it holds) outlives the attempt: the lock must not.
    server = Server()
    server.token_replies.extend([httpx.ConnectError, server.mint])
    sleeps = Sleeps()
    client = make_client(mode, server, policy=retry_policy(sleeps, random=lambda: 1.0))

    token = await resolve(client.get_access_token())

    assert token == "tok-1"
    assert len(server.token_requests) == 2
    assert sleeps.calls == [0.5]


# ---------------------------------------------------------------------------------- decode_token


def test_decode_token_reads_the_ordercloud_claims() -> None:
    token = make_jwt(
        {
            "usr": "jane",
            "cid": "client-id",
            "u": "42",
            "usrtype": "buyer",
            "role": ["Shopper", "MeAdmin"],
            "iss": "https://auth.ordercloud.io",
            "aud": "https://api.ordercloud.io",
            "exp": 1_700_000_600,
            "nbf": 1_700_000_000,
            "imp": "99",
        }
    )
    decoded = decode_token(token)
    assert decoded.usr == "jane"
    assert decoded.cid == "client-id"
    assert decoded.u == "42"
    assert decoded.usrtype == "buyer"
    assert decoded.role == ["Shopper", "MeAdmin"]
    assert decoded.iss == "https://auth.ordercloud.io"
    assert decoded.aud == "https://api.ordercloud.io"
    assert decoded.exp == 1_700_000_600
    assert decoded.nbf == 1_700_000_000
    assert decoded.expires_at == datetime(2023, 11, 14, 22, 23, 20, tzinfo=timezone.utc)
    assert decoded.not_before == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert decoded.imp == "99"
    assert decoded.orderid is None
    assert decoded.is_anonymous is False
    assert decoded.header["kid"] == "k1"


def test_decode_token_single_role_string_becomes_a_list() -> None:
    assert decode_token(make_jwt(role="Shopper")).role == ["Shopper"]
    assert decode_token(make_jwt(role=[])).role == []


def test_decode_token_without_role_or_times() -> None:
    decoded = decode_token(make_jwt(role=None, exp=None, nbf=None))
    assert decoded.role == []
    assert decoded.expires_at is None
    assert decoded.not_before is None


def test_decode_token_anonymous_when_orderid_present() -> None:
    decoded = decode_token(make_jwt(orderid="anon-order-1"))
    assert decoded.is_anonymous is True
    assert decoded.orderid == "anon-order-1"


def test_decode_token_keeps_every_other_claim() -> None:
    decoded = decode_token(make_jwt(anonuserid="beacon-1", custom={"a": [1, 2]}))
    assert decoded.get("anonuserid") == "beacon-1"
    assert decoded["custom"] == {"a": [1, 2]}
    assert decoded.claims["anonuserid"] == "beacon-1"
    assert decoded.get("absent", "fallback") == "fallback"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "SENSITIVE-opaque-token",
        "SENSITIVE.only-two",
        "SENSITIVE.a.b.c",
        "!!SENSITIVE!!.@@@.sig",
        f"{_b64(b'{}')}.{_b64(b'SENSITIVE not json')}.sig",
        f"{_b64(b'{}')}.{_b64(b'[1, 2]')}.SENSITIVE",
        f"{_b64(b'[]')}.{_b64(b'{}')}.SENSITIVE",
        f".{_b64(b'{}')}.SENSITIVE",
        f"{_b64(b'{}')}.{_b64(bytes([0xFF, 0xFE]))}.SENSITIVE",
        "ünïcode.SENSITIVE.sig",
    ],
)
def test_decode_token_malformed_raises_value_error_without_echoing(token: str) -> None:
    with pytest.raises(ValueError, match="Malformed token") as excinfo:
        decode_token(token)
    assert "SENSITIVE" not in str(excinfo.value)
    assert "SENSITIVE" not in repr(excinfo.value)


def test_decode_token_rejects_non_strings() -> None:
    bad: Any = b"a.b.c"
    with pytest.raises(ValueError, match="Malformed token"):
        decode_token(bad)


def test_decode_token_is_not_used_for_opaque_tokens() -> None:
    # An opaque (non-JWT) token from a server still works: the cache uses expires_in, never the claims.
    server = Server(token_prefix="opaque-")
    client = sync_client(server)
    client.tracking_events.get("te1")
    assert bearer(server.api_requests[0]) == "opaque-1"


def test_token_json_helper_shape() -> None:
    # Guards the helper the tests above rely on: a token response as the reference describes it.
    assert token_json("a", expires_in=5, refresh_token="r") == {
        "access_token": "a",
        "token_type": "bearer",
        "expires_in": 5,
        "refresh_token": "r",
    }
    assert API.endswith("/v1")
