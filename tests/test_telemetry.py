"""OpenTelemetry (issue 15): spans per SDK call and per delivery, events, metrics, no secrets, no cost when absent.

Spans and metrics go to the OpenTelemetry SDK's in-memory exporter and reader through
``configure_telemetry(tracer_provider=..., meter_provider=...)``, so the process-wide providers stay unset
and the rest of the suite runs without telemetry.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator, MutableMapping
from io import BytesIO
from typing import Any

import httpx
import pytest
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from ordercloud_tracking import (
    NotFoundError,
    OrderCloud,
    configure_telemetry,
)
from ordercloud_tracking import _telemetry as telemetry
from ordercloud_tracking.models.commerce import LineItem
from ordercloud_tracking.models.tracking import TrackingEvent, TrackingEventPatch
from ordercloud_tracking.provisioning import ensure_tracking
from ordercloud_tracking.receiver import Delivery, Receiver, asgi_app, sign_payload, wsgi_app
from ordercloud_tracking.resources._base import CrudEndpoint
from ordercloud_tracking.resources.orders import OrderSpecs
from ordercloud_tracking.testing import STOREFRONT_CLIENT_ID, FakeOrderCloud
from ordercloud_tracking.testing._seed import ADMIN_CLIENT_SECRET


class Telemetry:
    """The in-memory span exporter and metric reader the SDK reports to during one test."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    @property
    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.spans if span.name == name]

    def metric_points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        assert data is not None
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            if scope.scope.name == "ordercloud_tracking"
            for metric in scope.metrics
            if metric.name == name
            for point in metric.data.data_points
        ]


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    found = Telemetry()
    configure_telemetry(tracer_provider=found.tracer_provider, meter_provider=found.meter_provider)
    yield found
    configure_telemetry()
    found.tracer_provider.shutdown()
    found.meter_provider.shutdown()


@pytest.fixture
def fake() -> Iterator[FakeOrderCloud]:
    fake = FakeOrderCloud()
    yield fake
    fake.close()


def attrs_of(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


# ------------------------------------------------------------------------------ one span per call
def test_a_get_is_one_client_span_named_by_resource_and_operation_with_the_path_template(
    otel: Telemetry, fake: FakeOrderCloud
) -> None:
    with fake.client() as client:
        client.get_access_token()
        otel.exporter.clear()
        client.api_clients.get(STOREFRONT_CLIENT_ID)

    [span] = otel.spans
    assert span.name == "api_clients.get"
    assert span.kind is SpanKind.CLIENT
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "ordercloud_tracking"
    assert attrs_of(span) == {
        "http.request.method": "GET",
        "server.address": "fake.ordercloud.test",
        "server.port": 443,
        "url.template": "/v1/apiclients/{apiClientID}",
        "ordercloud.operation": "api_clients.get",
        "http.response.status_code": 200,
    }
    assert span.status.status_code is StatusCode.UNSET


def test_a_failed_call_carries_the_error_code_and_status(otel: Telemetry, fake: FakeOrderCloud) -> None:
    with fake.client() as client, pytest.raises(NotFoundError):
        client.delivery_configs.get("dc-missing")

    [span] = otel.named("delivery_configs.get")
    assert span.status.status_code is StatusCode.ERROR
    attributes = attrs_of(span)
    assert attributes["error.type"] == "NotFound"
    assert attributes["ordercloud.error_code"] == "NotFound"
    assert attributes["http.response.status_code"] == 404
    assert "dc-missing" not in str(attributes)


def test_a_connection_failure_is_typed_by_the_exception(otel: Telemetry, fake: FakeOrderCloud) -> None:
    fake.faults.add("GET", "/v1/me", error="connect", times=10)
    with fake.client() as client, pytest.raises(Exception, match="onnect"):
        client.me.get()

    [span] = otel.named("me.get")
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span)["error.type"] == "APIConnectionError"


async def test_the_async_client_records_the_same_span_under_the_callers_span(
    otel: Telemetry, fake: FakeOrderCloud
) -> None:
    tracer = otel.tracer_provider.get_tracer("app")
    async with fake.async_client() as client:
        with tracer.start_as_current_span("checkout") as parent:
            await client.api_clients.list()

    [span] = otel.named("api_clients.list")
    assert span.kind is SpanKind.CLIENT
    assert span.parent is not None
    assert span.parent.span_id == parent.get_span_context().span_id
    assert attrs_of(span)["url.template"] == "/v1/apiclients"
    assert attrs_of(span)["http.response.status_code"] == 200


def test_a_call_with_no_operation_name_falls_back_to_method_and_template(otel: Telemetry) -> None:
    from ordercloud_tracking._requests import RequestSpec

    call = telemetry.start_call(RequestSpec("GET", "things/1", template="things/{thingID}"), ("h", 443, "/v1/"))
    assert call is not None
    with call:
        pass
    [span] = otel.spans
    assert span.name == "GET /v1/things/{thingID}"


# ------------------------------------------------------------------------------- path templates
ID = "ID-5150-raw"


def _endpoint_specs() -> list[tuple[str, Any]]:
    endpoint = CrudEndpoint("integrations/trackingEvents", TrackingEvent, TrackingEventPatch, id_name="event_id")
    body = {"Name": "Orders", "EventType": "OrderSubmitted", "ClientID": "web", "DeliveryConfigID": "dc-1"}
    return [
        ("tracking_events.get", endpoint.get(ID, {})),
        ("tracking_events.save", endpoint.save(ID, body, {})),
        ("tracking_events.patch", endpoint.patch(ID, body, {})),
        ("tracking_events.delete", endpoint.delete(ID, {})),
        ("orders.get", OrderSpecs.get("Outgoing", ID, {})),
        ("orders.submit", OrderSpecs.submit("Outgoing", ID, {})),
        ("orders.get_line_item", OrderSpecs.line_items("Outgoing", ID).get(ID, {})),
        ("orders.list_line_items", OrderSpecs.line_items("Outgoing", ID).list({})),
    ]


@pytest.mark.parametrize(("operation", "spec"), _endpoint_specs())
def test_specs_with_ids_name_their_operation_and_template_the_ids(operation: str, spec: Any) -> None:
    assert spec.operation == operation
    assert ID in spec.path
    assert ID not in spec.path_template
    assert "Outgoing" not in spec.path_template
    assert spec.path_template.count("/") == spec.path.count("/")
    assert "{" in spec.path_template


def test_the_cart_and_line_item_calls_of_a_journey_have_templates_without_ids(
    otel: Telemetry, fake: FakeOrderCloud
) -> None:
    shopper = fake.shopper()
    item = shopper.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=1))
    assert item.id is not None
    shopper.client.cart.patch_line_item(item.id, {"Quantity": 2})
    shopper.client.close()

    [patch] = otel.named("cart.patch_line_item")
    assert attrs_of(patch)["url.template"] == "/v1/cart/lineitems/{lineItemID}"
    for span in otel.spans:
        assert item.id not in str(attrs_of(span))
        assert item.id not in span.name


# ----------------------------------------------------------------------- retries and token events
def test_retries_are_span_events_and_counted(otel: Telemetry, fake: FakeOrderCloud) -> None:
    fake.faults.add("GET", "/v1/me", status=503, times=2)
    with fake.client() as client:
        client.me.get()

    [span] = otel.named("me.get")
    retries = [event for event in span.events if event.name == "ordercloud.retry"]
    assert [dict(event.attributes or {})["http.request.resend_count"] for event in retries] == [1, 2]
    assert {dict(event.attributes or {})["ordercloud.reason"] for event in retries} == {"HTTP 503"}
    assert attrs_of(span)["http.request.resend_count"] == 2
    assert attrs_of(span)["http.response.status_code"] == 200
    [point] = otel.metric_points("ordercloud_tracking.retries")
    assert point.value == 2
    assert dict(point.attributes)["ordercloud.operation"] == "me.get"


async def test_the_async_client_records_retries_and_the_token_request_on_its_span(
    otel: Telemetry, fake: FakeOrderCloud
) -> None:
    fake.faults.add("GET", "/v1/me", status=429, headers={"Retry-After": "0"})
    async with fake.async_client() as client:
        await client.me.get()

    [span] = otel.named("me.get")
    assert [event.name for event in span.events] == ["ordercloud.token_request", "ordercloud.retry"]
    assert dict(span.events[1].attributes or {})["ordercloud.reason"] == "HTTP 429"
    assert attrs_of(span)["http.response.status_code"] == 200


def test_token_requests_and_rejections_are_span_events(otel: Telemetry, fake: FakeOrderCloud) -> None:
    with fake.client() as client:
        client.me.get()
        token = client.get_access_token()
        fake.revoke(token)
        otel.exporter.clear()
        client.me.get()

    [span] = otel.named("me.get")
    names = [event.name for event in span.events]
    assert names == ["ordercloud.token_rejected", "ordercloud.token_request"]
    assert dict(span.events[1].attributes or {}) == {"ordercloud.grant_type": "client_credentials"}


def test_get_access_token_is_an_auth_token_span(otel: Telemetry, fake: FakeOrderCloud) -> None:
    with fake.client() as client:
        client.get_access_token()
    [span] = otel.named("auth.token")
    assert attrs_of(span)["url.template"] == "/oauth/token"
    assert attrs_of(span)["http.request.method"] == "POST"


# ------------------------------------------------------------------------------------- no secrets
def _journey(fake: FakeOrderCloud) -> None:
    """The demo's journey: provisioning, an anonymous shopper, login with transfer, submit."""
    with fake.client() as admin:
        ensure_tracking(
            admin,
            client_id=STOREFRONT_CLIENT_ID,
            delivery_config={
                "ID": "dc-otel",
                "Name": "otel",
                "DeliveryTargets": {
                    "Http": {"Endpoint": "https://storefront.example/oc", "Secret": "http-secret-4f4f"},
                    "DiscoverEvent": {
                        "ClientID": "ck",
                        "ApiKey": "discover-api-key-9a9a",
                        "ServiceEndpoint": "https://rfk.example/events",
                    },
                },
            },
        )
    shopper = fake.shopper(anon_user_id="beacon-anon-3c3c")
    mug = shopper.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=2))
    assert mug.id is not None
    shopper.client.cart.patch_line_item(mug.id, {"Quantity": 10})
    order_id = shopper.login("jane", "jane-password")
    shopper.client.cart.submit(order_id=order_id)
    shopper.client.close()


def _leaks(spans: list[ReadableSpan], secrets: set[str]) -> list[str]:
    found = []
    for span in spans:
        values = [span.name, *map(str, attrs_of(span).values())]
        for event in span.events:
            values += [event.name, *(str(v) for v in dict(event.attributes or {}).values())]
        found += [f"{span.name}: {secret[:6]}…" for secret in secrets for value in values if secret in value]
    return found


def test_no_token_secret_password_or_anonuserid_in_any_attribute_over_a_full_journey(
    otel: Telemetry, fake: FakeOrderCloud
) -> None:
    _journey(fake)

    state = fake.api
    secrets = {
        ADMIN_CLIENT_SECRET,
        "jane-password",
        "http-secret-4f4f",
        "discover-api-key-9a9a",
        "beacon-anon-3c3c",
        *state.tokens,
        *state.refresh_tokens,
        *state.client_secrets.values(),
        *state.passwords.values(),
    }
    secrets.discard("")
    assert len(state.tokens) >= 3  # admin, anonymous and jane's tokens were issued and are checked
    assert fake.anonymous_users == ["beacon-anon-3c3c"]
    spans = otel.spans
    operations = {span.name for span in spans}
    assert {"cart.add_line_item", "cart.patch_line_item", "cart.submit", "delivery_configs.save"} <= operations
    events = {event.name for span in spans for event in span.events}
    assert "ordercloud.token_request" in events
    assert _leaks(spans, secrets) == []


def test_the_leak_scan_finds_a_secret_in_an_event_attribute(otel: Telemetry) -> None:
    tracer = otel.tracer_provider.get_tracer("t")
    with tracer.start_as_current_span("s") as span:
        span.add_event("e", {"k": "xx-token-123-xx"})
    assert _leaks(otel.spans, {"token-123"}) == ["s: token-…"]


# ----------------------------------------------------------------------------- httpx instrumentation
def _instrumented_client(fake: FakeOrderCloud, otel: Telemetry) -> OrderCloud:
    http = httpx.Client(transport=fake.transport())
    HTTPXClientInstrumentor.instrument_client(http, tracer_provider=otel.tracer_provider)
    return OrderCloud(
        grant=fake.client().options.grant,
        base_url=fake.base_url,
        http_client=http,
        owns_http_client=True,
        retry_policy=fake.retry_policy(),
    )


def test_httpx_instrumentation_adds_no_second_http_span_by_default(otel: Telemetry, fake: FakeOrderCloud) -> None:
    with _instrumented_client(fake, otel) as client:
        client.me.get()
        httpx.Client(transport=fake.transport())  # an unrelated client stays untouched
    assert [span.name for span in otel.spans] == ["me.get"]


def test_httpx_spans_when_asked_nest_under_an_internal_sdk_span(otel: Telemetry, fake: FakeOrderCloud) -> None:
    configure_telemetry(tracer_provider=otel.tracer_provider, meter_provider=otel.meter_provider, http_spans=True)
    with _instrumented_client(fake, otel) as client:
        client.me.get()

    [ours] = otel.named("me.get")
    assert ours.kind is SpanKind.INTERNAL
    children = [span for span in otel.spans if span.parent and span.parent.span_id == ours.context.span_id]
    assert len(children) == 2  # the token request and the GET, each one CLIENT span from httpx
    assert {span.kind for span in children} == {SpanKind.CLIENT}
    assert {span.instrumentation_scope.name for span in children if span.instrumentation_scope} == {
        "opentelemetry.instrumentation.httpx"
    }


# ------------------------------------------------------------------------------ off and absent
def test_disabled_records_nothing(otel: Telemetry, fake: FakeOrderCloud) -> None:
    configure_telemetry(enabled=False)
    with fake.client() as client:
        client.me.get()
        with telemetry.delivery_span("OrderSubmitted", "k") as span:
            span.set("ordercloud.duplicate", False)
    assert span.span is None
    assert otel.spans == []
    assert telemetry.instruments() is None


def test_no_sdk_configured_means_no_span_is_started_and_no_metric_recorded() -> None:
    # A fresh process: the global tracer provider is the API's proxy until an application sets one.
    code = """
        from ordercloud_tracking import _telemetry
        from ordercloud_tracking._requests import RequestSpec
        from ordercloud_tracking.testing import FakeOrderCloud
        fake = FakeOrderCloud()
        with fake.client() as client:
            client.me.get()
        assert _telemetry.start_call(RequestSpec("GET", "me"), ("h", 443, "/v1/")) is None
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        trace.set_tracer_provider(TracerProvider())
        assert _telemetry.start_call(RequestSpec("GET", "me"), ("h", 443, "/v1/")) is not None
        assert _telemetry.instruments() is None  # no meter provider yet: the metric hooks return at once
        from opentelemetry import metrics
        from opentelemetry.sdk.metrics import MeterProvider
        metrics.set_meter_provider(MeterProvider())
        assert _telemetry.instruments() is not None
        print("ok")
    """
    assert _run(code) == "ok"


def test_without_opentelemetry_installed_nothing_is_imported_and_calls_work() -> None:
    code = """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "opentelemetry" or name.startswith("opentelemetry."):
                    raise ModuleNotFoundError(f"No module named {name!r}")
                return None
        sys.meta_path.insert(0, Block())
        import ordercloud_tracking
        from ordercloud_tracking import _telemetry
        from ordercloud_tracking.testing import FakeOrderCloud
        fake = FakeOrderCloud()
        _ = fake.faults.add("GET", "/v1/me", status=503)
        with fake.client() as client:
            client.me.get()
        with _telemetry.delivery_span("OrderSubmitted", "k") as span:
            span.set("ordercloud.duplicate", True)
        _telemetry.count("deliveries")
        assert _telemetry.instruments() is None
        assert not [m for m in sys.modules if m.startswith("opentelemetry")], "imported"
        print("ok")
    """
    assert _run(code) == "ok"


def test_importing_the_package_does_not_import_opentelemetry_even_when_installed() -> None:
    code = """
        import sys
        import ordercloud_tracking
        from ordercloud_tracking import OrderCloud, configure_telemetry
        assert not [m for m in sys.modules if m.startswith("opentelemetry")]
        print("ok")
    """
    assert _run(code) == "ok"


def test_otel_sdk_disabled_turns_the_sdk_telemetry_off() -> None:
    code = """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from ordercloud_tracking import _telemetry
        from ordercloud_tracking._requests import RequestSpec
        trace.set_tracer_provider(TracerProvider())
        assert _telemetry.start_call(RequestSpec("GET", "me"), ("h", 443, "/v1/")) is None
        print("ok")
    """
    assert _run(code, OTEL_SDK_DISABLED="true") == "ok"


def _run(code: str, **env: str) -> str:
    result = subprocess.run(  # noqa: S603 - this interpreter on a fixed script
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


# -------------------------------------------- helpers for the receiver, consumers and forwarder
def test_delivery_span_records_the_delivery_and_its_outcome(otel: Telemetry) -> None:
    with telemetry.delivery_span("OrderSubmitted", "dk-1") as span:
        span.set("ordercloud.duplicate", False)
        span.set("ordercloud.signature", "valid")
    [recorded] = otel.spans
    assert recorded.name == "ordercloud.delivery OrderSubmitted"
    assert recorded.kind is SpanKind.SERVER
    assert attrs_of(recorded) == {
        "ordercloud.event_type": "OrderSubmitted",
        "ordercloud.delivery_key": "dk-1",
        "ordercloud.duplicate": False,
        "ordercloud.signature": "valid",
    }


def test_a_failing_handler_marks_the_span_as_an_error_and_reraises(otel: Telemetry) -> None:
    with pytest.raises(KeyError), telemetry.delivery_span(None, None):
        raise KeyError("boom")
    [recorded] = otel.spans
    assert recorded.status.status_code is StatusCode.ERROR
    assert attrs_of(recorded)["error.type"] == "KeyError"


def test_the_trace_crosses_kafka_headers_from_producer_to_record_span(otel: Telemetry) -> None:
    tracer = otel.tracer_provider.get_tracer("forwarder")
    headers: list[tuple[str, bytes]] = [("x-other", b"1")]
    with tracer.start_as_current_span("earlier hop"):
        telemetry.inject_context(headers)
    with tracer.start_as_current_span("forward") as producer:
        telemetry.inject_context(headers)  # a re-forwarded record carries the current context only
    assert [key for key, _ in headers] == ["x-other", "traceparent"]

    with telemetry.record_span("oc-events", 3, 42, event_type="OrderSubmitted", headers=headers) as span:
        span.set("ordercloud.attempts", 1)
        span.set("ordercloud.dead_lettered", False)

    [consumed] = otel.named("process oc-events")
    assert consumed.kind is SpanKind.CONSUMER
    assert consumed.context.trace_id == producer.get_span_context().trace_id
    assert consumed.parent is not None
    assert consumed.parent.span_id == producer.get_span_context().span_id
    assert attrs_of(consumed) == {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": "oc-events",
        "messaging.destination.partition.id": "3",
        "messaging.kafka.offset": 42,
        "ordercloud.event_type": "OrderSubmitted",
        "ordercloud.attempts": 1,
        "ordercloud.dead_lettered": False,
    }


def test_the_metric_instruments_report(otel: Telemetry) -> None:
    telemetry.count("deliveries", attributes={"ordercloud.event_type": "OrderSubmitted"})
    telemetry.count("records")
    telemetry.count("duplicates", 2)
    telemetry.count("dead_lettered")
    telemetry.set_consumer_lag("oc-events", 0, "group-a", 17)
    with telemetry.handler_timer("OrderSubmitted"):
        pass

    assert [p.value for p in otel.metric_points("ordercloud_tracking.deliveries")] == [1]
    assert [p.value for p in otel.metric_points("ordercloud_tracking.records")] == [1]
    assert [p.value for p in otel.metric_points("ordercloud_tracking.duplicates")] == [2]
    assert [p.value for p in otel.metric_points("ordercloud_tracking.dead_lettered")] == [1]
    [lag] = otel.metric_points("ordercloud_tracking.consumer.lag")
    assert lag.value == 17
    assert dict(lag.attributes)["messaging.destination.partition.id"] == "0"
    [duration] = otel.metric_points("ordercloud_tracking.handler.duration")
    assert duration.count == 1


# ------------------------------------------------------------------------------------ the receiver
RECEIVER_SECRET = "receiver-secret-5e5e"
ORDER_BODY = b'{"OrderID": "o-1", "OrderTotal": 20, "LineItems": []}'
LOGIN_BODY = b'{"UserContext": {"ID": "u-1", "AnonymousId": "beacon-anon-3c3c"}, "FirstName": "Jane"}'


def _wsgi_post(app: Any, body: bytes, *, signature: str | None = None, method: str = "POST") -> str:
    statuses: list[str] = []
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": BytesIO(body),
        "HTTP_X_OC_HASH": sign_payload(body, RECEIVER_SECRET) if signature is None else signature,
    }
    if signature == "":
        del environ["HTTP_X_OC_HASH"]
    app(environ, lambda status, headers: statuses.append(status))
    return statuses[0]


def _points(otel: Telemetry, name: str) -> dict[tuple[tuple[str, Any], ...], Any]:
    return {tuple(sorted(dict(p.attributes).items())): p for p in otel.metric_points(name)}


def test_a_delivery_is_a_server_span_with_its_event_type_key_dedupe_and_outcome(otel: Telemetry) -> None:
    app = wsgi_app(lambda delivery: None, Receiver(RECEIVER_SECRET))
    assert _wsgi_post(app, ORDER_BODY) == "200 OK"
    assert _wsgi_post(app, ORDER_BODY) == "200 OK"  # OrderCloud's redelivery

    first, second = otel.named("ordercloud.delivery OrderSubmitted")
    assert first.kind is SpanKind.SERVER
    assert attrs_of(first) == {
        "ordercloud.signature": "valid",
        "ordercloud.event_type": "OrderSubmitted",
        "ordercloud.delivery_key": "order:o-1",
        "ordercloud.dedupe": "new",
        "ordercloud.duplicate": False,
        "http.response.status_code": 200,
        "ordercloud.outcome": "processed",
    }
    assert attrs_of(second)["ordercloud.duplicate"] is True
    assert attrs_of(second)["ordercloud.outcome"] == "duplicate"
    assert first.status.status_code is StatusCode.UNSET

    deliveries = _points(otel, "ordercloud_tracking.deliveries")
    assert {key: point.value for key, point in deliveries.items()} == {
        (("ordercloud.event_type", "OrderSubmitted"), ("ordercloud.outcome", "processed")): 1,
        (("ordercloud.event_type", "OrderSubmitted"), ("ordercloud.outcome", "duplicate")): 1,
    }
    assert [p.value for p in otel.metric_points("ordercloud_tracking.duplicates")] == [1]
    [duration] = otel.metric_points("ordercloud_tracking.handler.duration")
    assert duration.count == 1  # the handler ran once
    assert dict(duration.attributes) == {"ordercloud.event_type": "OrderSubmitted"}


def test_a_refused_signature_is_recorded_as_missing_or_invalid(otel: Telemetry) -> None:
    app = wsgi_app(lambda delivery: None, Receiver(RECEIVER_SECRET))
    assert _wsgi_post(app, ORDER_BODY, signature="") == "401 Unauthorized"
    assert _wsgi_post(app, ORDER_BODY, signature=sign_payload(ORDER_BODY, "wrong")) == "403 Forbidden"
    assert _wsgi_post(app, b"[1]") == "400 Bad Request"

    missing, invalid, bad_json = otel.named("ordercloud.delivery unknown")
    assert attrs_of(missing) == {
        "ordercloud.signature": "missing",
        "http.response.status_code": 401,
        "ordercloud.outcome": "signature_missing",
    }
    assert attrs_of(invalid)["ordercloud.signature"] == "invalid"
    assert attrs_of(invalid)["ordercloud.outcome"] == "signature_invalid"
    assert attrs_of(bad_json)["ordercloud.signature"] == "valid"
    assert attrs_of(bad_json)["ordercloud.outcome"] == "invalid_payload"
    outcomes = {dict(p.attributes)["ordercloud.outcome"] for p in otel.metric_points("ordercloud_tracking.deliveries")}
    assert outcomes == {"signature_missing", "signature_invalid", "invalid_payload"}


def test_a_failing_handler_ends_the_delivery_span_in_error(otel: Telemetry) -> None:
    def handler(delivery: Delivery) -> None:
        raise ValueError("the warehouse is down")

    app = wsgi_app(handler, Receiver(RECEIVER_SECRET))
    assert _wsgi_post(app, ORDER_BODY) == "500 Internal Server Error"

    [span] = otel.named("ordercloud.delivery OrderSubmitted")
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span)["error.type"] == "ValueError"
    assert attrs_of(span)["ordercloud.outcome"] == "handler_failed"
    assert "warehouse" not in str(span.to_json())  # the exception's message stays in the logs


def test_a_get_is_answered_without_a_delivery_span(otel: Telemetry) -> None:
    app = wsgi_app(lambda delivery: None, Receiver(RECEIVER_SECRET))
    assert _wsgi_post(app, b"", method="GET") == "405 Method Not Allowed"
    assert otel.spans == []


def test_a_login_delivery_key_is_hashed_so_no_user_or_anonuserid_is_in_the_span(otel: Telemetry) -> None:
    app = wsgi_app(lambda delivery: None, Receiver(RECEIVER_SECRET))
    assert _wsgi_post(app, LOGIN_BODY) == "200 OK"

    [span] = otel.named("ordercloud.delivery UserLoggedIn")
    key = attrs_of(span)["ordercloud.delivery_key"]
    assert key.startswith("session:")
    assert len(key) == len("session:") + 16
    assert _leaks([span], {"beacon-anon-3c3c", "u-1", RECEIVER_SECRET}) == []


async def test_asgi_handlers_run_inside_the_delivery_span_sync_and_async(otel: Telemetry) -> None:
    tracer = otel.tracer_provider.get_tracer("shop")

    async def async_handler(delivery: Delivery) -> None:
        with tracer.start_as_current_span("async handler"):
            pass

    def plain_handler(delivery: Delivery) -> None:  # runs in a worker thread: the context goes with it
        with tracer.start_as_current_span("plain handler"):
            pass

    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": ORDER_BODY, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    headers = [(b"x-oc-hash", sign_payload(ORDER_BODY, RECEIVER_SECRET).encode())]
    for handler in (async_handler, plain_handler):
        app = asgi_app(handler, Receiver(RECEIVER_SECRET, dedupe=None))
        await app({"type": "http", "method": "POST", "headers": headers, "query_string": b""}, receive, send)
    assert [message["status"] for message in sent if "status" in message] == [200, 200]

    deliveries = otel.named("ordercloud.delivery OrderSubmitted")
    assert len(deliveries) == 2
    for delivery_span, name in zip(deliveries, ("async handler", "plain handler"), strict=True):
        [child] = otel.named(name)
        assert child.parent is not None
        assert child.parent.span_id == delivery_span.context.span_id
        assert attrs_of(delivery_span)["ordercloud.outcome"] == "processed"
