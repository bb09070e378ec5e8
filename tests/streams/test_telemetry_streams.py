"""OpenTelemetry across Kafka (issue 15): one trace from the HTTP delivery through the forwarder and the
broker to the consumer's handler; a span and metrics per record; no secret in any attribute or event.

Runs on the test cluster (librdkafka's mock cluster) with the OpenTelemetry SDK's in-memory exporter and
reader, given through ``configure_telemetry`` so the process-wide providers stay unset.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from io import BytesIO

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from ordercloud_tracking import configure_telemetry
from ordercloud_tracking.models.commerce import LineItem
from ordercloud_tracking.receiver import Receiver, asgi_app, sign_payload, wsgi_app
from ordercloud_tracking.streams import KafkaDelivery, KafkaForwarder, KafkaSettings
from ordercloud_tracking.testing import FakeOrderCloud, KafkaCluster
from tests.test_telemetry import Telemetry, _leaks, attrs_of

from .conftest import ORDER_SUBMITTED, order_body, produce, start
from .test_forwarder import SECRET, asgi_post, wsgi_post


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    found = Telemetry()
    configure_telemetry(tracer_provider=found.tracer_provider, meter_provider=found.meter_provider)
    yield found
    configure_telemetry()
    found.tracer_provider.shutdown()
    found.meter_provider.shutdown()


def settings_for(cluster: KafkaCluster) -> KafkaSettings:
    return KafkaSettings(cluster.bootstrap_servers, "tracking", group_id="shop")


def metric(otel: Telemetry, name: str) -> dict[str, int]:
    """The points of a counter by outcome (or, without one, by topic)."""
    found: dict[str, int] = {}
    for point in otel.metric_points(name):
        labels = dict(point.attributes)
        found[str(labels.get("ordercloud.outcome", labels.get("messaging.destination.name")))] = point.value
    return found


def only(otel: Telemetry, name: str) -> ReadableSpan:
    [span] = otel.named(name)
    return span


# ------------------------------------------------------------------- the trace across the Kafka hop
def test_one_trace_runs_from_the_http_delivery_through_kafka_to_the_consumers_handler(
    cluster: KafkaCluster, otel: Telemetry, kind: str
) -> None:
    cluster.create_topic("tracking", partitions=2)
    body = order_body("o-1")
    with KafkaForwarder(settings_for(cluster)) as forwarder:
        if kind == "sync":
            assert wsgi_post(wsgi_app(forwarder, Receiver(SECRET)), body) == "200 OK"
        else:
            assert asyncio.run(asgi_post(asgi_app(forwarder.forward_async, Receiver(SECRET)), body)) == 200

    tracer = otel.tracer_provider.get_tracer("shop")
    handled: list[str] = []

    def plain(delivery: KafkaDelivery) -> None:
        with tracer.start_as_current_span("shop handler"):
            handled.append(delivery.delivery_key)

    async def coroutine(delivery: KafkaDelivery) -> None:
        plain(delivery)

    running = start(kind, settings_for(cluster), plain if kind == "sync" else coroutine)
    running.wait_for(lambda: bool(handled))
    running.stop()

    delivery = only(otel, "ordercloud.delivery OrderSubmitted")
    send = only(otel, "send tracking")
    process = only(otel, "process tracking")
    handler = only(otel, "shop handler")
    assert {span.context.trace_id for span in (delivery, send, process, handler)} == {delivery.context.trace_id}
    assert send.parent is not None
    assert send.parent.span_id == delivery.context.span_id
    assert process.parent is not None
    assert process.parent.span_id == send.context.span_id
    assert handler.parent is not None
    assert handler.parent.span_id == process.context.span_id
    assert (delivery.kind, send.kind, process.kind) == (SpanKind.SERVER, SpanKind.PRODUCER, SpanKind.CONSUMER)

    record = attrs_of(process)
    partition = int(record.pop("messaging.destination.partition.id"))
    assert partition in (0, 1)
    assert record == {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": "tracking",
        "messaging.kafka.offset": 0,
        "messaging.consumer.group.name": "shop",
        "ordercloud.event_type": "OrderSubmitted",
        "ordercloud.outcome": "processed",
        "ordercloud.attempts": 1,
        "ordercloud.dead_lettered": False,
    }
    assert attrs_of(send)["messaging.destination.name"] == "tracking"
    assert metric(otel, "ordercloud_tracking.records") == {"processed": 1}
    assert metric(otel, "ordercloud_tracking.deliveries") == {"processed": 1}
    durations = {
        dict(p.attributes).get("messaging.destination.name"): p.count
        for p in otel.metric_points("ordercloud_tracking.handler.duration")
    }
    assert durations == {None: 1, "tracking": 1}  # the forwarder behind the receiver, the consumer's handler


# ----------------------------------------------------------------- retries, dead letters, duplicates
def test_a_record_that_fails_every_attempt_is_a_dead_lettered_span_with_its_attempts(
    cluster: KafkaCluster, otel: Telemetry, kind: str
) -> None:
    cluster.create_topic("tracking", partitions=1)
    produce(
        cluster.bootstrap_servers, "tracking", [order_body("o-bad")], headers=[[("type", ORDER_SUBMITTED.encode())]]
    )

    def handle(delivery: KafkaDelivery) -> None:
        raise ValueError("warehouse said no")

    running = start(kind, settings_for(cluster), handle, retries=2)
    running.wait_for(lambda: running.consumer.stats.dead_lettered == 1)
    running.stop()

    span = only(otel, "process tracking")
    assert span.parent is None  # no trace context in the headers: a new trace
    assert attrs_of(span)["ordercloud.attempts"] == 3
    assert attrs_of(span)["ordercloud.dead_lettered"] is True
    assert attrs_of(span)["ordercloud.outcome"] == "dead_lettered"
    assert span.status.status_code is StatusCode.ERROR
    assert attrs_of(span)["error.type"] == "ValueError"
    assert "warehouse" not in span.to_json()
    assert metric(otel, "ordercloud_tracking.retries") == {"tracking": 2}
    assert metric(otel, "ordercloud_tracking.dead_lettered") == {"tracking": 1}
    assert metric(otel, "ordercloud_tracking.records") == {"dead_lettered": 1}
    [duration] = otel.metric_points("ordercloud_tracking.handler.duration")
    assert duration.count == 3


def test_a_redelivered_record_is_a_duplicate_span_and_counted(cluster: KafkaCluster, otel: Telemetry) -> None:
    cluster.create_topic("tracking", partitions=1)
    produce(cluster.bootstrap_servers, "tracking", [order_body("o-1"), order_body("o-1"), order_body("o-2")])
    handled: list[str] = []
    running = start("sync", settings_for(cluster), lambda d: handled.append(d.delivery_key))
    running.wait_for(lambda: running.consumer.stats.processed + running.consumer.stats.duplicates == 3)
    running.stop()

    first, second, third = sorted(otel.named("process tracking"), key=lambda s: attrs_of(s)["messaging.kafka.offset"])
    assert attrs_of(first)["ordercloud.outcome"] == "processed"
    assert (attrs_of(second)["ordercloud.outcome"], attrs_of(second)["ordercloud.attempts"]) == ("duplicate", 0)
    assert attrs_of(third)["ordercloud.outcome"] == "processed"
    assert metric(otel, "ordercloud_tracking.duplicates") == {"tracking": 1}
    assert metric(otel, "ordercloud_tracking.records") == {"processed": 2, "duplicate": 1}
    assert handled == ["order:o-1", "order:o-2"]


# ---------------------------------------------------------------------------------- consumer lag
def _lag(otel: Telemetry) -> dict[tuple[str, str, str], int]:
    return {
        (
            str(dict(p.attributes)["messaging.destination.name"]),
            str(dict(p.attributes)["messaging.destination.partition.id"]),
            str(dict(p.attributes)["messaging.consumer.group.name"]),
        ): p.value
        for p in otel.metric_points("ordercloud_tracking.consumer.lag")
    }


def test_the_lag_of_each_partition_is_a_gauge_until_the_partition_is_revoked(
    cluster: KafkaCluster, otel: Telemetry, kind: str
) -> None:
    cluster.create_topic("tracking", partitions=2)
    produce(cluster.bootstrap_servers, "tracking", [order_body(f"o-{n}") for n in range(5)], partition=1)
    seen: list[dict[tuple[str, str, str], int]] = []

    def handle(delivery: KafkaDelivery) -> None:
        if delivery.offset == 1:  # record 0 is done, 1..4 are not: the lag of partition 1 is 4
            deadline = time.monotonic() + 30
            while _lag(otel).get(("tracking", "1", "shop")) != 4 and time.monotonic() < deadline:
                time.sleep(0.02)
            seen.append(_lag(otel))

    async def coroutine(delivery: KafkaDelivery) -> None:
        await asyncio.to_thread(handle, delivery)

    running = start(kind, settings_for(cluster), handle if kind == "sync" else coroutine)
    running.wait_for(lambda: running.consumer.stats.processed == 5)
    running.stop()

    assert seen[0][("tracking", "1", "shop")] == 4
    assert seen[0].get(("tracking", "0", "shop"), 0) == 0
    assert _lag(otel) == {}  # revoked at close: no longer reported


# ------------------------------------------------------------------------------------- no secrets
def test_no_secret_token_password_connection_string_or_anonuserid_in_any_attribute_over_a_full_flow(
    cluster: KafkaCluster, otel: Telemetry
) -> None:
    """Receiver (with a custom auth header) → forwarder → Kafka → consumer whose handler calls the API as
    an anonymous shopper and fails once with credentials in its message."""
    connection_string = "Endpoint=sb://shop.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=eh-key-6b6b"
    sasl_password = "sasl-password-2e2e"
    custom = "custom-auth-8d8d"
    anon = "beacon-anon-3c3c"
    cluster.create_topic("tracking", partitions=2)
    login = b'{"UserContext": {"AnonymousId": "beacon-anon-3c3c"}, "FirstName": "Jane"}'  # key: session:{anon}
    receiver = Receiver(SECRET, custom_auth_header=("X-Api-Key", custom))
    with KafkaForwarder(settings_for(cluster)) as forwarder:
        app = wsgi_app(forwarder, receiver)
        for body in (login, order_body("o-1")):
            statuses: list[str] = []
            environ = {
                "REQUEST_METHOD": "POST",
                "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": BytesIO(body),
                "HTTP_X_OC_HASH": sign_payload(body, SECRET),
                "HTTP_X_API_KEY": custom,
            }
            app(environ, lambda status, headers: statuses.append(status))  # noqa: B023 - called at once
            assert statuses == ["200 OK"]

    fake = FakeOrderCloud()
    shopper = fake.shopper(anon_user_id=anon)
    handled: list[str] = []

    def handle(delivery: KafkaDelivery) -> None:
        if not handled:
            handled.append("failed")
            raise ConnectionError(f"broker refused {sasl_password} / {connection_string}")
        shopper.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=1))
        handled.append(delivery.delivery_key)

    running = start("sync", settings_for(cluster), handle)
    running.wait_for(lambda: len(handled) == 3)
    running.stop()
    shopper.client.close()

    secrets = {
        SECRET,
        custom,
        anon,
        sasl_password,
        connection_string,
        "eh-key-6b6b",
        *fake.api.tokens,
        *fake.api.refresh_tokens,
        *fake.api.client_secrets.values(),
    }
    secrets.discard("")
    spans = otel.spans
    names = {span.name for span in spans}
    assert {"ordercloud.delivery UserLoggedIn", "send tracking", "process tracking", "cart.add_line_item"} <= names
    assert len(fake.api.tokens) >= 1
    assert [a for s in otel.named("process tracking") if (a := attrs_of(s))["ordercloud.attempts"] == 2]
    assert _leaks(spans, secrets) == []
    fake.close()
