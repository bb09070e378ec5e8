"""Error answers become typed errors: class per status, OrderCloud's Errors, BOM and non-JSON bodies,
"TrackingEvent te1 not found", and URLs with their token query parameters redacted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ordercloud_tracking import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ErrorDetail,
    InternalServerError,
    NotFoundError,
    OrderCloudError,
    PermissionDeniedError,
    RateLimitError,
    StaticToken,
)
from ordercloud_tracking._transport import RequestSpec
from tests.client_support import (
    API,
    MODES,
    Client,
    Mode,
    Server,
    Sleeps,
    make_client,
    resolve,
    retry_policy,
)

BOM = b"\xef\xbb\xbf"


def client_for(mode: Mode, server: Server) -> Client:
    return make_client(mode, server, grant=StaticToken("static-token"), policy=retry_policy(Sleeps(), max_retries=0))


def oc_errors(*errors: tuple[str, str, Any]) -> dict[str, Any]:
    return {"Errors": [{"ErrorCode": code, "Message": message, "Data": data} for code, message, data in errors]}


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
        (418, APIError),
        (422, APIError),
    ],
)
@pytest.mark.parametrize("mode", MODES)
async def test_each_status_maps_to_its_class(mode: Mode, status: int, error: type[APIError]) -> None:
    body = oc_errors(("Some.Code", "Something went wrong", None))
    server = Server().reply(httpx.Response(status, json=body))
    client = client_for(mode, server)

    with pytest.raises(APIError) as excinfo:
        await resolve(client.tracking_events.save("te1", _te()))

    exc = excinfo.value
    assert type(exc) is error
    assert isinstance(exc, OrderCloudError)
    assert exc.status_code == status
    assert exc.error_code == "Some.Code"
    assert exc.errors == [ErrorDetail("Some.Code", "Something went wrong", None)]
    assert exc.method == "PUT"
    assert exc.url == f"{API}/integrations/trackingEvents/te1"
    assert str(exc) == f"Some.Code: Something went wrong [HTTP {status}] (PUT {API}/integrations/trackingEvents/te1)"


def _te() -> dict[str, Any]:
    return {"EventType": "OrderSubmitted", "ClientID": "c", "Name": "n", "DeliveryConfigID": "dc1"}


@pytest.mark.parametrize("mode", MODES)
async def test_every_error_is_listed_and_error_code_is_the_first(mode: Mode) -> None:
    body = oc_errors(
        ("ValidationFailure", "Name is required", {"Property": "Name"}),
        ("TrackingEvent.InvalidClientID", "ClientID does not exist", None),
    )
    server = Server().reply(httpx.Response(400, json=body))
    client = client_for(mode, server)

    with pytest.raises(BadRequestError) as excinfo:
        await resolve(client.tracking_events.create(_te()))

    exc = excinfo.value
    assert exc.error_code == "ValidationFailure"
    assert [e.error_code for e in exc.errors] == ["ValidationFailure", "TrackingEvent.InvalidClientID"]
    assert exc.errors[0].data == {"Property": "Name"}
    assert exc.errors[1].message == "ClientID does not exist"
    assert exc.method == "POST"
    assert "ValidationFailure: Name is required" in str(exc)


@pytest.mark.parametrize("mode", MODES)
async def test_bom_prefixed_error_body_is_parsed(mode: Mode) -> None:
    content = BOM + b'{"Errors":[{"ErrorCode":"Auth.InsufficientRoles","Message":"User does not have role(s)"}]}'
    server = Server().reply(httpx.Response(403, content=content, headers={"Content-Type": "application/json"}))
    client = client_for(mode, server)

    with pytest.raises(PermissionDeniedError) as excinfo:
        await resolve(client.tracking_events.get("te1"))

    assert excinfo.value.error_code == "Auth.InsufficientRoles"
    assert excinfo.value.errors[0].message == "User does not have role(s)"


@pytest.mark.parametrize("mode", MODES)
async def test_bom_prefixed_success_body_is_parsed(mode: Mode) -> None:
    content = BOM + b'{"ID":"te1","EventType":"OrderSubmitted","ClientID":"c","Name":"n","DeliveryConfigID":"dc1"}'
    server = Server().reply(httpx.Response(200, content=content))
    client = client_for(mode, server)

    event = await resolve(client.tracking_events.get("te1"))

    assert event.id == "te1"


@pytest.mark.parametrize(
    ("status", "content", "error", "message"),
    [
        (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", InternalServerError, "Bad Gateway"),
        (503, b"Service Unavailable", InternalServerError, "Service Unavailable"),
        (400, b"", BadRequestError, "Bad Request"),
        (404, BOM, NotFoundError, "Not Found"),
        (409, b'"ID already exists"', ConflictError, "ID already exists"),
        (429, b"[1, 2]", RateLimitError, "Too Many Requests"),
        (401, b"{not json", AuthenticationError, "{not json"),
    ],
)
@pytest.mark.parametrize("mode", MODES)
async def test_non_json_and_odd_bodies_still_map_to_the_right_class(
    mode: Mode, status: int, content: bytes, error: type[APIError], message: str
) -> None:
    server = Server().reply(httpx.Response(status, content=content, headers={"Content-Type": "text/html"}))
    client = client_for(mode, server)

    with pytest.raises(APIError) as excinfo:
        await resolve(client._send(RequestSpec("GET", "integrations/trackingEvents")))

    exc = excinfo.value
    assert type(exc) is error
    assert exc.status_code == status
    assert exc.errors == []
    assert exc.error_code is None
    assert message in str(exc)
    assert "<html>" not in str(exc)


@pytest.mark.parametrize("mode", MODES)
async def test_oauth_style_body_on_the_api_gives_a_message(mode: Mode) -> None:
    server = Server().reply(httpx.Response(400, json={"error": "invalid_request", "error_description": "Bad scope"}))
    client = client_for(mode, server)

    with pytest.raises(BadRequestError, match="Bad scope"):
        await resolve(client.tracking_events.get("te1"))


# --------------------------------------------------------------------------------------- NotFound


@pytest.mark.parametrize("mode", MODES)
async def test_not_found_message_from_ordercloud_body(mode: Mode) -> None:
    body = oc_errors(("NotFound", "TrackingEvent te1 not found", {"ObjectType": "TrackingEvent", "ObjectID": "te1"}))
    server = Server().reply(httpx.Response(404, json=body))
    client = client_for(mode, server)

    with pytest.raises(NotFoundError) as excinfo:
        await resolve(client.tracking_events.get("te1"))

    assert excinfo.value.message == "NotFound: TrackingEvent te1 not found"
    assert "TrackingEvent te1 not found" in str(excinfo.value)
    assert excinfo.value.errors[0].data == {"ObjectType": "TrackingEvent", "ObjectID": "te1"}


@pytest.mark.parametrize("mode", MODES)
async def test_not_found_message_from_data_without_message(mode: Mode) -> None:
    body = {"Errors": [{"ErrorCode": "NotFound", "Data": {"ObjectType": "TrackingEvent", "ObjectID": "te1"}}]}
    server = Server().reply(httpx.Response(404, json=body))
    client = client_for(mode, server)

    with pytest.raises(NotFoundError) as excinfo:
        await resolve(client.tracking_events.get("te1"))

    assert "TrackingEvent te1 not found" in str(excinfo.value)


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("get", "TrackingEvent te1 not found"),
        ("patch", "TrackingEvent te1 not found"),
        ("delete", "TrackingEvent te1 not found"),
        ("dc-get", "DeliveryConfig dc1 not found"),
        ("dc-delete", "DeliveryConfig dc1 not found"),
    ],
)
@pytest.mark.parametrize("mode", MODES)
async def test_bodiless_404_reads_like_ordercloud(mode: Mode, operation: str, expected: str) -> None:
    server = Server().reply(httpx.Response(404))
    client = client_for(mode, server)

    calls: dict[str, Callable[[], Any]] = {
        "get": lambda: client.tracking_events.get("te1"),
        "patch": lambda: client.tracking_events.patch("te1", {"Name": "x"}),
        "delete": lambda: client.tracking_events.delete("te1"),
        "dc-get": lambda: client.delivery_configs.get("dc1"),
        "dc-delete": lambda: client.delivery_configs.delete("dc1"),
    }
    with pytest.raises(NotFoundError) as excinfo:
        await resolve(calls[operation]())

    exc = excinfo.value
    assert exc.message == f"NotFound: {expected}"
    assert exc.error_code == "NotFound"
    assert exc.status_code == 404


@pytest.mark.parametrize("mode", MODES)
async def test_not_found_subject_uses_the_id_as_given(mode: Mode) -> None:
    server = Server().reply(httpx.Response(404))
    client = client_for(mode, server)

    with pytest.raises(NotFoundError) as excinfo:
        await resolve(client.tracking_events.get("te 1"))

    assert "TrackingEvent te 1 not found" in str(excinfo.value)
    assert excinfo.value.url == f"{API}/integrations/trackingEvents/te%201"


# -------------------------------------------------------------------------------------- redaction


@pytest.mark.parametrize("param", ["anonUserToken", "AnonUserToken", "access_token", "token", "refresh_token"])
@pytest.mark.parametrize("mode", MODES)
async def test_token_query_parameters_are_redacted_in_api_errors(mode: Mode, param: str) -> None:
    secret = "eyJhbGciOi.SECRET-ANON-TOKEN.sig"
    server = Server().reply(httpx.Response(403, json=oc_errors(("Auth.AnonUserProhibited", "No", None))))
    client = client_for(mode, server)

    with pytest.raises(PermissionDeniedError) as excinfo:
        await resolve(client._send(RequestSpec("PUT", "me/orders", params=[(param, secret), ("page", "2")])))

    exc = excinfo.value
    assert secret not in (exc.url or "")
    assert secret not in str(exc)
    assert secret not in repr(exc)
    assert exc.url is not None
    assert f"{param}=[REDACTED]" in exc.url
    assert "page=2" in exc.url
    # The request itself did carry the token.
    assert server.api_requests[0].url.params[param] == secret


@pytest.mark.parametrize("mode", MODES)
async def test_token_query_parameters_are_redacted_in_connection_errors(mode: Mode) -> None:
    secret = "SECRET-ANON-TOKEN"
    server = Server().reply(httpx.ConnectError)
    client = client_for(mode, server)

    with pytest.raises(APIConnectionError) as excinfo:
        await resolve(client._send(RequestSpec("PUT", "me/orders", params=[("anonUserToken", secret)])))

    exc = excinfo.value
    assert exc.method == "PUT"
    assert exc.url is not None
    assert exc.url.startswith(f"{API}/me/orders?anonUserToken=")
    assert secret not in exc.url
    assert secret not in str(exc)


@pytest.mark.parametrize("mode", MODES)
async def test_timeouts_are_a_kind_of_connection_error(mode: Mode) -> None:
    server = Server().reply(httpx.ReadTimeout)
    client = client_for(mode, server)

    with pytest.raises(APITimeoutError) as excinfo:
        await resolve(client.tracking_events.create(_te()))

    assert isinstance(excinfo.value, APIConnectionError)
    assert isinstance(excinfo.value, OrderCloudError)
    assert excinfo.value.method == "POST"
    assert "timed out" in str(excinfo.value)


@pytest.mark.parametrize("mode", MODES)
async def test_unexpected_success_body_is_an_api_error_not_a_pydantic_one(mode: Mode) -> None:
    server = Server().reply(httpx.Response(200, json=[{"ID": "te1"}]))
    client = client_for(mode, server)

    with pytest.raises(APIError, match="Unexpected TrackingEvent body") as excinfo:
        await resolve(client.tracking_events.get("te1"))

    assert excinfo.value.status_code == 200
    assert excinfo.value.method == "GET"


def test_error_repr_shows_class_status_and_code() -> None:
    exc = NotFoundError(
        "NotFound: TrackingEvent te1 not found",
        status_code=404,
        errors=[ErrorDetail("NotFound", "TrackingEvent te1 not found", {"ObjectID": "te1"})],
        method="GET",
        url="https://api.test/v1/integrations/trackingEvents/te1?access_token=abc",
    )
    assert repr(exc) == (
        "NotFoundError(status_code=404, error_code='NotFound', message='NotFound: TrackingEvent te1 not found')"
    )
    assert exc.url == "https://api.test/v1/integrations/trackingEvents/te1?access_token=[REDACTED]"
