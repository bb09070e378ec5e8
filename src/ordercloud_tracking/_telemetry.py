"""OpenTelemetry traces and metrics, with ``opentelemetry-api`` optional (the ``otel`` extra).

Nothing here imports OpenTelemetry at import time. The first SDK call looks for it once; without it
(or after ``configure_telemetry(enabled=False)``) every hook is one global read and a ``None`` check.
With the API installed but no SDK configured (the global tracer provider is still the API's proxy)
the hooks return just as early, so an application that never sets up OpenTelemetry pays nothing.

What is recorded (instrumentation scope ``ordercloud_tracking``):

* one span per SDK call, named ``resource.operation`` (``tracking_events.get``), kind ``CLIENT``,
  with the HTTP semantic conventions: ``http.request.method``, ``server.address``/``server.port``,
  ``url.template`` (the path *template*, never the path with IDs), ``http.response.status_code``,
  ``http.request.resend_count``; on failure ``error.type`` (OrderCloud's ``ErrorCode`` when it gave
  one) and ``ordercloud.error_code``. Retries (``ordercloud.retry``) and token requests
  (``ordercloud.token_request``, ``ordercloud.token_rejected``) are span events.
* ``opentelemetry-instrumentation-httpx`` is suppressed inside that span (one span per logical call);
  ``configure_telemetry(http_spans=True)`` keeps httpx's spans, one per attempt, as children of
  ours, which then becomes ``INTERNAL`` so that each HTTP exchange has exactly one ``CLIENT`` span.
* metrics: see :class:`Instruments`.

No attribute ever holds a token, secret, password, query string or body: only the values above.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl

from ._version import __version__

if TYPE_CHECKING:
    from types import TracebackType

    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Span, TracerProvider

    from ._requests import RequestSpec

__all__ = [
    "SCOPE",
    "Call",
    "Instruments",
    "SpanHandle",
    "configure_telemetry",
    "count",
    "delivery_span",
    "extract_context",
    "handler_timer",
    "inject_context",
    "instruments",
    "producer_span",
    "record_outcome",
    "record_span",
    "retry_event",
    "set_consumer_lag",
    "start_call",
    "token_rejected",
    "token_requested",
    "tracing",
]

#: The instrumentation scope (tracer and meter name).
SCOPE: Final = "ordercloud_tracking"

_UNLOADED: Final[Any] = object()


class Instruments:
    """The metric instruments, created once on the meter of scope ``ordercloud_tracking``.

    * ``deliveries`` (counter, ``{delivery}``): deliveries processed by the receiver; attributes
      ``ordercloud.event_type``, ``ordercloud.outcome``;
    * ``records`` (counter, ``{record}``): Kafka records processed; ``messaging.destination.name``, outcome;
    * ``duplicates`` (counter): deliveries or records skipped as duplicates;
    * ``retries`` (counter): retried HTTP requests (``ordercloud.operation``) and handler retries;
    * ``dead_lettered`` (counter): records sent to the dead-letter topic;
    * ``handler_duration`` (histogram, ``s``): how long a handler took;
    * ``consumer_lag`` (observable gauge, ``{record}``): lag per topic and partition, from
      :func:`set_consumer_lag`.
    """

    def __init__(self, meter: Any) -> None:
        self.deliveries = meter.create_counter(
            "ordercloud_tracking.deliveries", unit="{delivery}", description="Deliveries processed"
        )
        self.records = meter.create_counter(
            "ordercloud_tracking.records", unit="{record}", description="Kafka records processed"
        )
        self.duplicates = meter.create_counter(
            "ordercloud_tracking.duplicates",
            unit="{message}",
            description="Deliveries or records skipped as duplicates",
        )
        self.retries = meter.create_counter(
            "ordercloud_tracking.retries", unit="{retry}", description="Retried requests and handler calls"
        )
        self.dead_lettered = meter.create_counter(
            "ordercloud_tracking.dead_lettered", unit="{record}", description="Records sent to the dead-letter topic"
        )
        self.handler_duration = meter.create_histogram(
            "ordercloud_tracking.handler.duration", unit="s", description="Handler duration"
        )
        self.lag: dict[tuple[str, int, str], int] = {}
        self.consumer_lag = meter.create_observable_gauge(
            "ordercloud_tracking.consumer.lag",
            callbacks=[self._observe_lag],
            unit="{record}",
            description="Records not yet consumed, per topic and partition",
        )

    def _observe_lag(self, options: Any) -> Iterator[Any]:
        from opentelemetry.metrics import Observation

        for (topic, partition, group), lag in list(self.lag.items()):
            yield Observation(
                lag,
                {
                    "messaging.destination.name": topic,
                    "messaging.destination.partition.id": str(partition),
                    "messaging.consumer.group.name": group,
                },
            )


class _Telemetry:
    """What the hooks need once OpenTelemetry is importable."""

    def __init__(self, tracer_provider: TracerProvider | None, meter_provider: MeterProvider | None, http_spans: bool):
        from opentelemetry import context, metrics, propagate, trace

        self.trace = trace
        self.context = context
        self.propagate = propagate
        self.tracer = trace.get_tracer(SCOPE, __version__, tracer_provider=tracer_provider)
        # An explicit provider is used as given; the global one only once the application has set one.
        self.explicit = tracer_provider is not None
        trace.get_tracer_provider()  # sets the global provider named by OTEL_PYTHON_TRACER_PROVIDER, if any
        # Read on every call: ``get_tracer_provider()`` costs an ``os.environ`` lookup (~1 µs) each time,
        # the module attribute it reads is one dict lookup. The fallback covers an API that renames it.
        self.global_set: Callable[[], bool] = (
            (lambda: trace._TRACER_PROVIDER is not None)
            if hasattr(trace, "_TRACER_PROVIDER")
            else (lambda: not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider))
        )
        self.kind = trace.SpanKind.INTERNAL if http_spans else trace.SpanKind.CLIENT
        self.suppress: Any = None
        if not http_spans:
            try:
                from opentelemetry.instrumentation.utils import suppress_http_instrumentation
            except ImportError:  # opentelemetry-instrumentation is absent: there is nothing to suppress
                pass
            else:
                self.suppress = suppress_http_instrumentation
        self.instruments = Instruments(metrics.get_meter(SCOPE, __version__, meter_provider=meter_provider))
        # Metrics, likewise, only once a meter provider was given or the application set a global one:
        # until then the API's proxy instruments would drop every value, at the cost of the calls.
        self.meter_explicit = meter_provider is not None
        metrics.get_meter_provider()  # sets the global provider named by OTEL_PYTHON_METER_PROVIDER, if any
        self.meter_set: Callable[[], bool] = lambda: True  # an API that moved the global: always record
        try:
            from opentelemetry.metrics import _internal as metrics_internal
        except ImportError:
            pass
        else:
            if hasattr(metrics_internal, "_METER_PROVIDER"):
                self.meter_set = lambda: metrics_internal._METER_PROVIDER is not None

    def recording(self) -> bool:
        """Whether spans can be recorded: a provider was given, or the application set a global one."""
        return self.explicit or self.global_set()

    def metering(self) -> bool:
        """Whether metrics can be recorded: a meter provider was given, or the application set a global one."""
        return self.meter_explicit or self.meter_set()


_state: Any = _UNLOADED  # _Telemetry, None (absent or disabled), or not looked for yet
_options: dict[str, Any] = {"tracer_provider": None, "meter_provider": None, "http_spans": False}


_load_lock = threading.Lock()


def _load() -> _Telemetry | None:
    global _state
    with _load_lock:  # once, even when the first calls come from several threads
        if _state is not _UNLOADED:
            return _state  # type: ignore[no-any-return]
        if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
            _state = None
            return None
        try:
            _state = _Telemetry(**_options)
        except ImportError:
            _state = None
        return _state  # type: ignore[no-any-return]


def _telemetry() -> _Telemetry | None:
    state = _state
    if state is _UNLOADED:
        return _load()
    return state  # type: ignore[no-any-return]


def configure_telemetry(
    *,
    enabled: bool = True,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    http_spans: bool = False,
) -> None:
    """Choose how the SDK reports to OpenTelemetry (needs ``pip install 'ordercloud-tracking[otel]'``).

    Without calling this, spans and metrics go to the global providers once the application sets
    them. ``tracer_provider`` / ``meter_provider`` send them to these providers instead;
    ``enabled=False`` turns the SDK's telemetry off; ``http_spans=True`` keeps the spans of
    ``opentelemetry-instrumentation-httpx`` (one per HTTP attempt, under the SDK call's span, which is
    then ``INTERNAL``) instead of suppressing them.

    >>> from ordercloud_tracking import configure_telemetry
    >>> configure_telemetry(enabled=False)   # no spans, no metrics from the SDK
    >>> configure_telemetry()                # back to the default: the global providers
    """
    global _state
    _options.update(tracer_provider=tracer_provider, meter_provider=meter_provider, http_spans=http_spans)
    _state = _UNLOADED if enabled else None


def instruments() -> Instruments | None:
    """The metric instruments, or ``None`` when OpenTelemetry is absent or disabled, or no meter provider is set up."""
    state = _telemetry()
    return None if state is None or not state.metering() else state.instruments


# ------------------------------------------------------------------------------------------ the client
def _error_type(exc: BaseException) -> tuple[str, int | None, str | None]:
    """``error.type``, the HTTP status and OrderCloud's ErrorCode of a failed call."""
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    code = getattr(exc, "error_code", None)
    code = code if isinstance(code, str) and code else None
    if code is not None:
        return code, status, code
    if status is not None:
        return str(status), status, None
    return type(exc).__qualname__, None, None


class Call:
    """The span of one SDK call; a context manager that makes it current. See :func:`start_call`."""

    __slots__ = ("_state", "_suppress", "_token", "operation", "span")

    def __init__(self, state: _Telemetry, span: Span, operation: str) -> None:
        self._state = state
        self.span = span
        self.operation = operation
        self._token: Any = None
        self._suppress: Any = None

    def __enter__(self) -> Call:
        state = self._state
        if state.suppress is not None:
            self._suppress = state.suppress()
            self._suppress.__enter__()
        self._token = state.context.attach(state.trace.set_span_in_context(self.span))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        state = self._state
        state.context.detach(self._token)
        if self._suppress is not None:
            self._suppress.__exit__(None, None, None)
        span = self.span
        if exc is not None and span.is_recording():
            error_type, status, code = _error_type(exc)
            span.set_attribute("error.type", error_type)
            if status is not None:
                span.set_attribute("http.response.status_code", status)
            if code is not None:
                span.set_attribute("ordercloud.error_code", code)
            span.set_status(state.trace.StatusCode.ERROR, type(exc).__name__)
        span.end()

    def succeeded(self, status_code: int) -> None:
        """Record the HTTP status of the successful answer."""
        self.span.set_attribute("http.response.status_code", status_code)


def start_call(spec: RequestSpec, server: tuple[str, int, str]) -> Call | None:
    """The span for one SDK call, not yet current (``with`` it); ``None`` when nothing would record it."""
    state = _recorder()
    if state is None:
        return None
    template = server[2] + spec.path_template
    operation = spec.operation or f"{spec.method} {template}"
    span = state.tracer.start_span(
        operation,
        kind=state.kind,
        attributes={
            "http.request.method": spec.method,
            "server.address": server[0],
            "server.port": server[1],
            "url.template": template,
            "ordercloud.operation": operation,
        },
    )
    return Call(state, span, operation)


def _current_span() -> Span | None:
    state = _state
    if state is None or state is _UNLOADED:
        return None
    span: Span = state.trace.get_current_span()
    return span if span.is_recording() else None


def retry_event(operation: str | None, retry_number: int, delay: float, reason: str) -> None:
    """A retry: an ``ordercloud.retry`` event on the current span and one on the retries counter.

    ``reason`` is ``"HTTP 503"`` or an exception class name; ``retry_number`` counts from 1.
    """
    state = _state
    if state is None or state is _UNLOADED:
        return
    state.instruments.retries.add(1, {"ordercloud.operation": operation or "unknown", "ordercloud.reason": reason})
    span = _current_span()
    if span is not None:
        span.set_attribute("http.request.resend_count", retry_number)
        span.add_event(
            "ordercloud.retry",
            {"http.request.resend_count": retry_number, "ordercloud.retry.delay_s": delay, "ordercloud.reason": reason},
        )


def token_requested(body: bytes) -> None:
    """A token request is about to be sent: an event naming its ``grant_type`` (and nothing else of the form)."""
    span = _current_span()
    if span is not None:
        grant_type = dict(parse_qsl(body.decode("ascii", "replace"))).get("grant_type", "unknown")
        span.add_event("ordercloud.token_request", {"ordercloud.grant_type": grant_type})


def token_rejected() -> None:
    """The API answered 401 to a cached token: the token is dropped and the request sent again."""
    span = _current_span()
    if span is not None:
        span.add_event("ordercloud.token_rejected")


# -------------------------------------------------- receiver, consumers and forwarder (the later parts)
class SpanHandle:
    """A span being recorded, or nothing (``span`` is ``None``): its methods are then free.

    Also the context manager that :func:`delivery_span` and :func:`record_span` return when nothing
    records: ``with`` it costs two method calls.
    """

    __slots__ = ("span",)

    def __init__(self, span: Span | None) -> None:
        self.span = span

    def __enter__(self) -> SpanHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def set(self, key: str, value: str | bool | int | float) -> None:
        """Set one attribute (never a credential)."""
        if self.span is not None:
            self.span.set_attribute(key, value)

    def rename(self, name: str) -> None:
        """Name the span once what it is about is known (a delivery's event type)."""
        if self.span is not None:
            self.span.update_name(name)

    def fail(self, error: BaseException | str) -> None:
        """Mark the span as failed: ``error.type`` is the exception's class (or ``error``) and the status ``ERROR``."""
        if self.span is not None:
            from opentelemetry.trace import StatusCode

            name = error if isinstance(error, str) else type(error).__qualname__
            self.span.set_attribute("error.type", name)
            self.span.set_status(StatusCode.ERROR, name)


_NO_SPAN: Final = SpanHandle(None)


def _recorder() -> _Telemetry | None:
    """The telemetry state when spans would be recorded, else ``None`` (one global read when off)."""
    state = _state
    if state is None:
        return None
    if state is _UNLOADED:
        state = _load()
        if state is None:
            return None
    return state if state.recording() else None


@contextmanager
def _recording_span(
    state: _Telemetry, name: str, kind: str, attributes: Mapping[str, Any], parent: Any
) -> Iterator[SpanHandle]:
    with state.tracer.start_as_current_span(
        name,
        context=parent,
        kind=getattr(state.trace.SpanKind, kind),
        attributes={k: v for k, v in attributes.items() if v is not None},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield SpanHandle(span)
        except BaseException as exc:
            span.set_attribute("error.type", type(exc).__qualname__)
            span.set_status(state.trace.StatusCode.ERROR, type(exc).__name__)
            raise


def delivery_span(event_type: str | None, delivery_key: str | None) -> Any:
    """The span of one delivery to the receiver (``with delivery_span(...) as span: span.set(...)``).

    Named ``ordercloud.delivery {event_type}``, kind ``SERVER``; set ``ordercloud.duplicate``,
    ``ordercloud.signature`` and ``ordercloud.outcome`` on it as they become known.

    >>> with delivery_span("OrderSubmitted", "key-1") as span:
    ...     span.set("ordercloud.duplicate", False)
    """
    state = _recorder()
    if state is None:
        return _NO_SPAN
    return _recording_span(
        state,
        f"ordercloud.delivery {event_type or 'unknown'}",
        "SERVER",
        {"ordercloud.event_type": event_type, "ordercloud.delivery_key": delivery_key},
        None,
    )


def record_span(
    topic: str,
    partition: int,
    offset: int,
    *,
    event_type: str | None = None,
    consumer_group: str | None = None,
    headers: Any = None,
) -> Any:
    """The span of one consumed Kafka record (messaging semantic conventions), kind ``CONSUMER``.

    ``headers`` (Kafka's ``[(key, bytes)]``, or a function returning them, called only when a span
    is recorded) carry the producer's W3C trace context: the span continues that trace. Set
    ``ordercloud.attempts`` and ``ordercloud.dead_lettered`` on it.

    >>> with record_span("tracking", 0, 41, consumer_group="shop") as span:
    ...     span.set("ordercloud.attempts", 1)
    """
    state = _recorder()
    if state is None:
        return _NO_SPAN
    if callable(headers):
        headers = headers()
    parent = extract_context(headers) if headers else None
    return _recording_span(
        state,
        f"process {topic}",
        "CONSUMER",
        {
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": topic,
            "messaging.destination.partition.id": str(partition),
            "messaging.kafka.offset": offset,
            "messaging.consumer.group.name": consumer_group,
            "ordercloud.event_type": event_type,
        },
        parent,
    )


class _HeaderList:
    """Kafka headers (``[(key, bytes)]``) as a propagation carrier."""

    @staticmethod
    def get(carrier: Any, key: str) -> list[str] | None:
        found = [v.decode("latin-1") if isinstance(v, bytes) else str(v) for k, v in carrier if k == key]
        return found or None

    @staticmethod
    def keys(carrier: Any) -> list[str]:
        return [k for k, _ in carrier]

    @staticmethod
    def set(carrier: Any, key: str, value: str) -> None:
        carrier[:] = [(k, v) for k, v in carrier if k != key]  # a re-forwarded record gets the current context
        carrier.append((key, value.encode("latin-1")))


def inject_context(headers: list[tuple[str, bytes]]) -> None:
    """Append the current W3C trace context (``traceparent``, ``tracestate``) to Kafka record headers.

    Nothing is added when no span would be recorded.

    >>> headers = [("type", b"sitecore.ordercloud.messages.orders.submitted")]
    >>> inject_context(headers)
    """
    state = _recorder()
    if state is not None:
        state.propagate.inject(headers, setter=_HeaderList)


def extract_context(headers: Any) -> Any:
    """The trace context carried by Kafka record headers (``None`` without OpenTelemetry)."""
    state = _telemetry()
    if state is None:
        return None
    if isinstance(headers, MutableMapping):
        return state.propagate.extract(headers)
    return state.propagate.extract(list(headers), getter=_HeaderList)


def count(name: str, value: int = 1, attributes: Mapping[str, str | int | bool] | None = None) -> None:
    """Add to one of the counters of :class:`Instruments` (``"deliveries"``, ``"duplicates"`` …)."""
    found = instruments()
    if found is not None:
        getattr(found, name).add(value, attributes)


def set_consumer_lag(topic: str, partition: int, group: str, lag: int | None) -> None:
    """The latest lag of a partition, reported by the ``ordercloud_tracking.consumer.lag`` gauge (``None``:
    the partition was revoked, stop reporting it).

    >>> set_consumer_lag("tracking", 0, "shop", 12)
    >>> set_consumer_lag("tracking", 0, "shop", None)
    """
    found = instruments()
    if found is not None:
        if lag is None:
            found.lag.pop((topic, partition, group), None)
        else:
            found.lag[topic, partition, group] = lag


def handler_timer(event_type: Any = None, topic: str | None = None) -> Any:
    """Record how long the ``with`` body (a handler) took in the handler duration histogram.

    Its attributes are ``ordercloud.event_type`` (a name or a ``TrackingEventType``) and, for a Kafka
    record, ``messaging.destination.name``.

    >>> with handler_timer("OrderSubmitted"):
    ...     pass
    """
    found = instruments()
    if found is None:
        return _NO_SPAN
    attributes = {"ordercloud.event_type": str(getattr(event_type, "value", event_type) or "unknown")}
    if topic is not None:
        attributes["messaging.destination.name"] = topic
    return _timed(found, attributes)


@contextmanager
def _timed(found: Instruments, attributes: Mapping[str, str]) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        found.handler_duration.record(time.perf_counter() - started, attributes)


def tracing() -> bool:
    """Whether spans are recorded now (OpenTelemetry is there, enabled, and a tracer provider is set up).

    >>> isinstance(tracing(), bool)
    True
    """
    return _recorder() is not None


def record_outcome(
    outcome: str, topic: str, attempts: int, event_type: Any = None, error: BaseException | None = None
) -> None:
    """How a consumed record ended, on its span (the current one) and in the records counters.

    ``outcome`` is ``"processed"``, ``"duplicate"``, ``"dead_lettered"`` or ``"failed"`` (neither
    handled nor dead-lettered); ``attempts`` counts handler calls; ``event_type`` is a name or a
    :class:`~ordercloud_tracking.models.tracking.TrackingEventType`. A dead-lettered or failed record's
    span ends in ``ERROR`` with ``error.type``, the class of ``error`` (never its message).

    >>> record_outcome("processed", "tracking", 1, "OrderSubmitted")
    """
    state = _state
    if state is None or state is _UNLOADED:
        return
    recording, metering = state.recording(), state.metering()
    if not (recording or metering):
        return
    event_type = getattr(event_type, "value", event_type)
    event = str(event_type or "unknown")
    span = _current_span() if recording else None
    if span is not None:
        span.set_attribute("ordercloud.outcome", outcome)
        span.set_attribute("ordercloud.attempts", attempts)
        span.set_attribute("ordercloud.dead_lettered", outcome == "dead_lettered")
        if event_type is not None:
            span.set_attribute("ordercloud.event_type", event)
        if outcome in ("dead_lettered", "failed"):
            error_type = type(error).__qualname__ if error is not None else outcome
            span.set_attribute("error.type", error_type)
            span.set_status(state.trace.StatusCode.ERROR, error_type)
    if not metering:
        return
    found = state.instruments
    labels = {"messaging.destination.name": topic, "ordercloud.event_type": event}
    found.records.add(1, {**labels, "ordercloud.outcome": outcome})
    if outcome == "duplicate":
        found.duplicates.add(1, labels)
    elif outcome == "dead_lettered":
        found.dead_lettered.add(1, labels)


def producer_span(topic: str) -> Any:
    """The span of producing one record to ``topic`` (kind ``PRODUCER``): inject the context inside it.

    >>> with producer_span("tracking"):
    ...     pass
    """
    state = _recorder()
    if state is None:
        return _NO_SPAN
    return _recording_span(
        state,
        f"send {topic}",
        "PRODUCER",
        {"messaging.system": "kafka", "messaging.operation.type": "send", "messaging.destination.name": topic},
        None,
    )
