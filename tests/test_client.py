"""Cross-cutting client behaviour: construction, URLs, options, copies, lifetime, per-call options."""

from __future__ import annotations

import attrs
import httpx
import pytest

from ordercloud_tracking import (
    AnonymousGrant,
    APIError,
    AsyncOrderCloud,
    ClientCredentials,
    InternalServerError,
    MissingCredentialsError,
    OrderCloud,
    PasswordGrant,
    RetryPolicy,
    StaticToken,
)
from ordercloud_tracking._options import ClientOptions
from ordercloud_tracking._version import __version__
from tests.client_support import (
    API,
    BASE_URL,
    MODES,
    Mode,
    Server,
    Sleeps,
    bearer,
    make_client,
    resolve,
    retry_policy,
)

REGION_TABLE = {
    ("us-west", "production"): "https://api.ordercloud.io",
    ("us-west", "staging"): "https://stagingapi.ordercloud.io",
    ("us-west", "sandbox"): "https://sandboxapi.ordercloud.io",
    ("us-east", "production"): "https://useast-production.ordercloud.io",
    ("us-east", "staging"): "https://useast-staging.ordercloud.io",
    ("us-east", "sandbox"): "https://useast-sandbox.ordercloud.io",
    ("australia-east", "production"): "https://australiaeast-production.ordercloud.io",
    ("australia-east", "staging"): "https://australiaeast-staging.ordercloud.io",
    ("australia-east", "sandbox"): "https://australiaeast-sandbox.ordercloud.io",
    ("europe-west", "production"): "https://westeurope-production.ordercloud.io",
    ("europe-west", "staging"): "https://westeurope-staging.ordercloud.io",
    ("europe-west", "sandbox"): "https://westeurope-sandbox.ordercloud.io",
    ("japan-east", "production"): "https://japaneast-production.ordercloud.io",
    ("japan-east", "staging"): "https://japaneast-staging.ordercloud.io",
    ("japan-east", "sandbox"): "https://japaneast-sandbox.ordercloud.io",
}


# ------------------------------------------------------------------------------ environments & regions


@pytest.mark.parametrize(("region", "environment"), sorted(REGION_TABLE))
@pytest.mark.parametrize("mode", MODES)
async def test_every_region_and_environment_sends_to_its_base_url(mode: Mode, region: str, environment: str) -> None:
    server = Server()
    client = make_client(mode, server, environment=environment, region=region, base_url=None)
    base = REGION_TABLE[(region, environment)]
    assert client.options.base_url == base
    assert client.options.auth_url == f"{base}/oauth/token"

    await resolve(client.tracking_events.get("te1"))

    token_request, api_request = server.requests
    assert str(token_request.url) == f"{base}/oauth/token"
    assert str(api_request.url) == f"{base}/v1/integrations/trackingEvents/te1"


def test_default_is_production_us_west() -> None:
    client = OrderCloud("client-id", "client-secret")
    try:
        assert client.options.base_url == "https://api.ordercloud.io"
        assert client.options.auth_url == "https://api.ordercloud.io/oauth/token"
    finally:
        client.close()


@pytest.mark.parametrize("cls", [OrderCloud, AsyncOrderCloud])
def test_unknown_region_names_the_valid_regions(cls: type[OrderCloud] | type[AsyncOrderCloud]) -> None:
    with pytest.raises(ValueError, match="mars-north") as excinfo:
        cls("client-id", "client-secret", region="mars-north")
    for region in ("us-west", "us-east", "australia-east", "europe-west", "japan-east"):
        assert region in str(excinfo.value)


@pytest.mark.parametrize("cls", [OrderCloud, AsyncOrderCloud])
def test_unknown_environment_names_the_valid_environments(cls: type[OrderCloud] | type[AsyncOrderCloud]) -> None:
    with pytest.raises(ValueError, match="qa") as excinfo:
        cls("client-id", "client-secret", environment="qa")
    for environment in ("production", "staging", "sandbox"):
        assert environment in str(excinfo.value)


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://oc.example.com", "https://oc.example.com"),
        ("https://oc.example.com/", "https://oc.example.com"),
        ("https://oc.example.com/v1", "https://oc.example.com"),
        (httpx.URL("http://127.0.0.1:8080/"), "http://127.0.0.1:8080"),
    ],
)
def test_explicit_base_url_wins_over_environment_and_region(base_url: str | httpx.URL, expected: str) -> None:
    server = Server()
    client = make_client("sync", server, base_url=base_url, environment="sandbox", region="japan-east")
    assert isinstance(client, OrderCloud)
    assert client.options.base_url == expected
    assert client.options.auth_url == f"{expected}/oauth/token"
    client.tracking_events.get("te1")
    assert [str(r.url) for r in server.requests] == [
        f"{expected}/oauth/token",
        f"{expected}/v1/integrations/trackingEvents/te1",
    ]


def test_base_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        OrderCloud("client-id", "client-secret", base_url="ftp://oc.example.com")


@pytest.mark.parametrize(
    "auth_url", ["https://auth.ordercloud.io", "https://auth.ordercloud.io/", "https://auth.ordercloud.io/oauth/token"]
)
@pytest.mark.parametrize("mode", MODES)
async def test_auth_url_moves_only_the_token_endpoint(mode: Mode, auth_url: str) -> None:
    server = Server()
    client = make_client(mode, server, auth_url=auth_url)
    assert client.options.auth_url == "https://auth.ordercloud.io/oauth/token"

    await resolve(client.tracking_events.get("te1"))

    assert [str(r.url) for r in server.requests] == [
        "https://auth.ordercloud.io/oauth/token",
        f"{API}/integrations/trackingEvents/te1",
    ]


# ------------------------------------------------------------------------------------ construction


def test_client_id_and_secret_make_a_client_credentials_grant_with_the_scopes() -> None:
    client = OrderCloud("client-id", "client-secret", scopes=["TrackingEventAdmin", "DeliveryConfigAdmin"])
    try:
        assert client.options.grant == ClientCredentials(
            "client-id", "client-secret", scopes=("TrackingEventAdmin", "DeliveryConfigAdmin")
        )
        assert client.options.client_id == "client-id"
    finally:
        client.close()


def test_client_id_must_match_the_grant() -> None:
    with pytest.raises(ValueError, match="client_id"):
        OrderCloud("other-client", grant=PasswordGrant("client-id", "jane", "pw"))


def test_http_client_of_the_wrong_kind_is_refused() -> None:
    async_http = httpx.AsyncClient()
    sync_http = httpx.Client()
    try:
        with pytest.raises(TypeError, match="AsyncOrderCloud"):
            OrderCloud("client-id", "client-secret", http_client=async_http)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="OrderCloud"):
            AsyncOrderCloud("client-id", "client-secret", http_client=sync_http)  # type: ignore[arg-type]
    finally:
        sync_http.close()


@pytest.mark.parametrize("mode", MODES)
async def test_client_without_credentials_raises_before_sending(mode: Mode) -> None:
    server = Server()
    client = make_client(mode, server, client_id="client-id")
    with pytest.raises(MissingCredentialsError, match="credentials") as raised:
        await resolve(client.tracking_events.get("te1"))
    assert server.requests == []
    # A client state, not an HTTP answer: no status code is claimed.
    assert not isinstance(raised.value, APIError)
    assert not hasattr(raised.value, "status_code")
    assert raised.value.url == "https://api.test/v1/integrations/trackingEvents/te1"
    with pytest.raises(MissingCredentialsError):
        await resolve(client.get_access_token())


@pytest.mark.parametrize("mode", MODES)
async def test_two_clients_with_the_same_grant_do_not_share_tokens(mode: Mode) -> None:
    server = Server()
    grant = ClientCredentials("client-id", "client-secret")
    first = make_client(mode, server, grant=grant)
    second = make_client(mode, server, grant=grant)

    await resolve(first.tracking_events.get("te1"))
    await resolve(second.tracking_events.get("te1"))

    assert len(server.token_requests) == 2
    assert [bearer(r) for r in server.api_requests] == ["tok-1", "tok-2"]


# ----------------------------------------------------------------------------------- with_options


@pytest.mark.parametrize("mode", MODES)
async def test_with_options_shares_the_pool_and_the_token_cache(mode: Mode) -> None:
    server = Server()
    client = make_client(mode, server)
    copy = client.with_options(timeout=5.0, max_retries=0, headers={"X-Trace": "abc"})

    assert copy is not client
    assert copy._http is client._http
    assert copy.token_cache is client.token_cache
    assert copy.options.retry_policy.max_retries == 0
    assert client.options.retry_policy.max_retries == 2

    await resolve(client.tracking_events.get("te1"))
    await resolve(copy.tracking_events.get("te1"))

    assert len(server.token_requests) == 1, "the copy reuses the original's token"
    original, copied = server.api_requests
    assert bearer(original) == bearer(copied) == "tok-1"
    assert copied.headers["X-Trace"] == "abc"
    assert "X-Trace" not in original.headers
    assert copied.extensions["timeout"] == httpx.Timeout(5.0).as_dict()
    assert original.extensions["timeout"] == httpx.Timeout(30.0).as_dict()


@pytest.mark.parametrize("mode", MODES)
async def test_with_options_same_grant_shares_the_cache(mode: Mode) -> None:
    server = Server()
    grant = ClientCredentials("client-id", "client-secret")
    client = make_client(mode, server, grant=grant)
    copy = client.with_options(grant=ClientCredentials("client-id", "client-secret"))
    assert copy.token_cache is client.token_cache


@pytest.mark.parametrize("mode", MODES)
async def test_with_options_new_grant_gets_its_own_token_cache(mode: Mode) -> None:
    server = Server()
    client = make_client(mode, server)
    shopper = client.with_options(grant=PasswordGrant("client-id", "jane", "pw", scopes=("Shopper",)))

    assert shopper.token_cache is not client.token_cache
    assert shopper._http is client._http

    await resolve(client.tracking_events.get("te1"))
    await resolve(shopper.tracking_events.get("te1"))

    assert [r.url.path for r in server.token_requests] == ["/oauth/token", "/oauth/token"]
    assert [bearer(r) for r in server.api_requests] == ["tok-1", "tok-2"]
    assert shopper.options.client_id == "client-id"


@pytest.mark.parametrize("mode", MODES)
async def test_with_options_access_token_acts_as_that_user(mode: Mode) -> None:
    server = Server()
    client = make_client(mode, server)
    as_user = client.with_options(access_token="user-token")

    assert isinstance(as_user.options.grant, StaticToken)
    assert as_user.token_cache is not client.token_cache

    await resolve(as_user.tracking_events.get("te1"))
    assert server.token_requests == []
    await resolve(client.tracking_events.get("te1"))

    assert [bearer(r) for r in server.api_requests] == ["user-token", "tok-1"]


@pytest.mark.parametrize("mode", MODES)
async def test_a_client_is_built_from_frozen_options_that_with_options_evolves(mode: Mode) -> None:
    client = make_client(mode, Server(), default_headers={"X-App": "shop"})
    options = client.options
    assert isinstance(options, ClientOptions)
    assert (options.base_url, options.auth_url, options.client_id) == (BASE_URL, f"{BASE_URL}/oauth/token", "client-id")
    assert options.headers["X-App"] == "shop"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        options.timeout = 1.0  # type: ignore[misc]  # frozen: the point of the test
    with pytest.raises(TypeError):
        options.headers["X-App"] = "other"  # type: ignore[index]  # read-only mapping: the point of the test

    copy = client.with_options(timeout=5.0, headers={"X-Trace": "t"})
    assert copy.options == attrs.evolve(options, timeout=5.0, headers={**options.headers, "X-Trace": "t"})
    assert client.options is options  # the original is untouched
    assert copy.options.timeout == 5.0
    assert client.options.timeout == 30.0


@pytest.mark.parametrize("mode", MODES)
async def test_new_token_cache_and_with_options_token_cache_act_through_a_private_cache(mode: Mode) -> None:
    server = Server()
    client = make_client(mode, server)
    grant = PasswordGrant("client-id", "jane", "pw", scopes=("Shopper",))
    private = client.new_token_cache(grant)
    shared = client.with_options(grant=grant)

    assert private is not shared.token_cache  # nobody else gets this cache
    assert private.grant == grant
    assert private.token_url == client.options.auth_url

    session = client.with_options(token_cache=private)
    assert session.token_cache is private
    assert session.options.grant == grant
    assert session.options.client_id == "client-id"
    assert session._http is client._http
    await resolve(session.tracking_events.get("te1"))
    assert private.access_token == "tok-1"
    assert shared.token_cache is not None
    assert shared.token_cache.access_token is None  # the shared cache for the same grant was not used

    # A copy of the session keeps the private cache.
    assert session.with_options(timeout=1.0).token_cache is private


def test_owns_http_client_hands_a_passed_in_pool_over() -> None:
    server = Server()
    http = httpx.Client(transport=httpx.MockTransport(server))
    with OrderCloud("client-id", "client-secret", base_url=BASE_URL, http_client=http, owns_http_client=True) as client:
        copy = client.with_options(timeout=1.0)
        copy.close()  # a copy never closes the pool
        assert not http.is_closed
    assert http.is_closed


async def test_async_owns_http_client_hands_a_passed_in_pool_over() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(Server()))
    async with AsyncOrderCloud(
        "client-id", "client-secret", base_url=BASE_URL, http_client=http, owns_http_client=True
    ):
        assert not http.is_closed
    assert http.is_closed


# ------------------------------------------------------------------------------------ lifetime


def test_close_closes_an_owned_pool() -> None:
    client = OrderCloud("client-id", "client-secret")
    client.close()
    assert client._http.is_closed


async def test_async_close_closes_an_owned_pool() -> None:
    client = AsyncOrderCloud("client-id", "client-secret")
    await client.close()
    assert client._http.is_closed


def test_context_manager_closes_an_owned_pool() -> None:
    with OrderCloud("client-id", "client-secret") as client:
        assert not client._http.is_closed
    assert client._http.is_closed


async def test_async_context_manager_closes_an_owned_pool() -> None:
    async with AsyncOrderCloud("client-id", "client-secret") as client:
        assert not client._http.is_closed
    assert client._http.is_closed


def test_a_passed_in_http_client_is_never_closed() -> None:
    server = Server()
    http = httpx.Client(transport=httpx.MockTransport(server))
    with OrderCloud("client-id", "client-secret", base_url=BASE_URL, http_client=http) as client:
        client.tracking_events.get("te1")
        client.close()
    assert not http.is_closed
    assert http.get(f"{API}/integrations/trackingEvents/te1").status_code == 200
    http.close()


async def test_a_passed_in_async_http_client_is_never_closed() -> None:
    server = Server()
    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    async with AsyncOrderCloud("client-id", "client-secret", base_url=BASE_URL, http_client=http) as client:
        await client.tracking_events.get("te1")
        await client.aclose()
    assert not http.is_closed
    assert (await http.get(f"{API}/integrations/trackingEvents/te1")).status_code == 200
    await http.aclose()


@pytest.mark.parametrize("mode", MODES)
async def test_closing_a_copy_leaves_the_shared_pool_open(mode: Mode) -> None:
    http: httpx.Client | httpx.AsyncClient
    client: OrderCloud | AsyncOrderCloud
    if mode == "sync":
        client = OrderCloud("client-id", "client-secret", base_url=BASE_URL)
    else:
        client = AsyncOrderCloud("client-id", "client-secret", base_url=BASE_URL)
    http = client._http
    copy = client.with_options(timeout=1.0)
    await resolve(copy.close())
    assert not http.is_closed
    await resolve(client.close())
    assert http.is_closed


# --------------------------------------------------------------------------------- per-call options


@pytest.mark.parametrize("mode", MODES)
async def test_per_call_timeout_applies_to_that_call_only(mode: Mode) -> None:
    server = Server()
    client = make_client(mode, server, timeout=12.0)

    await resolve(client.tracking_events.get("te1", timeout=2.5))
    await resolve(client.tracking_events.get("te1"))
    await resolve(client.tracking_events.get("te1", timeout=None))

    timeouts = [r.extensions["timeout"] for r in server.api_requests]
    assert timeouts == [
        httpx.Timeout(2.5).as_dict(),
        httpx.Timeout(12.0).as_dict(),
        httpx.Timeout(None).as_dict(),
    ]


@pytest.mark.parametrize("mode", MODES)
async def test_per_call_access_token_is_sent_without_a_token_request(mode: Mode) -> None:
    server = Server()
    client = make_client(mode, server)

    await resolve(client.tracking_events.get("te1", access_token="other-user-token"))

    assert server.token_requests == []
    assert [bearer(r) for r in server.api_requests] == ["other-user-token"]

    await resolve(client.tracking_events.get("te1"))
    assert [bearer(r) for r in server.api_requests] == ["other-user-token", "tok-1"]


@pytest.mark.parametrize("mode", MODES)
async def test_per_call_access_token_works_without_client_credentials(mode: Mode) -> None:
    server = Server()
    client = make_client(mode, server, client_id="client-id")
    await resolve(client.tracking_events.get("te1", access_token="shopper-token"))
    assert [bearer(r) for r in server.requests] == ["shopper-token"]


@pytest.mark.parametrize("mode", MODES)
async def test_requests_carry_the_sdk_user_agent_and_json_accept(mode: Mode) -> None:
    server = Server()
    client = make_client(mode, server, default_headers={"X-Tenant": "t1"})

    await resolve(client.tracking_events.get("te1"))

    (request,) = server.api_requests
    assert request.headers["User-Agent"] == f"ordercloud-tracking-python/{__version__}"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["X-Tenant"] == "t1"


@pytest.mark.parametrize("mode", MODES)
async def test_get_access_token_fetches_once_and_reuses(mode: Mode) -> None:
    server = Server()
    client = make_client(mode, server, grant=AnonymousGrant("client-id"))
    assert await resolve(client.get_access_token()) == "tok-1"
    assert await resolve(client.get_access_token()) == "tok-1"
    assert len(server.token_requests) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_constructor_max_retries_is_used(mode: Mode) -> None:
    sleeps = Sleeps()
    server = Server(default=lambda request: httpx.Response(503))
    client = make_client(mode, server, policy=retry_policy(sleeps), max_retries=4)
    assert client.options.retry_policy.max_retries == 4
    with pytest.raises(InternalServerError):
        await resolve(client.tracking_events.get("te1"))
    assert len(server.api_requests) == 5
    assert len(sleeps.calls) == 4


# ----------------------------------------------------------------------- over a real loopback socket


def test_first_call_fetches_a_token_over_real_http() -> None:
    """A token fetched inside the auth flow has a streamed body that must be read (httpx skips it)."""
    from ordercloud_tracking.testing import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, FakeOrderCloud

    with (
        FakeOrderCloud().serve() as server,
        OrderCloud(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, base_url=server.url) as client,
    ):
        assert client.tracking_events.list().meta.total_count == 0
        assert client.api_clients.get("storefront").is_anon_buyer is True


async def test_first_async_call_fetches_a_token_over_real_http() -> None:
    from ordercloud_tracking.testing import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, FakeOrderCloud

    with FakeOrderCloud().serve() as server:
        async with AsyncOrderCloud(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, base_url=server.url) as client:
            page = await client.tracking_events.list()
            assert page.meta.total_count == 0


def test_max_retries_defaults_to_2_or_the_policy_and_an_explicit_value_wins() -> None:
    policy = RetryPolicy(max_retries=5)
    assert OrderCloud(grant=StaticToken("t")).options.retry_policy.max_retries == 2
    assert OrderCloud(grant=StaticToken("t"), retry_policy=policy).options.retry_policy.max_retries == 5
    assert OrderCloud(grant=StaticToken("t"), retry_policy=policy, max_retries=2).options.retry_policy.max_retries == 2
    assert AsyncOrderCloud(grant=StaticToken("t"), max_retries=0).options.retry_policy.max_retries == 0
