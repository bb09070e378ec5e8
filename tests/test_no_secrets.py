"""No client secret, password, token or write-only delivery secret ever shows up in logs (DEBUG on for
httpx, httpcore and this package), nor in ``repr()`` of clients, grants, token caches, models and errors,
nor in ``str()`` of errors."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from ordercloud_tracking import (
    AnonymousGrant,
    APIConnectionError,
    APIError,
    ClientCredentials,
    DeliveryConfig,
    DeliveryTargets,
    OrderCloud,
    OrderCloudError,
    PasswordGrant,
    StaticToken,
    TokenError,
)
from ordercloud_tracking._requests import RequestSpec
from ordercloud_tracking.models.delivery import (
    DeliveryConfigPatch,
    DiscoverEventConfig,
    HttpConfig,
    KafkaConfig,
)
from tests.client_support import (
    MODES,
    TE_JSON,
    FakeClock,
    Mode,
    Server,
    Sleeps,
    make_client,
    resolve,
    retry_policy,
)
from tests.conftest import make_jwt

CLIENT_SECRET = "cs-7f3a9e1d-client-secret"
PASSWORD = "pw-hunter2-b81c"
REFRESH_TOKEN = "rt-0d5c-refresh-token"
ANON_TOKEN = make_jwt({"orderid": "anon-order"}, usr="anon-7731e")
USER_TOKEN = "ut-5a5a-user-access-token"
STATIC_TOKEN = "st-1b2b-static-token"
HTTP_SECRET = "hs-91ff-http-secret"
DISCOVER_KEY = "dk-3e3e-discover-key"
HEADER_VALUE = "hv-6c6c-header-value"
SASL_PASSWORD = "sp-2d2d-sasl-password"
TOKEN_PREFIX = "at-8e8e-access-token-"  # every token the fake server issues starts with this

SECRETS = [
    CLIENT_SECRET,
    PASSWORD,
    REFRESH_TOKEN,
    ANON_TOKEN,
    USER_TOKEN,
    STATIC_TOKEN,
    HTTP_SECRET,
    DISCOVER_KEY,
    HEADER_VALUE,
    SASL_PASSWORD,
    TOKEN_PREFIX,
]


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in ("httpx", "httpcore", "ordercloud_tracking"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into {where}: {text!r}"


def assert_logs_clean(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records, "the flows should have logged something"
    assert_clean(caplog.text, "the log text")
    for record in caplog.records:
        assert_clean(record.getMessage(), f"a {record.name} log message")
        assert_clean(repr(record.args), f"the args of a {record.name} log record")


def secret_config() -> DeliveryConfig:
    return DeliveryConfig(
        id="dc1",
        name="All the secrets",
        delivery_targets=DeliveryTargets(
            http=HttpConfig(
                endpoint="https://hooks.example.com/oc",
                secret=SecretStr(HTTP_SECRET),
                custom_auth_header_name="X-Auth",
                custom_auth_header_value=SecretStr(HEADER_VALUE),
            ),
            discover_event=DiscoverEventConfig(
                client_id="ck-1", api_key=SecretStr(DISCOVER_KEY), service_endpoint="https://discover.example"
            ),
            kafka=KafkaConfig(
                bootstrap_servers="kafka:9092", sasl_username="oc", sasl_password=SecretStr(SASL_PASSWORD), topic="t"
            ),
        ),
    )


async def capture(call: Callable[[], Any]) -> OrderCloudError:
    """The error a sync or async call raises."""
    with pytest.raises(OrderCloudError) as excinfo:
        await resolve(call())
    return excinfo.value


@pytest.mark.parametrize("mode", MODES)
async def test_flows_with_every_kind_of_secret_leave_no_trace(mode: Mode, debug_logs: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    errors: list[OrderCloudError] = []
    objects: list[Any] = []

    # 1. Client credentials: a token, a 401 replay with a new token, a retried 503.
    server = Server(token_prefix=TOKEN_PREFIX).reply(httpx.Response(401), httpx.Response(503))
    admin = make_client(mode, server, grant=ClientCredentials("client-id", CLIENT_SECRET), clock=clock)
    await resolve(admin.tracking_events.get("te1"))
    objects += [admin, admin.token_cache, admin._auth, admin.options.grant]

    # 2. Password grant with a refresh token; the refresh is refused and the password is sent again.
    server = Server(token_prefix=TOKEN_PREFIX, refresh_token=REFRESH_TOKEN, expires_in=600)
    refused = httpx.Response(400, json={"error": "invalid_grant", "error_description": "Refresh token expired"})
    server.token_replies.extend([server.mint, refused, server.mint])
    grant = PasswordGrant("client-id", "jane", PASSWORD, client_secret=CLIENT_SECRET, scopes=("Shopper",))
    shopper = make_client(mode, server, grant=grant, clock=clock)
    await resolve(shopper.tracking_events.get("te1"))
    clock.advance(601)
    await resolve(shopper.tracking_events.get("te1"))
    assert len(server.token_requests) == 3
    objects += [shopper, shopper.token_cache, grant]

    # 3. A refused password.
    server = Server(token_prefix=TOKEN_PREFIX)
    server.token_replies.append(
        httpx.Response(
            400,
            json={
                "error": "invalid_grant",
                "error_description": "Invalid username or password",
                "Errors": [{"ErrorCode": "Auth.InvalidUsernameOrPassword", "Message": "Invalid username or password"}],
            },
        )
    )
    wrong = make_client(mode, server, grant=PasswordGrant("client-id", "jane", PASSWORD))
    token_error = await capture(lambda: wrong.tracking_events.get("te1"))
    assert isinstance(token_error, TokenError)
    errors.append(token_error)

    # 4. An anonymous shopper whose token travels in a query parameter (anonUserToken).
    server = Server(token_prefix=TOKEN_PREFIX).reply(
        httpx.Response(503),  # retried: the retry is logged
        httpx.Response(204),
        httpx.Response(403, json={"Errors": [{"ErrorCode": "Auth.AnonUserProhibited", "Message": "No"}]}),
        httpx.ConnectError,
        httpx.ConnectError,
        httpx.ConnectError,
    )
    anon_grant = AnonymousGrant("client-id", anon_user_id="beacon-1")
    anon = make_client(mode, server, grant=anon_grant)
    transfer = RequestSpec("PUT", "me/orders", params=[("anonUserToken", ANON_TOKEN)])
    await resolve(anon._send(transfer))
    errors.append(await capture(lambda: anon._send(transfer)))
    errors.append(await capture(lambda: anon._send(transfer)))
    assert isinstance(errors[-2], APIError)
    assert isinstance(errors[-1], APIConnectionError)
    assert server.api_requests[0].url.params["anonUserToken"] == ANON_TOKEN  # it was really sent
    objects += [anon, anon.token_cache, anon_grant, transfer]

    # 5. Acting as another user: per call, and through with_options.
    server = Server(token_prefix=TOKEN_PREFIX).reply(httpx.Response(401))
    as_user = make_client(mode, server).with_options(access_token=USER_TOKEN)
    errors.append(await capture(lambda: as_user.tracking_events.get("te1")))
    per_call = RequestSpec("GET", "integrations/trackingEvents", access_token=USER_TOKEN)
    await resolve(as_user._send(per_call))
    static = make_client(mode, server, grant=StaticToken(STATIC_TOKEN))
    await resolve(static.tracking_events.get("te1"))
    objects += [
        as_user,
        as_user.token_cache,
        as_user.options.grant,
        per_call,
        static,
        static.options.grant,
        static.token_cache,
    ]

    # 6. Write-only delivery secrets: sent on create and save, and in a patch.
    server = Server(token_prefix=TOKEN_PREFIX, default=lambda request: httpx.Response(200, json=TE_JSON))
    dc_json = {"ID": "dc1", "Name": "n", "DeliveryTargets": {"Http": {"Endpoint": "https://hooks.example.com/oc"}}}
    server.reply(
        httpx.Response(201, json=dc_json), httpx.Response(200, json=dc_json), httpx.Response(200, json=dc_json)
    )
    configs = make_client(mode, server)
    config = secret_config()
    patch = DeliveryConfigPatch(
        delivery_targets={"Http": {"Secret": HTTP_SECRET}, "Kafka": {"SaslPassword": SASL_PASSWORD}}
    )
    await resolve(configs.delivery_configs.create(config))
    await resolve(configs.delivery_configs.save("dc1", config))
    await resolve(configs.delivery_configs.patch("dc1", patch))
    sent = b"".join(r.content for r in server.api_requests).decode()
    for secret in (HTTP_SECRET, DISCOVER_KEY, HEADER_VALUE, SASL_PASSWORD):
        assert secret in sent  # the request bodies carry them...
    objects += [config, config.delivery_targets, config.delivery_targets.http, patch]

    # ...and nothing else does.
    assert_logs_clean(debug_logs)
    for obj in objects:
        assert_clean(repr(obj), f"repr of {type(obj).__name__}")
        assert_clean(str(obj), f"str of {type(obj).__name__}")
    for error in errors:
        assert_clean(repr(error), f"repr of {type(error).__name__}")
        assert_clean(str(error), f"str of {type(error).__name__}")
        assert_clean(repr(getattr(error, "url", "")), f"url of {type(error).__name__}")


def exception_graph(root: BaseException) -> list[object]:
    """Everything reachable from an error through its chain (``__cause__``, ``__context__``), its args
    and its attributes, recursively — all but the traceback's frames."""
    seen: set[int] = set()
    found: list[object] = []
    stack: list[object] = [root]
    while stack:
        obj = stack.pop()
        if obj is None or id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool, type)):
            if isinstance(obj, (str, bytes)):
                found.append(obj)
            continue
        seen.add(id(obj))
        found.append(obj)
        if isinstance(obj, BaseException):
            stack += [obj.__cause__, obj.__context__, *obj.args]
        if isinstance(obj, dict):
            stack += [*obj.keys(), *obj.values()]
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack += list(obj)
        elif (hasattr(obj, "__dict__") and not callable(obj)) or isinstance(obj, BaseException):
            stack += list(vars(obj).values())
    return found


def assert_error_clean(error: BaseException) -> None:
    graph = exception_graph(error)
    carriers = [type(obj).__name__ for obj in graph if isinstance(obj, (httpx.Request, httpx.Response))]
    assert not carriers, f"{type(error).__name__} keeps {carriers} (they hold the credentials sent)"
    for obj in graph:
        assert_clean(obj.decode("latin-1") if isinstance(obj, bytes) else repr(obj), f"the graph of {error!r}")
    assert_clean(pickle.dumps(error).decode("latin-1"), f"the pickle of {error!r}")


@pytest.mark.parametrize("mode", MODES)
async def test_errors_carry_no_credentials_through_their_chain_or_pickle(mode: Mode) -> None:
    no_retries = retry_policy(Sleeps(), max_retries=0)
    errors: list[OrderCloudError] = []

    # The token request fails in transit: its form body holds client_secret=.
    server = Server()
    server.token_replies.append(httpx.ConnectError)
    client = make_client(mode, server, grant=ClientCredentials("client-id", CLIENT_SECRET), policy=no_retries)
    errors.append(await capture(lambda: client.tracking_events.get("te1")))
    # A password grant whose token answer is cut short: the text holds the access token.
    server = Server()
    server.token_replies.append(httpx.Response(200, content=b'{"access_token": "' + TOKEN_PREFIX.encode() + b'1", '))
    password = make_client(mode, server, grant=PasswordGrant("client-id", "jane", PASSWORD), policy=no_retries)
    errors.append(await capture(lambda: password.tracking_events.get("te1")))
    # The anonymous token in the URL, and a per-call token in the Authorization header, then a timeout.
    server = Server().reply(httpx.ReadTimeout, httpx.ReadTimeout, httpx.RemoteProtocolError)
    anon = make_client(mode, server, grant=StaticToken(STATIC_TOKEN), policy=no_retries)
    transfer = RequestSpec("PUT", "me/orders", params=[("anonUserToken", ANON_TOKEN)])
    errors.append(await capture(lambda: anon._send(transfer)))
    errors.append(await capture(lambda: anon.tracking_events.get("te1", access_token=USER_TOKEN)))
    errors.append(await capture(lambda: anon.tracking_events.list()))
    # A 2xx body that does not fit, carrying a write-only secret.
    body = {"ID": "dc1", "Name": [], "DeliveryTargets": {"Http": {"Endpoint": 1, "Secret": HTTP_SECRET}}}
    server = Server().reply(httpx.Response(200, json=body))
    configs = make_client(mode, server, grant=StaticToken(STATIC_TOKEN), policy=no_retries)
    errors.append(await capture(lambda: configs.delivery_configs.get("dc1")))

    assert [type(error).__name__ for error in errors] == [
        "APIConnectionError",
        "TokenError",
        "APITimeoutError",
        "APITimeoutError",
        "APIConnectionError",
        "ResponseValidationError",
    ]
    for error in errors:
        assert_error_clean(error)
    # The httpx failure is still named in the chain, detached from its request.
    assert type(errors[0].__cause__) is httpx.ConnectError
    assert type(errors[2].__cause__) is httpx.ReadTimeout


def test_grant_reprs_hide_credentials() -> None:
    grants: list[Any] = [
        ClientCredentials("client-id", CLIENT_SECRET),
        PasswordGrant("client-id", "jane", PASSWORD, client_secret=CLIENT_SECRET),
        AnonymousGrant("client-id", anon_user_id="beacon"),
        StaticToken(STATIC_TOKEN),
    ]
    for grant in grants:
        assert_clean(repr(grant), type(grant).__name__)
        assert "client-id" in repr(grant) or isinstance(grant, StaticToken)


def test_model_dumps_mask_secrets_unless_writing_a_request() -> None:
    config = secret_config()
    assert_clean(config.model_dump_json(), "model_dump_json")
    assert_clean(repr(config.model_dump()), "model_dump")
    assert HTTP_SECRET in config.to_request_json().decode()


def test_errors_built_from_a_token_url_are_redacted() -> None:
    error = APIError(
        "Forbidden",
        status_code=403,
        method="PUT",
        url=f"https://api.test/v1/me/orders?anonUserToken={ANON_TOKEN}&access_token={USER_TOKEN}",
    )
    assert_clean(str(error), "str")
    assert_clean(repr(error), "repr")
    assert_clean(error.url or "", "url")
    connection = APIConnectionError(method="GET", url=f"https://api.test/v1/me?token={USER_TOKEN}")
    assert_clean(str(connection), "str")


def test_no_secret_in_debug_logs_over_a_real_socket(caplog: pytest.LogCaptureFixture) -> None:
    """The same, with httpcore really connecting (its DEBUG log only runs on real transports)."""
    from ordercloud_tracking.identity import ShopperSession
    from ordercloud_tracking.models.commerce import LineItem
    from ordercloud_tracking.testing import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, STOREFRONT_CLIENT_ID, FakeOrderCloud

    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "ordercloud_tracking"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    fake = FakeOrderCloud()
    with fake.serve() as server, OrderCloud(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, base_url=server.url) as admin:
        admin.delivery_configs.save(
            "dc-1", {"Name": "n", "DeliveryTargets": {"Http": {"Endpoint": "https://h.example", "Secret": HTTP_SECRET}}}
        )
        session = ShopperSession.start(admin, client_id=STOREFRONT_CLIENT_ID, anon_user_id="beacon-real")
        session.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=1))
        anon_token = session.client.get_access_token()
        session.login("jane", "jane-password")
        user_token = session.client.get_access_token()
        stored = session.dumps()
    assert "httpcore" in caplog.text  # the transport really logged
    assert "/v1/me/orders" in caplog.text
    for secret in (ADMIN_CLIENT_SECRET, HTTP_SECRET, "jane-password", anon_token, user_token, stored):
        assert secret not in caplog.text
