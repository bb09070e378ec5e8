"""The fake under attack (issue 10, items 8-15): bad targets, odd credentials, bursts, bad framing, bad bodies.

Every answer to a bad request is an OrderCloud error body, the process stays up and nothing escapes into
the request that caused a delivery.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ordercloud_tracking import OrderCloud
from ordercloud_tracking.models.commerce import LineItem
from ordercloud_tracking.testing import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    DEFAULT_JOURNAL_LIMIT,
    DEFAULT_SEED,
    STOREFRONT_CLIENT_ID,
    FakeOrderCloud,
    FakeRequest,
    FakeServer,
    Seed,
    SeedApiClient,
    SeedUser,
)
from tests.testing.support import (
    SECRET,
    Endpoint,
    admin_token,
    anonymous_token,
    provision,
    raw,
    token_response,
)

ADMIN_FORM = {
    "grant_type": "client_credentials",
    "client_id": ADMIN_CLIENT_ID,
    "client_secret": ADMIN_CLIENT_SECRET,
    "scope": "FullAccess",
}


def assert_ordercloud_error(response: httpx.Response, status: int) -> str:
    """The status, and a body shaped like OrderCloud's: ``{"Errors": [{"ErrorCode", "Message", ...}]}``."""
    assert response.status_code == status, response.text
    error = response.json()["Errors"][0]
    assert isinstance(error["Message"], str)
    assert error["Message"]
    code: str = error["ErrorCode"]
    return code


@pytest.fixture
def server(fake: FakeOrderCloud) -> Iterator[FakeServer]:
    with fake.serve() as running:
        yield running


def send_raw(server: FakeServer, data: bytes) -> tuple[int, Any, http.client.HTTPResponse]:
    """Bytes written to the server as they are, then end of input; its parsed answer.

    The socket timeout only guards against a hang (the fake used to wait forever on ``Content-Length: -1``).
    """
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
        return response.status, json.loads(body) if body else None, response


def form_request(headers: str, body: bytes = b"") -> bytes:
    start = f"POST /oauth/token HTTP/1.1\r\nHost: fake\r\nContent-Type: application/x-www-form-urlencoded\r\n{headers}"
    return start.encode("utf-8") + b"\r\n" + body


# ------------------------------------------------------------------------------ 8: a bad Http target


BAD_TARGETS = {
    "non-ASCII header value": {"CustomAuthHeaderName": "X-Api-Key", "CustomAuthHeaderValue": "clé-secrète"},
    "non-ASCII header name": {"CustomAuthHeaderName": "X-Clé", "CustomAuthHeaderValue": "value"},
    "unparsable endpoint": {"Endpoint": "http://[::1"},
}


def provision_bad_http(fake: FakeOrderCloud, target: dict[str, str]) -> None:
    """A LineItemAdded subscription whose Http target cannot be sent (written raw: the SDK would refuse it)."""
    token = admin_token(fake)
    http_target = {"Endpoint": "https://hooks.example.test/oc", "Secret": SECRET, **target}
    body = {"ID": "dc-bad", "Name": "Bad", "DeliveryTargets": {"Http": http_target}}
    assert raw(fake, "POST", "/v1/integrations/deliveryconfig", token=token, json_body=body).status_code == 201
    event = {"EventType": "LineItemAdded", "ClientID": STOREFRONT_CLIENT_ID, "Name": "x", "DeliveryConfigID": "dc-bad"}
    assert raw(fake, "POST", "/v1/integrations/trackingEvents", token=token, json_body=event).status_code == 201


@pytest.mark.parametrize("target", list(BAD_TARGETS.values()), ids=list(BAD_TARGETS))
def test_a_bad_http_target_is_recorded_and_never_raised_into_the_request(
    fake: FakeOrderCloud, endpoint: Endpoint, target: dict[str, str]
) -> None:
    provision_bad_http(fake, target)
    shopper = fake.shopper()
    line = shopper.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=1))
    assert line.quantity == 1
    assert [d.line_item_count for d in [shopper.client.cart.get()]] == [1]
    (delivery,) = fake.deliveries_for("LineItemAdded")
    assert (delivery.target, delivery.ok, delivery.attempts) == ("Http", False, 0)
    assert delivery.error is not None
    assert delivery.error.startswith("bad Http target")
    assert "secrète" not in delivery.error
    assert endpoint.requests == []


@pytest.mark.parametrize("target", list(BAD_TARGETS.values()), ids=list(BAD_TARGETS))
async def test_a_bad_http_target_never_fails_an_async_request(fake: FakeOrderCloud, target: dict[str, str]) -> None:
    provision_bad_http(fake, target)
    shopper = await fake.async_shopper()
    line = await shopper.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=1))
    assert line.quantity == 1
    assert [d.ok for d in fake.deliveries_for("LineItemAdded")] == [False]


def test_a_bad_http_target_never_drops_the_servers_connection(fake: FakeOrderCloud, server: FakeServer) -> None:
    provision_bad_http(fake, BAD_TARGETS["non-ASCII header value"])
    with httpx.Client(base_url=server.url) as http:
        form = {"grant_type": "client_credentials", "client_id": STOREFRONT_CLIENT_ID, "scope": "Shopper"}
        token = http.post("/oauth/token", data=form).json()["access_token"]
        added = http.post(
            "/v1/cart/lineitems",
            json={"ProductID": "SKU-MUG", "Quantity": 1},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert added.status_code == 201
    assert [d.ok for d in fake.deliveries_for("LineItemAdded")] == [False]


# ----------------------------------------------------------------------- 9: non-ASCII credentials


def test_a_user_with_a_non_ascii_password_logs_in(fake: FakeOrderCloud) -> None:
    fake.add_user(SeedUser("pia", "pässwörd", email="pia@example.com"))
    form = {"grant_type": "password", "client_id": STOREFRONT_CLIENT_ID, "scope": "Shopper", "username": "pia"}
    assert token_response(fake, {**form, "password": "pässwörd"}).status_code == 200
    wrong = token_response(fake, {**form, "password": "passwörd"})
    assert assert_ordercloud_error(wrong, 400) == "Auth.InvalidUsernameOrPassword"
    ascii_wrong = token_response(fake, {**form, "password": "password"})
    assert assert_ordercloud_error(ascii_wrong, 400) == "Auth.InvalidUsernameOrPassword"


def test_an_api_client_with_a_non_ascii_secret_authenticates(fake: FakeOrderCloud) -> None:
    fake.add_api_client(SeedApiClient("kiosk", client_secret="sécret-ключ", default_context_username="admin"))
    form = {"grant_type": "client_credentials", "client_id": "kiosk", "scope": "FullAccess"}
    assert token_response(fake, {**form, "client_secret": "sécret-ключ"}).status_code == 200
    wrong = token_response(fake, {**form, "client_secret": "secret-ключ"})
    assert assert_ordercloud_error(wrong, 400) == "Auth.InvalidClientSecret"
    on_ascii_client = token_response(fake, {**ADMIN_FORM, "client_secret": "ädmin"})
    assert assert_ordercloud_error(on_ascii_client, 400) == "Auth.InvalidClientSecret"


# ---------------------------------------------------------------------------- 10: a burst of clients


def test_a_burst_of_concurrent_clients_is_served_without_resets(server: FakeServer) -> None:
    threads, per_thread = 32, 3
    barrier = threading.Barrier(threads)
    statuses: list[int | str] = []
    lock = threading.Lock()
    body = "&".join(f"{k}={v}" for k, v in ADMIN_FORM.items())

    def burst() -> None:
        barrier.wait()
        for _ in range(per_thread):  # a new connection each time: every one goes through the listen backlog
            connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
            try:
                connection.request("POST", "/oauth/token", body, {"Content-Type": "application/x-www-form-urlencoded"})
                result: int | str = connection.getresponse().status
            except OSError as exc:
                result = type(exc).__name__
            finally:
                connection.close()
            with lock:
                statuses.append(result)

    workers = [threading.Thread(target=burst) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert statuses == [200] * (threads * per_thread)


# ---------------------------------------------------------------- 11 and 12: request body framing


@pytest.mark.parametrize(
    ("length", "status"),
    [("abc", 400), ("1,1", 400), ("²", 400), ("-1", 400), ("1e3", 400), ("10" * 8, 413), ("17000000", 413)],
)
def test_a_malformed_content_length_is_answered_not_dropped(server: FakeServer, length: str, status: int) -> None:
    answer, body, response = send_raw(server, form_request(f"Content-Length: {length}\r\n"))
    assert answer == status
    assert body["Errors"][0]["ErrorCode"]
    assert body["Errors"][0]["Message"]
    assert response.getheader("Connection") == "close"
    with httpx.Client(base_url=server.url) as http:  # and the server keeps serving
        assert http.post("/oauth/token", data=ADMIN_FORM).status_code == 200


def test_conflicting_content_lengths_are_refused(server: FakeServer) -> None:
    status, body, _ = send_raw(server, form_request("Content-Length: 3\r\nContent-Length: 4\r\n", b"abcd"))
    assert status == 400
    assert body["Errors"][0]["ErrorCode"] == "Request.InvalidContentLength"


def test_a_chunked_body_is_decoded(server: FakeServer) -> None:
    form = "&".join(f"{k}={v}" for k, v in ADMIN_FORM.items()).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (form[:10], form[10:]))
    status, body, _ = send_raw(server, form_request("Transfer-Encoding: chunked\r\n", chunks + b"0\r\n\r\n"))
    assert status == 200
    assert body["access_token"]


def test_a_chunked_body_beside_a_content_length_wins_and_closes_the_connection(server: FakeServer) -> None:
    form = "&".join(f"{k}={v}" for k, v in ADMIN_FORM.items()).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(form), form)
    headers = "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"
    status, body, response = send_raw(server, form_request(headers, chunked))
    assert status == 200
    assert body["access_token"]
    assert response.getheader("Connection") == "close"


def test_httpx_streaming_a_body_without_a_length_is_served(server: FakeServer) -> None:
    form = "&".join(f"{k}={v}" for k, v in ADMIN_FORM.items()).encode()
    with httpx.Client(base_url=server.url) as http:
        response = http.post(
            "/oauth/token",
            content=iter([form[:7], form[7:]]),  # an iterator: httpx sends it chunked
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.request.headers["Transfer-Encoding"] == "chunked"
        assert response.status_code == 200
        assert http.post("/oauth/token", data=ADMIN_FORM).status_code == 200  # the stream stays in step


@pytest.mark.parametrize(
    ("encoding", "body", "status", "code"),
    [
        ("chunked", b"zz\r\nab\r\n0\r\n\r\n", 400, "Request.InvalidChunk"),
        ("chunked", b"5\r\nab", 400, "Request.InvalidChunk"),
        ("chunked", b"%x\r\n" % (17 * 1024 * 1024), 413, "Request.TooLarge"),
        ("gzip, chunked", b"0\r\n\r\n", 501, "NotImplemented"),
    ],
)
def test_a_malformed_or_unsupported_chunked_body_is_answered(
    server: FakeServer, encoding: str, body: bytes, status: int, code: str
) -> None:
    answer, error, _ = send_raw(server, form_request(f"Transfer-Encoding: {encoding}\r\n", body))
    assert answer == status
    assert error["Errors"][0]["ErrorCode"] == code


# ------------------------------------------------------------------- 13: wrong-typed bodies and filters


WRONG_LINES = {
    "ProductID list": b'{"ProductID": [], "Quantity": 1}',
    "ProductID object": b'{"ProductID": {"a": 1}}',
    "Quantity 1e999": b'{"ProductID": "SKU-MUG", "Quantity": 1e999}',
    "Quantity NaN": b'{"ProductID": "SKU-MUG", "Quantity": NaN}',
    "Quantity Infinity": b'{"ProductID": "SKU-MUG", "Quantity": -Infinity}',
    "Quantity huge": b'{"ProductID": "SKU-MUG", "Quantity": 100000000000000000000000000000000}',
    "xp list": b'{"ProductID": "SKU-MUG", "Quantity": 1, "xp": [1]}',
    "deeply nested": b'{"ProductID": "SKU-MUG", "xp": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}


@pytest.mark.parametrize("content", list(WRONG_LINES.values()), ids=list(WRONG_LINES))
def test_a_wrong_typed_line_item_is_a_400(fake: FakeOrderCloud, content: bytes) -> None:
    token = anonymous_token(fake)
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        response = http.post(
            "/v1/cart/lineitems",
            content=content,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
    assert_ordercloud_error(response, 400)
    assert fake.api.orders == {}  # nothing stored, not even the cart


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/integrations/trackingEvents", {"ID": ["x"], "EventType": "LineItemAdded", "ClientID": "storefront"}),
        (
            "/v1/integrations/trackingEvents",
            {"EventType": "LineItemAdded", "ClientID": ["storefront"], "Name": "n", "DeliveryConfigID": "dc-all"},
        ),
        ("/v1/integrations/deliveryconfig", {"ID": {"a": 1}, "Name": "n", "DeliveryTargets": {}}),
        ("/v1/integrations/deliveryconfig", {"Name": ["n"], "DeliveryTargets": {}}),
        ("/v1/orders/Outgoing", {"ID": ["o-1"]}),
    ],
)
def test_a_list_or_object_as_an_id_is_a_400(admin: OrderCloud, fake: FakeOrderCloud, path: str, body: Any) -> None:
    provision(admin, event_types=())
    response = raw(fake, "POST", path, token=admin_token(fake), json_body=body)
    assert_ordercloud_error(response, 400)


@pytest.mark.parametrize("expression", [">NaN", "<Infinity", ">sNaN", "!<-Inf"])
def test_a_non_finite_number_filter_is_a_400(fake: FakeOrderCloud, expression: str) -> None:
    token = anonymous_token(fake)
    assert raw(fake, "POST", "/v1/cart/lineitems", token=token, json_body={"ProductID": "SKU-MUG"}).status_code == 201
    response = raw(fake, "GET", "/v1/cart/lineitems", token=token, params=[("Quantity", expression)])
    assert assert_ordercloud_error(response, 400) == "List.InvalidFilterValue"
    text_filter = raw(fake, "GET", "/v1/cart/lineitems", token=token, params=[("Quantity", ">abc")])
    assert text_filter.status_code == 200  # a filter that is not a number still compares as text


def test_wrong_typed_bodies_are_answered_over_the_wire(fake: FakeOrderCloud, server: FakeServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        form = {"grant_type": "client_credentials", "client_id": STOREFRONT_CLIENT_ID, "scope": "Shopper"}
        headers = {"Authorization": f"Bearer {http.post('/oauth/token', data=form).json()['access_token']}"}
        for content in WRONG_LINES.values():
            response = http.post("/v1/cart/lineitems", content=content, headers=headers)
            assert_ordercloud_error(response, 400)
        filtered = http.get("/v1/me/orders", params={"Total": ">NaN"}, headers=headers)
        assert_ordercloud_error(filtered, 400)


UNSENDABLE = Seed(
    api_clients=DEFAULT_SEED.api_clients,
    users=(*DEFAULT_SEED.users, SeedUser("odd", "odd-password", xp={"Tags": {"a", "b"}})),  # a set: not JSON
    products=DEFAULT_SEED.products,
)


def test_a_defect_in_the_fake_is_a_500_with_an_error_body_and_the_fake_keeps_serving() -> None:
    fake = FakeOrderCloud(UNSENDABLE)
    form = {"grant_type": "password", "client_id": STOREFRONT_CLIENT_ID, "scope": "Shopper"}
    token = token_response(fake, {**form, "username": "odd", "password": "odd-password"}).json()["access_token"]
    response = raw(fake, "GET", "/v1/me", token=token)
    assert assert_ordercloud_error(response, 500) == "InternalServerError"
    assert [entry.status for entry in fake.requests_to("GET", "/v1/me")] == [500]
    assert raw(fake, "GET", "/v1/me", token=admin_token(fake)).status_code == 200
    with fake.serve() as server, httpx.Client(base_url=server.url) as http:
        headers = {"Authorization": f"Bearer {token}"}
        assert_ordercloud_error(http.get("/v1/me", headers=headers), 500)
        assert http.get("/v1/me", headers={"Authorization": f"Bearer {admin_token(fake)}"}).status_code == 200


# ------------------------------------------------------------------------- 14: API client writes


@pytest.mark.parametrize(
    "patch",
    [
        {"AnonymousTokenDuration": "ten"},
        {"AnonymousTokenDuration": 0},
        {"AccessTokenDuration": 5},
        {"AccessTokenDuration": 600.5},
        {"RefreshTokenDuration": True},
        {"IsAnonBuyer": "yes"},
        {"Active": None},
        {"AppName": ""},
        {"AppName": 3},
        {"DefaultContextUserName": ["anon-template"]},
        {"ClientSecret": 42},
        {"xp": "text"},
    ],
)
def test_api_client_writes_are_validated(fake: FakeOrderCloud, patch: dict[str, Any]) -> None:
    token = admin_token(fake)
    response = raw(fake, "PATCH", f"/v1/apiclients/{STOREFRONT_CLIENT_ID}", token=token, json_body=patch)
    assert assert_ordercloud_error(response, 400) == "ValidationFailure"
    assert anonymous_token(fake)  # the client still works as before
    stored = raw(fake, "GET", f"/v1/apiclients/{STOREFRONT_CLIENT_ID}", token=token).json()
    assert (stored["AnonymousTokenDuration"], stored["AccessTokenDuration"], stored["AppName"]) == (
        10080,
        600,
        "Storefront",
    )


def test_a_valid_api_client_write_still_applies(fake: FakeOrderCloud) -> None:
    token = admin_token(fake)
    patch = {"AnonymousTokenDuration": 60, "AccessTokenDuration": 10, "AppName": "Shop"}
    response = raw(fake, "PATCH", f"/v1/apiclients/{STOREFRONT_CLIENT_ID}", token=token, json_body=patch)
    assert response.status_code == 200
    anonymous = token_response(
        fake, {"grant_type": "client_credentials", "client_id": STOREFRONT_CLIENT_ID, "scope": "Shopper"}
    )
    assert anonymous.json()["expires_in"] == 60 * 60


# ------------------------------------------------------------------------------ 15: bounded journals


def test_the_journals_keep_the_last_journal_limit_entries() -> None:
    endpoint = Endpoint()
    fake = FakeOrderCloud(http_delivery=endpoint, journal_limit=3)
    with fake.client() as admin:
        provision(admin, targets=("Http",), event_types=("LineItemAdded",))
    shopper = fake.shopper()
    for product in ("SKU-MUG", "SKU-TEE", "SKU-CAP", "SKU-MUG"):
        shopper.client.cart.add_line_item(LineItem(product_id=product, quantity=1))
    assert len(fake.requests) == 3
    assert [entry.path for entry in fake.requests] == ["/v1/cart/lineitems"] * 3
    assert len(endpoint.requests) == 4
    products = [json.loads(d.raw)["Payload"]["LineItem"]["Product"]["ProductID"] for d in fake.deliveries]
    assert products == ["SKU-TEE", "SKU-CAP", "SKU-MUG"]


def test_the_journals_are_bounded_by_default() -> None:
    assert DEFAULT_JOURNAL_LIMIT == 10_000
    fake = FakeOrderCloud()
    for number in range(DEFAULT_JOURNAL_LIMIT + 5):
        fake.exchange(FakeRequest("GET", f"/v1/integrations/deliveryconfig/dc-{number}"))
    requests = fake.requests
    assert len(requests) == DEFAULT_JOURNAL_LIMIT
    assert (requests[0].path, requests[-1].path) == (
        "/v1/integrations/deliveryconfig/dc-5",
        f"/v1/integrations/deliveryconfig/dc-{DEFAULT_JOURNAL_LIMIT + 4}",
    )


def test_a_journal_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="journal_limit"):
        FakeOrderCloud(journal_limit=0)
    unbounded = FakeOrderCloud(journal_limit=None)
    assert unbounded.requests == []
