"""Error answers become typed errors: class per status, OrderCloud's Errors, BOM and non-JSON bodies,
"TrackingEvent te1 not found", and URLs with their token query parameters redacted."""

from __future__ import annotations

import enum
import importlib
import pickle
import pkgutil
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest
from pydantic import BaseModel

from ordercloud_tracking import (
    AmbiguousSubmitError,
    AnonymousTransferError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ErrorDetail,
    InternalServerError,
    InvalidPayloadError,
    MappingError,
    MissingCredentialsError,
    NotFoundError,
    OrderCloudError,
    PaginationError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ResponseValidationError,
    ServiceUnavailableError,
    SignatureVerificationError,
    StaticToken,
    TokenError,
)
from ordercloud_tracking._requests import RequestSpec
from ordercloud_tracking.streams import ConsumerFailedError, KafkaConnectionError, KafkaForwardError
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
E = TypeVar("E", bound=BaseException)


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

    with pytest.raises(ResponseValidationError, match="Unexpected TrackingEvent body") as excinfo:
        await resolve(client.tracking_events.get("te1"))

    error = excinfo.value
    assert isinstance(error, APIError)
    assert error.status_code == 200
    assert error.method == "GET"
    assert error.url == f"{API}/integrations/trackingEvents/te1"
    assert error.model == "TrackingEvent"
    assert error.validation_errors == [{"loc": (), "msg": error.validation_errors[0]["msg"], "type": "model_type"}]
    assert error.__cause__ is None  # the pydantic error holds the body's values
    assert error.__context__ is None


@pytest.mark.parametrize("mode", MODES)
async def test_a_success_body_that_does_not_fit_keeps_no_input_values(mode: Mode) -> None:
    secret = "webhook-secret-in-a-bad-body"
    body = {"ID": "dc1", "Name": 5, "DeliveryTargets": {"Http": {"Endpoint": 7, "Secret": secret}}}
    server = Server().reply(httpx.Response(200, json=body))
    client = client_for(mode, server)

    with pytest.raises(ResponseValidationError) as excinfo:
        await resolve(client.delivery_configs.get("dc1"))

    error = excinfo.value
    locs = {error_["loc"] for error_ in error.validation_errors}
    assert locs == {("Name",), ("DeliveryTargets", "Http", "Endpoint")}
    assert all(set(error_) == {"loc", "msg", "type"} for error_ in error.validation_errors)
    for text in (str(error), repr(error), repr(vars(error)), repr(round_trip(error).__dict__)):
        assert secret not in text


# ------------------------------------------------------------------------------- pickling, module


def round_trip(error: E) -> E:
    copy: E = pickle.loads(pickle.dumps(error))  # noqa: S301 - bytes this test just made
    return copy


def _exception_classes() -> set[type[BaseException]]:
    """Every exception class a public module of the package exports (its ``__all__`` or public names)."""
    found: set[type[BaseException]] = set()
    package = importlib.import_module("ordercloud_tracking")
    names = [package.__name__] + [
        info.name for info in pkgutil.walk_packages(package.__path__, prefix="ordercloud_tracking.")
    ]
    for name in names:
        if name.endswith("__main__") or any(part.startswith("_") for part in name.split(".")[1:]):
            continue  # private modules (the root package re-exports what ``_errors`` defines)
        module = importlib.import_module(name)
        for attribute in getattr(module, "__all__", dir(module)):
            value = getattr(module, attribute, None)
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and not attribute.startswith("_")
                and value.__module__.startswith("ordercloud_tracking")
            ):
                found.add(value)
    return found


def _samples() -> dict[type[BaseException], BaseException]:
    detail = ErrorDetail("NotFound", "TrackingEvent te1 not found", {"ObjectID": "te1"})

    def api(status_code: int, **more: Any) -> dict[str, Any]:
        return {
            "status_code": status_code,
            "errors": [detail],
            "method": "GET",
            "url": f"{API}/x?anonUserToken=t",
        } | more

    not_found = NotFoundError("NotFound: TrackingEvent te1 not found", **api(404, body={}))
    samples: list[BaseException] = [
        OrderCloudError("something failed"),
        APIError("I'm a teapot", **api(418)),
        BadRequestError("bad", **api(400)),
        AuthenticationError("no", **api(401)),
        PermissionDeniedError("no", **api(403)),
        not_found,
        ConflictError("IdExists", **api(409)),
        RateLimitError("slow down", **api(429, retry_after=12.5)),
        InternalServerError("down", **api(503)),
        TokenError("refused", error="invalid_grant", error_description="nope", **api(400)),
        ResponseValidationError(
            "odd body",
            model="TrackingEvent",
            validation_errors=[{"loc": ("ID",), "msg": "Field required", "type": "missing"}],
            **api(200),
        ),
        APIConnectionError("Connection error", method="GET", url=f"{API}/x", may_have_reached_server=False),
        APITimeoutError("Request timed out", method="POST", url=f"{API}/y"),
        MissingCredentialsError("no credentials", method="GET", url=f"{API}/z"),
        PaginationError("integrations/trackingEvents", last_id="te-9"),
        AmbiguousSubmitError("unknown", order_id="o1", direction="Outgoing", order=None, cause=not_found),
        AnonymousTransferError("transfer failed", logged_in=True, order_id="o2", cause=not_found),
        ServiceUnavailableError("the warehouse API is down", retry_after=30),
        SignatureVerificationError("Missing x-oc-hash header", missing=True),
        PayloadTooLargeError(2000, 1024),
        InvalidPayloadError("Body is not valid JSON"),
        MappingError("siteId", "Send", "must be a UUID"),
        KafkaConnectionError("127.0.0.1:9092", "timed out after 5 s"),
        KafkaForwardError("tracking", "Local: Message timed out"),
        ConsumerFailedError("tracking", 3, 42, "ValueError: boom", attempts=4),
    ]
    return {type(sample): sample for sample in samples}


def _fields(error: BaseException) -> dict[str, Any]:
    return {key: repr(value) for key, value in vars(error).items()}


def test_every_exported_exception_round_trips_through_pickle_with_its_fields() -> None:
    samples = _samples()
    missing = _exception_classes() - set(samples)
    assert not missing, f"add a sample for {sorted(cls.__name__ for cls in missing)}"
    for cls, error in samples.items():
        copy = round_trip(error)
        assert type(copy) is cls
        assert copy.args == error.args
        assert str(copy) == str(error)
        assert repr(copy) == repr(error)
        assert _fields(copy) == _fields(error), cls.__name__


def test_nested_causes_keep_their_class_through_pickle() -> None:
    submit = _samples()[AmbiguousSubmitError]
    assert isinstance(submit, AmbiguousSubmitError)
    copy = round_trip(submit)
    assert isinstance(copy.cause, NotFoundError)
    assert copy.cause.error_code == "NotFound"
    assert copy.cause.url == f"{API}/x?anonUserToken=[REDACTED]"


def _raise_not_found(object_id: str) -> None:
    raise NotFoundError(f"NotFound: TrackingEvent {object_id} not found", status_code=404, method="GET", url=API)


def test_an_error_raised_in_a_worker_process_reaches_the_caller_as_itself() -> None:
    with ProcessPoolExecutor(max_workers=1) as pool:
        future = pool.submit(_raise_not_found, "te-42")
        with pytest.raises(NotFoundError) as excinfo:
            future.result()
    assert excinfo.value.status_code == 404
    assert excinfo.value.message == "NotFound: TrackingEvent te-42 not found"


def test_exported_classes_report_their_public_home() -> None:
    import ordercloud_tracking

    for name in ordercloud_tracking.__all__:
        value = getattr(ordercloud_tracking, name)
        if isinstance(value, type) and not issubclass(value, (BaseModel, enum.Enum)):  # wire data stays put
            assert value.__module__ == "ordercloud_tracking", name
    assert NotFoundError.__module__ == "ordercloud_tracking"
    assert "ordercloud_tracking.NotFoundError" in "".join(
        traceback.format_exception_only(NotFoundError("x", status_code=404))
    )


# --------------------------------------------------------------------------- deeply nested JSON


def deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("mode", MODES)
async def test_a_deeply_nested_error_body_is_still_a_typed_error(mode: Mode) -> None:
    body = b'{"Errors": [{"ErrorCode": "X", "Message": ' + deep(100_000) + b"}]}"
    server = Server().reply(httpx.Response(400, content=body))
    client = client_for(mode, server)

    with pytest.raises(BadRequestError) as excinfo:
        await resolve(client.tracking_events.get("te1"))
    assert excinfo.value.status_code == 400


@pytest.mark.parametrize("mode", MODES)
async def test_a_deeply_nested_success_body_is_a_response_validation_error(mode: Mode) -> None:
    server = Server().reply(httpx.Response(200, content=deep(100_000)))
    client = client_for(mode, server)

    with pytest.raises(ResponseValidationError):
        await resolve(client.tracking_events.get("te1"))


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
