"""Issue 15: what OpenTelemetry costs a sync ``tracking_events.get``.

Subjects, side by side in this one process launch against one loopback server (see ``_harness``), all
the same ``OrderCloud`` client; only the telemetry hook's state differs, set before every call (the
same one assignment for every subject):

* ``telemetry off`` — the hook's state when ``opentelemetry-api`` is not installed (or
  ``configure_telemetry(enabled=False)``): the base;
* ``opentelemetry-api, no SDK`` — the API is imported and the global tracer provider is still the
  API's proxy (the application never set one up);
* ``SDK + no-op exporter`` — an SDK ``TracerProvider`` with a ``SimpleSpanProcessor`` whose exporter
  drops every span: the span and its attributes are built and ended for every call.

Target: the API without an SDK costs <= 1.03x the call without telemetry; the SDK ratio is reported.

The same three states for the receiver and the consumer (issue 15, second part), in process, no I/O:

* a signed ``OrderSubmitted`` delivery through ``wsgi_app`` (verify, parse, dedupe off, a no-op
  handler): the delivery span, the deliveries counter and the handler timer;
* one Kafka record through ``TrackingConsumer's record steps`` (decode, dedupe off, a no-op handler) on a
  stand-in record object: the record span (continuing a ``traceparent`` header), the records counter
  and the handler timer.

With the SDK, a ``MeterProvider`` without readers is given as well, so the instruments are real.
"""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import CLIENT_ID, CLIENT_SECRET, LoopbackServer, main, row, time_interleaved

EVENT_ID = "te-submit-web"
ITERATIONS = 50
ROUNDS = 61
OFF = "telemetry off (as without the otel extra)"
API = "opentelemetry-api, no SDK configured"
SDK = "SDK TracerProvider + no-op exporter"


def run() -> list[dict[str, Any]]:
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    from ordercloud_tracking import OrderCloud
    from ordercloud_tracking import _telemetry as telemetry

    class NoOpExporter(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(NoOpExporter()))
    states: dict[str, Any] = {
        OFF: None,
        API: telemetry._Telemetry(None, None, http_spans=False),
        SDK: telemetry._Telemetry(provider, None, http_spans=False),
    }
    assert not states[API].recording()
    assert states[SDK].recording()

    with LoopbackServer() as server:
        client = OrderCloud(CLIENT_ID, CLIENT_SECRET, base_url=server.base_url)
        client.get_access_token()

        def subject(state: object) -> Callable[[], object]:
            def get() -> object:
                telemetry._state = state
                return client.tracking_events.get(EVENT_ID)

            return get

        subjects = {name: subject(state) for name, state in states.items()}
        for fn in subjects.values():
            fn()
        try:
            t = time_interleaved(subjects, iterations=ITERATIONS, rounds=ROUNDS)
            hook = _hook_cost(client, states)
        finally:
            telemetry.configure_telemetry()
            client.close()
    bench = "tracking_events.get (sync), OpenTelemetry"
    added = hook[API] - hook[OFF]
    return [
        row(
            bench,
            API,
            t[API],
            OFF,
            t[OFF],
            "<= 1.03x",
            note=f"the hook alone (no I/O, best of 5): {hook[OFF] * 1e9:.0f} ns off, {hook[API] * 1e9:.0f} ns with "
            f"the API and no SDK: +{added * 1e9:.0f} ns = {added / t[OFF].median_s:.4%} of a get",
        ),
        row(bench, SDK, t[SDK], OFF, t[OFF], note="one CLIENT span per call, exported to a no-op exporter"),
        *_receiver_and_consumer(provider),
    ]


ORDER = b'{"OrderID": "o-1", "OrderTotal": 20, "LineItems": []}'
TRACEPARENT = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class _Record:
    """What ``confluent_kafka.Message`` offers the consumer, without a broker."""

    def __init__(self, offset: int) -> None:
        self._offset = offset

    def topic(self) -> str:
        return "tracking"

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return b"order:o-1"

    def value(self) -> bytes:
        return ORDER

    def headers(self) -> list[tuple[str, bytes]]:
        return [("type", b"sitecore.ordercloud.messages.orders.submitted"), ("traceparent", TRACEPARENT)]

    def error(self) -> None:
        return None


def _receiver_and_consumer(provider: Any) -> list[dict[str, Any]]:
    from io import BytesIO

    from opentelemetry.sdk.metrics import MeterProvider

    from ordercloud_tracking import _telemetry as telemetry
    from ordercloud_tracking.receiver import Receiver, sign_payload, wsgi_app
    from ordercloud_tracking.streams import KafkaSettings, TrackingConsumer
    from ordercloud_tracking.streams._core import Partition

    states: dict[str, Any] = {
        OFF: None,
        API: telemetry._Telemetry(None, None, http_spans=False),
        SDK: telemetry._Telemetry(provider, MeterProvider(), http_spans=False),
    }
    app = wsgi_app(lambda delivery: None, Receiver("bench-secret", dedupe=None))
    signature = sign_payload(ORDER, "bench-secret")

    def deliver() -> object:
        environ = {
            "REQUEST_METHOD": "POST",
            "CONTENT_LENGTH": str(len(ORDER)),
            "wsgi.input": BytesIO(ORDER),
            "HTTP_X_OC_HASH": signature,
        }
        return app(environ, lambda status, headers: None)

    consumer = TrackingConsumer(KafkaSettings("127.0.0.1:1", "tracking", group_id="bench"), dedupe=None)
    part = Partition("tracking", 0)
    record = _Record(0)

    def consume() -> object:
        return consumer._perform(part, consumer._record_steps(record), lambda delivery: None)

    def subject(state: object, fn: Callable[[], object]) -> Callable[[], object]:
        def call() -> object:
            telemetry._state = state
            return fn()

        return call

    def delivery_hooks() -> None:  # what wsgi_app adds to a delivery
        with telemetry.delivery_span(None, None), telemetry.handler_timer("OrderSubmitted"):
            telemetry.instruments()

    def record_hooks() -> None:  # what the consumer adds to a record
        telemetry.tracing()
        with telemetry.handler_timer("OrderSubmitted", "tracking"):
            pass
        telemetry.record_outcome("processed", "tracking", 1, "OrderSubmitted")

    rows = []
    try:
        for bench, fn, hooks, what in (
            ("wsgi_app delivery (in process), OpenTelemetry", deliver, delivery_hooks, "one SERVER span per delivery"),
            (
                "consumer record (TrackingConsumer's record steps, no broker), OpenTelemetry",
                consume,
                record_hooks,
                "one CONSUMER span",
            ),
        ):
            subjects = {name: subject(state, fn) for name, state in states.items()}
            t = time_interleaved(subjects, iterations=500, rounds=31)
            cost = {}
            for name in (OFF, API):
                telemetry._state = states[name]
                cost[name] = min(timeit.repeat(hooks, number=20_000, repeat=5)) / 20_000
            added = cost[API] - cost[OFF]
            rows += [
                row(
                    bench,
                    API,
                    t[API],
                    OFF,
                    t[OFF],
                    note=f"the hooks alone (no I/O, best of 5): {cost[OFF] * 1e9:.0f} ns off, {cost[API] * 1e9:.0f} ns "
                    f"with the API and no SDK: +{added * 1e9:.0f} ns = {added / t[OFF].median_s:.2%} of the path",
                ),
                row(bench, SDK, t[SDK], OFF, t[OFF], note=f"{what} (no-op exporter) and its metrics"),
            ]
    finally:
        telemetry.configure_telemetry()
    return rows


def _hook_cost(client: Any, states: dict[str, object]) -> dict[str, float]:
    """Seconds per ``start_call`` (what the executor does before sending) in each state, without I/O."""
    from ordercloud_tracking import _telemetry as telemetry

    spec = client.tracking_events._endpoint.get(EVENT_ID, {})
    server = client._server
    costs = {}
    for name in (OFF, API):
        telemetry._state = states[name]
        costs[name] = min(timeit.repeat(lambda: telemetry.start_call(spec, server), number=20_000, repeat=5)) / 20_000
    return costs


if __name__ == "__main__":
    main(run)
