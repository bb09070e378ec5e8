"""ShopperSession / AsyncShopperSession: anonymous → login → transfer → submit, against a scripted API."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs

import httpx
import pytest
from pytest_httpx import HTTPXMock

from ordercloud_tracking import (
    AnonymousTransferError,
    AsyncOrderCloud,
    MissingCredentialsError,
    OrderCloud,
    RetryPolicy,
    TokenError,
    decode_token,
)
from ordercloud_tracking.identity import AsyncShopperSession, ShopperSession
from ordercloud_tracking.messages import session_identified
from ordercloud_tracking.models.commerce import LineItem, MeUser
from ordercloud_tracking.stores import IdentityLinks, MemoryIdentityLinks, SQLiteIdentityLinks
from ordercloud_tracking.testing import STOREFRONT_CLIENT_ID, FakeOrderCloud

from .conftest import make_jwt

BASE = "https://api.test"
CLIENT_ID = "storefront-client"
T = TypeVar("T")


class Stub:
    """Just enough OrderCloud to drive the identity flow, recording every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.token_forms: list[dict[str, list[str]]] = []
        self.anon_counter = 0
        self.orders: dict[str, dict[str, Any]] = {}  # order id -> {"owner": token-holder, "lines": n}
        self.fail_transfer = False
        self.transfers: list[tuple[str, str]] = []  # (bearer, anonUserToken)

    def token_for(self, claims: dict[str, Any]) -> str:
        return make_jwt(claims)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, method = request.url.path, request.method
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if path == "/oauth/token":
            form = parse_qs(request.content.decode())
            self.token_forms.append(form)
            if form["grant_type"] == ["password"]:
                if form["password"] != ["right-password"]:
                    return httpx.Response(
                        400,
                        json={
                            "error": "invalid_grant",
                            "error_description": "Invalid username or password",
                            "Errors": [{"ErrorCode": "Auth.InvalidUsernameOrPassword", "Message": "bad"}],
                        },
                    )
                return httpx.Response(200, json={"access_token": self.token_for({"usr": "jane"}), "expires_in": 600})
            self.anon_counter += 1
            claims = {"usr": f"anon-{self.anon_counter}", "orderid": f"anon-order-{self.anon_counter}"}
            return httpx.Response(200, json={"access_token": self.token_for(claims), "expires_in": 600})
        caller = decode_token(bearer)
        if path == "/v1/cart/lineitems" and method == "POST":
            order_id = caller.orderid or "user-cart"
            order = self.orders.setdefault(order_id, {"owner": caller.usr, "lines": 0})
            order["lines"] += 1
            item = json.loads(request.content)
            return httpx.Response(201, json={**item, "ID": f"li-{order['lines']}"})
        if path.startswith("/v1/orders/Outgoing/") and method == "GET":
            order_id = path.rsplit("/", 1)[1]
            if order_id not in self.orders:
                return httpx.Response(404, json={"Errors": [{"ErrorCode": "NotFound", "Message": "Order not found"}]})
            order = self.orders[order_id]
            return httpx.Response(200, json={"ID": order_id, "LineItemCount": order["lines"], "Status": "Unsubmitted"})
        if path == "/v1/me/orders" and method == "PUT":
            anon = request.url.params["anonUserToken"]
            if self.fail_transfer:
                return httpx.Response(500, json={"Errors": [{"ErrorCode": "ServerError", "Message": "boom"}]})
            self.transfers.append((bearer, anon))
            anon_order = decode_token(anon).orderid
            assert anon_order is not None
            self.orders[anon_order]["owner"] = caller.usr
            return httpx.Response(204)
        if path == "/v1/me/register" and method == "PUT":
            return httpx.Response(200, json={"access_token": self.token_for({"usr": "new-user"})})
        if path == "/v1/me":
            return httpx.Response(200, json={"ID": caller.usr, "Username": caller.usr})
        return httpx.Response(501, json={"Errors": [{"ErrorCode": "NotImplemented", "Message": path}]})


async def _no_sleep(_: float) -> None:
    return None


POLICY = RetryPolicy(max_retries=0, sleep=lambda _: None, async_sleep=_no_sleep)


@pytest.fixture
def stub(httpx_mock: HTTPXMock) -> Stub:
    stub = Stub()
    httpx_mock.add_callback(stub, is_reusable=True, is_optional=True)
    return stub


class Flow:
    """Drives ShopperSession or AsyncShopperSession with the same script."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.client: OrderCloud | AsyncOrderCloud = (
            OrderCloud(CLIENT_ID, base_url=BASE, retry_policy=POLICY)
            if mode == "sync"
            else AsyncOrderCloud(CLIENT_ID, base_url=BASE, retry_policy=POLICY)
        )

    async def run(self, fn: Callable[[], T | Awaitable[T]]) -> T:
        result = fn()
        if isinstance(result, Awaitable):
            result = await result
        assert not isinstance(result, Awaitable)
        return result

    async def start(self, **kwargs: Any) -> ShopperSession | AsyncShopperSession:
        if isinstance(self.client, OrderCloud):
            return ShopperSession.start(self.client, **kwargs)
        return await AsyncShopperSession.start(self.client, **kwargs)

    def loads(self, data: str) -> ShopperSession | AsyncShopperSession:
        if isinstance(self.client, OrderCloud):
            return ShopperSession.loads(self.client, data)
        return AsyncShopperSession.loads(self.client, data)


@pytest.fixture(params=["sync", "async"])
def flow(request: pytest.FixtureRequest) -> Flow:
    return Flow(str(request.param))


async def test_start_sends_anonuserid_and_exposes_the_session(flow: Flow, stub: Stub) -> None:
    session = await flow.start(client_id=CLIENT_ID, anon_user_id="beacon-123")
    form = stub.token_forms[0]
    assert form["grant_type"] == ["client_credentials"]
    assert form["anonuserid"] == ["beacon-123"]
    assert "client_secret" not in form
    assert session.anon_user_id == "beacon-123"
    assert session.is_anonymous
    assert session.order_id == "anon-order-1"


async def test_start_generates_a_uuid4_hex_beacon_id(flow: Flow, stub: Stub) -> None:
    session = await flow.start(client_id=CLIENT_ID)
    assert len(session.anon_user_id) == 32
    int(session.anon_user_id, 16)
    assert stub.token_forms[0]["anonuserid"] == [session.anon_user_id]


async def test_full_flow_anonymous_login_transfer(flow: Flow, stub: Stub) -> None:
    session = await flow.start(client_id=CLIENT_ID, anon_user_id="beacon-123")
    anon_token = session.dumps()  # (not the token itself, just making sure it serialises mid-flow)
    assert anon_token
    await flow.run(lambda: session.client.cart.add_line_item(LineItem(product_id="SKU-1", quantity=2)))
    await flow.run(lambda: session.client.cart.add_line_item(LineItem(product_id="SKU-2", quantity=1)))

    transferred = await flow.run(lambda: session.login("jane", "right-password"))

    assert transferred == "anon-order-1"
    assert not session.is_anonymous
    assert session.order_id == "anon-order-1"
    assert session.anon_user_id == "beacon-123"
    assert stub.orders["anon-order-1"]["owner"] == "jane"
    user_bearer, anon_param = stub.transfers[0]
    assert decode_token(user_bearer).usr == "jane"
    assert decode_token(anon_param).orderid == "anon-order-1"
    transfer_request = next(r for r in stub.requests if r.url.path == "/v1/me/orders")
    assert transfer_request.content == b""
    me = await flow.run(lambda: session.client.me.get())
    assert me.username == "jane"


async def test_login_without_line_items_does_not_transfer(flow: Flow, stub: Stub) -> None:
    session = await flow.start(client_id=CLIENT_ID)
    assert await flow.run(lambda: session.login("jane", "right-password")) is None
    assert stub.transfers == []
    assert not session.is_anonymous


async def test_failed_login_leaves_the_anonymous_session_intact(flow: Flow, stub: Stub) -> None:
    session = await flow.start(client_id=CLIENT_ID, anon_user_id="beacon-123")
    await flow.run(lambda: session.client.cart.add_line_item(LineItem(product_id="SKU-1", quantity=1)))
    with pytest.raises(TokenError) as info:
        await flow.run(lambda: session.login("jane", "wrong"))
    assert info.value.error_code == "Auth.InvalidUsernameOrPassword"
    assert session.is_anonymous
    assert session.order_id == "anon-order-1"
    await flow.run(lambda: session.client.cart.add_line_item(LineItem(product_id="SKU-2", quantity=1)))
    assert stub.orders["anon-order-1"]["lines"] == 2
    assert stub.anon_counter == 1  # no new anonymous user was minted


async def test_failed_transfer_says_login_succeeded_and_can_be_retried(flow: Flow, stub: Stub) -> None:
    session = await flow.start(client_id=CLIENT_ID)
    await flow.run(lambda: session.client.cart.add_line_item(LineItem(product_id="SKU-1", quantity=1)))
    stub.fail_transfer = True
    with pytest.raises(AnonymousTransferError) as info:
        await flow.run(lambda: session.login("jane", "right-password"))
    assert info.value.logged_in is True
    assert info.value.order_id == "anon-order-1"
    assert not session.is_anonymous
    assert session.transfer_pending
    # the pending transfer survives a round trip through the session store
    restored = flow.loads(session.dumps())
    assert restored.transfer_pending
    stub.fail_transfer = False
    await flow.run(restored.transfer_anonymous_order)
    assert not restored.transfer_pending
    assert stub.orders["anon-order-1"]["owner"] == "jane"


async def test_logout_keeps_the_anon_user_id_and_gets_a_new_anonymous_token(flow: Flow, stub: Stub) -> None:
    session = await flow.start(client_id=CLIENT_ID, anon_user_id="beacon-123")
    await flow.run(lambda: session.login("jane", "right-password"))
    await flow.run(session.logout)
    assert session.is_anonymous
    assert session.anon_user_id == "beacon-123"
    assert session.order_id == "anon-order-2"
    anon_forms = [f for f in stub.token_forms if f["grant_type"] == ["client_credentials"]]
    assert [f["anonuserid"] for f in anon_forms] == [["beacon-123"], ["beacon-123"]]


async def test_register_switches_to_the_returned_token(flow: Flow, stub: Stub) -> None:
    session = await flow.start(client_id=CLIENT_ID)
    user = {"Username": "new-user", "FirstName": "N", "LastName": "U", "Email": "n@example.com", "Active": True}
    order_id = await flow.run(lambda: session.register(user))
    assert order_id == "anon-order-1"
    assert not session.is_anonymous
    register = next(r for r in stub.requests if r.url.path == "/v1/me/register")
    assert decode_token(register.url.params["anonUserToken"]).orderid == "anon-order-1"
    assert decode_token(register.headers["Authorization"].removeprefix("Bearer ")).orderid == "anon-order-1"
    me = await flow.run(lambda: session.client.me.get())
    assert me.username == "new-user"


async def test_dumps_loads_round_trip_keeps_the_same_shopper(flow: Flow, stub: Stub) -> None:
    session = await flow.start(client_id=CLIENT_ID, anon_user_id="beacon-123")
    await flow.run(lambda: session.client.cart.add_line_item(LineItem(product_id="SKU-1", quantity=1)))
    data = session.dumps()
    restored = flow.loads(data)
    assert restored.anon_user_id == "beacon-123"
    assert restored.order_id == "anon-order-1"
    await flow.run(lambda: restored.client.cart.add_line_item(LineItem(product_id="SKU-2", quantity=1)))
    assert stub.orders["anon-order-1"]["lines"] == 2
    assert stub.anon_counter == 1  # the restored session did not mint a new anonymous user

    await flow.run(lambda: restored.login("jane", "right-password"))
    again = flow.loads(restored.dumps())
    assert not again.is_anonymous
    me = await flow.run(lambda: again.client.me.get())
    assert me.username == "jane"


def test_loads_rejects_garbage_without_echoing_it() -> None:
    client = OrderCloud(CLIENT_ID, base_url=BASE)
    for bad in ["", "nonsense", "ocs1.!!!", "ocs1.e30"]:
        with pytest.raises(ValueError, match="ShopperSession string") as info:
            ShopperSession.loads(client, bad)
        assert bad not in str(info.value) or bad == ""


def _session_string(payload: Any) -> str:
    return "ocs1." + base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "payload",
    [
        "[" * 100_000 + "]" * 100_000,  # deeper than the JSON parser can recurse: not a RecursionError
        {"v": 1, "c": CLIENT_ID, "a": "beacon", "s": "anonymous", "at": "token", "ur": ["not", "a", "token"]},
        {"v": 1, "c": CLIENT_ID, "a": "beacon", "s": "user", "ut": "token", "o": {"ID": "o-1"}},
    ],
    ids=["deeply-nested", "refresh-token-not-a-string", "order-id-not-a-string"],
)
def test_loads_of_a_malformed_string_is_a_value_error(payload: Any) -> None:
    client = OrderCloud(CLIENT_ID, base_url=BASE)
    data = (
        "ocs1." + base64.urlsafe_b64encode(payload.encode()).decode()
        if isinstance(payload, str)
        else _session_string(payload)
    )

    with pytest.raises(ValueError, match="Malformed ShopperSession string"):
        ShopperSession.loads(client, data)
    with pytest.raises(ValueError, match="Malformed ShopperSession string"):
        AsyncShopperSession.loads(AsyncOrderCloud(CLIENT_ID, base_url=BASE), data)


async def test_sessions_never_share_tokens(flow: Flow, stub: Stub) -> None:
    one = await flow.start(client_id=CLIENT_ID, anon_user_id="same-beacon")
    two = await flow.start(client_id=CLIENT_ID, anon_user_id="same-beacon")
    assert one.order_id != two.order_id


async def test_no_token_or_session_string_in_logs_or_repr(
    flow: Flow, stub: Stub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "ordercloud_tracking"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    session = await flow.start(client_id=CLIENT_ID)
    await flow.run(lambda: session.client.cart.add_line_item(LineItem(product_id="SKU-1", quantity=1)))
    await flow.run(lambda: session.login("jane", "right-password"))
    anon_token = stub.transfers[0][1]
    user_token = stub.transfers[0][0]
    data = session.dumps()
    text = caplog.text + repr(session) + repr(session.client)
    assert "/v1/me/orders" in caplog.text  # the transfer was logged …
    for secret in (anon_token, user_token, data, "right-password"):
        assert secret not in text  # … without the token, the session string or the password


# ------------------------------------------------------------------- token expiry after login (on the fake)


def _fake_with_refresh() -> Any:
    from ordercloud_tracking.testing import FakeOrderCloud, SeedApiClient

    fake = FakeOrderCloud()
    fake.add_api_client(
        SeedApiClient(
            "storefront-rt",
            is_anon_buyer=True,
            default_context_username="anon-template",
            access_token_duration=10,
            refresh_token_duration=600,
        )
    )
    return fake


def test_an_expired_login_without_refresh_token_ends_the_session_and_never_logs_in_again() -> None:
    from ordercloud_tracking.testing import FakeOrderCloud

    fake = FakeOrderCloud()
    session = fake.shopper(anon_user_id="beacon-x")
    session.login("jane", "jane-password")
    fake.clock.advance(601 * 60)  # past the access token's lifetime (600 minutes)

    with pytest.raises(MissingCredentialsError, match="expired"):  # nothing sent: no HTTP status claimed
        session.client.me.get()
    password_grants = [r for r in fake.requests_to("POST", "/oauth/token") if b"grant_type=password" in r.body]
    assert len(password_grants) == 1  # the password was used once and is not kept


def test_a_login_with_a_refresh_token_refreshes_also_after_a_session_store_round_trip() -> None:
    fake = _fake_with_refresh()
    session = fake.shopper(client_id="storefront-rt", anon_user_id="beacon-y")
    session.login("jane", "jane-password")
    fake.clock.advance(11 * 60)
    assert session.client.me.get().username == "jane"  # refreshed, not re-logged-in

    restored = ShopperSession.loads(fake.client(), session.dumps())
    fake.clock.advance(11 * 60)
    assert restored.client.me.get().username == "jane"
    grants = [r.body.split(b"&")[0] for r in fake.requests_to("POST", "/oauth/token")]
    assert grants.count(b"grant_type=password") == 1
    assert grants.count(b"grant_type=refresh_token") == 2


def test_a_failed_anonymous_order_check_at_login_still_names_the_order() -> None:
    from ordercloud_tracking.testing import FakeOrderCloud

    fake = FakeOrderCloud()
    session = fake.shopper(anon_user_id="beacon-z")
    session.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=1))
    anonymous_order = session.order_id
    fake.faults.add("GET", "/v1/orders/Outgoing/*", status=500, times=3)

    with pytest.raises(AnonymousTransferError) as raised:
        session.login("jane", "jane-password")

    assert raised.value.logged_in is True
    assert raised.value.order_id == anonymous_order
    assert session.transfer_pending
    session.transfer_anonymous_order()  # the retry moves the order
    assert not session.transfer_pending


# ---------------------------------------------------- identity links at login and register (on the fake)


class _FailingLinks:
    """An IdentityLinks whose writes fail, as a store on a full disk or a dropped Redis would."""

    def learn(self, message: object) -> None:
        raise OSError("disk full")

    def link(self, user_id: str, anonymous_id: str) -> None:
        raise OSError("disk full")

    def anonymous_id_for(self, user_id: str) -> str | None:
        return None


@pytest.fixture(params=["memory", "sqlite"])
def links(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IdentityLinks]:
    if request.param == "memory":
        yield MemoryIdentityLinks()
    else:
        with SQLiteIdentityLinks(tmp_path / "links.db") as store:
            yield store


class OnFake:
    """Drives ShopperSession or AsyncShopperSession on one FakeOrderCloud."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.fake = FakeOrderCloud()

    async def start(self, anon_user_id: str, links: IdentityLinks | None) -> ShopperSession | AsyncShopperSession:
        if self.mode == "sync":
            return ShopperSession.start(
                self.fake.client(), client_id=STOREFRONT_CLIENT_ID, anon_user_id=anon_user_id, links=links
            )
        return await AsyncShopperSession.start(
            self.fake.async_client(), client_id=STOREFRONT_CLIENT_ID, anon_user_id=anon_user_id, links=links
        )

    def loads(self, data: str, links: IdentityLinks | None) -> ShopperSession | AsyncShopperSession:
        if self.mode == "sync":
            return ShopperSession.loads(self.fake.client(), data, links=links)
        return AsyncShopperSession.loads(self.fake.async_client(), data, links=links)

    async def login(self, session: ShopperSession | AsyncShopperSession, username: str, password: str) -> str | None:
        if isinstance(session, ShopperSession):
            return session.login(username, password)
        return await session.login(username, password)

    async def register(
        self, session: ShopperSession | AsyncShopperSession, user: MeUser | dict[str, Any]
    ) -> str | None:
        if isinstance(session, ShopperSession):
            return session.register(user)
        return await session.register(user)

    async def add_line(self, session: ShopperSession | AsyncShopperSession) -> None:
        if isinstance(session, ShopperSession):
            session.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=1))
        else:
            await session.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=1))

    def me_reads(self) -> int:
        return len(self.fake.requests_to("GET", "/v1/me"))


@pytest.fixture(params=["sync", "async"])
def on_fake(request: pytest.FixtureRequest) -> Iterator[OnFake]:
    driver = OnFake(str(request.param))
    yield driver
    driver.fake.close()


def _new_user(user_id: str | None = None) -> dict[str, Any]:
    user: dict[str, Any] = {
        "Username": "newbie",
        "Password": "newbie-Passw0rd!",
        "FirstName": "New",
        "LastName": "Bie",
        "Email": "newbie@example.com",
        "Active": True,
    }
    if user_id is not None:
        user["ID"] = user_id
    return user


async def test_login_links_the_user_id_to_the_beacon_id(on_fake: OnFake, links: IdentityLinks) -> None:
    session = await on_fake.start("beacon-login", links)
    await on_fake.add_line(session)
    assert links.anonymous_id_for("buyer-jane") is None

    transferred = await on_fake.login(session, "jane", "jane-password")

    assert transferred is not None  # the usual login flow is unchanged
    assert links.anonymous_id_for("buyer-jane") == "beacon-login"
    assert session.links is links


async def test_a_login_on_a_second_device_relinks_to_its_beacon(on_fake: OnFake, links: IdentityLinks) -> None:
    await on_fake.login(await on_fake.start("beacon-phone", links), "jane", "jane-password")
    await on_fake.login(await on_fake.start("beacon-laptop", links), "jane", "jane-password")

    assert links.anonymous_id_for("buyer-jane") == "beacon-laptop"  # the latest link wins


async def test_without_links_login_makes_no_extra_request(on_fake: OnFake) -> None:
    await on_fake.login(await on_fake.start("beacon-plain", None), "jane", "jane-password")

    assert on_fake.me_reads() == 0


async def test_login_with_links_reads_the_user_id_once(on_fake: OnFake, links: IdentityLinks) -> None:
    # The token's "u" claim is OrderCloud's internal user number, not the User.ID the messages carry.
    await on_fake.login(await on_fake.start("beacon-me", links), "jane", "jane-password")

    assert on_fake.me_reads() == 1


@pytest.mark.parametrize("as_model", [False, True], ids=["dict", "MeUser"])
async def test_register_links_the_chosen_user_id_without_reading_it_back(
    on_fake: OnFake, links: IdentityLinks, as_model: bool
) -> None:
    session = await on_fake.start("beacon-reg", links)
    user = _new_user("buyer-newbie")

    await on_fake.register(session, MeUser.from_api(user) if as_model else user)

    assert not session.is_anonymous
    assert links.anonymous_id_for("buyer-newbie") == "beacon-reg"
    assert on_fake.me_reads() == 0


async def test_register_without_an_id_links_the_id_ordercloud_chose(on_fake: OnFake, links: IdentityLinks) -> None:
    session = await on_fake.start("beacon-reg2", links)

    await on_fake.register(session, _new_user())

    me = on_fake.fake.client().me.get(access_token=_user_token(session))
    assert me.id
    assert links.anonymous_id_for(me.id) == "beacon-reg2"


def _user_token(session: ShopperSession | AsyncShopperSession) -> str:
    data = json.loads(base64.urlsafe_b64decode(session.dumps()[5:] + "=="))
    token = data["ut"]
    assert isinstance(token, str)
    return token


async def test_a_restored_session_links_with_the_store_passed_to_loads(on_fake: OnFake, links: IdentityLinks) -> None:
    stored = (await on_fake.start("beacon-restored", links)).dumps()

    restored = on_fake.loads(stored, links)
    await on_fake.login(restored, "jane", "jane-password")

    assert restored.links is links
    assert links.anonymous_id_for("buyer-jane") == "beacon-restored"


async def test_a_failing_store_does_not_break_the_login_and_logs_no_secret(
    on_fake: OnFake, caplog: pytest.LogCaptureFixture
) -> None:
    session = await on_fake.start("beacon-broken", _FailingLinks())
    await on_fake.add_line(session)
    anonymous_token = session.dumps()

    with caplog.at_level(logging.WARNING, logger="ordercloud_tracking.identity"):
        transferred = await on_fake.login(session, "jane", "jane-password")

    assert transferred is not None
    assert not session.is_anonymous
    assert not session.transfer_pending
    warnings = [r for r in caplog.records if r.name == "ordercloud_tracking.identity"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "OSError" in warnings[0].getMessage()
    text = caplog.text
    assert "jane-password" not in text
    assert _user_token(session) not in text
    assert anonymous_token not in text


async def test_a_failing_store_does_not_break_the_registration(
    on_fake: OnFake, caplog: pytest.LogCaptureFixture
) -> None:
    session = await on_fake.start("beacon-broken-reg", _FailingLinks())

    with caplog.at_level(logging.WARNING, logger="ordercloud_tracking.identity"):
        await on_fake.register(session, _new_user("buyer-newbie"))

    assert not session.is_anonymous
    assert any("OSError" in r.getMessage() for r in caplog.records)
    assert "newbie-Passw0rd!" not in caplog.text


async def test_a_failing_user_read_does_not_break_the_login(
    on_fake: OnFake, links: IdentityLinks, caplog: pytest.LogCaptureFixture
) -> None:
    on_fake.fake.faults.add("GET", "/v1/me", status=500, times=10)
    session = await on_fake.start("beacon-no-me", links)

    with caplog.at_level(logging.WARNING, logger="ordercloud_tracking.identity"):
        await on_fake.login(session, "jane", "jane-password")

    assert not session.is_anonymous
    assert links.anonymous_id_for("buyer-jane") is None
    assert any("link" in r.getMessage() for r in caplog.records if r.name == "ordercloud_tracking.identity")


async def test_the_login_identify_reaches_the_carts_sitecore_contact(on_fake: OnFake, links: IdentityLinks) -> None:
    from ordercloud_tracking import MappingError
    from ordercloud_tracking.sitecore import to_discover_event, to_send_event

    session = await on_fake.start("beacon-cart", links)
    await on_fake.login(session, "jane", "jane-password")
    login = session_identified(on_fake.fake.client().me.get(access_token=_user_token(session)))  # no AnonymousId
    assert login.anonymous_id is None

    site = "0f8fad5b-d9cb-469f-a165-70867728950e"
    stitched = to_send_event(login, site_id=site, contact_id=None, session_id="s-1", links=links)
    assert stitched is not None
    assert stitched["ContactId"] == "beacon-cart"
    with pytest.raises(MappingError):  # an unknown user: no contact to send the login to
        to_send_event(login, site_id=site, contact_id=None, session_id="s-1", links=MemoryIdentityLinks())
    discover = to_discover_event(login, links=links)
    assert discover is not None
    assert discover["uuid"] == "beacon-cart"


def test_the_identity_guides_stitching_python_example_runs_as_written() -> None:
    # tests/test_docs.py runs the pycon blocks; this runs the guide's plain python block of the section.
    import re

    page = (Path(__file__).resolve().parent.parent / "docs" / "guides" / "identity.md").read_text(encoding="utf-8")
    section = page[page.index("## Stitching the login") : page.index("## Reading a token")]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1
    exec(compile(blocks[0], "identity.md", "exec"), {"__name__": "identity_md"})  # noqa: S102 - our own docs


def test_start_refuses_an_unknown_keyword_before_any_request() -> None:
    from ordercloud_tracking.testing import FakeOrderCloud

    fake = FakeOrderCloud()
    client = fake.client()
    start: Any = ShopperSession.start  # the misspelt keyword is a type error too (tests/editor_types)
    with pytest.raises(TypeError, match="unexpected keyword argument 'anon_userid'"):
        start(client, client_id=STOREFRONT_CLIENT_ID, anon_userid="beacon-x")
    assert fake.requests_to("POST", "/oauth/token") == []
    client.close()
