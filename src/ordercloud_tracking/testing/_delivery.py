"""The delivery pipeline: which targets an emission goes to, the message, one builder per target, and retries.

An emission becomes one :class:`DeliveryAttempt` per target of every delivery config subscribed to it. Each
target kind has a builder in :data:`BUILDERS` that either finishes the record (``SendEvent`` and
``DiscoverEvent`` only record the payload), returns the HTTP request that completes it (``Http``), which
the pipeline sends with retries — only when the fake was given ``http_delivery``, it makes no network traffic
otherwise — or the Kafka record that completes it (``Kafka``, ``EventHub``: ``_produce``). Nothing here raises
into the request that caused the emission: every problem, a bad target included, is recorded on the delivery.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Generator, Iterator
from typing import Any, Literal

import attrs
import httpx

from .._errors import OrderCloudError
from ._produce import KafkaOptions, KafkaProducers, KafkaRecord, KafkaRecordForm, kafka_record, producer_config
from ._state import Emission, FakeClock, State
from ._wire import JSON, dumps

__all__ = [
    "BUILDERS",
    "DeliveryAttempt",
    "DeliveryPipeline",
    "DeliveryTransport",
    "HttpBody",
    "HttpDelivery",
    "envelope",
]

#: Where ``Http`` deliveries go: an httpx transport, or a callable answering each request.
DeliveryTransport = httpx.BaseTransport | httpx.AsyncBaseTransport | Callable[[httpx.Request], httpx.Response]

#: What ``FakeOrderCloud(http_delivery=...)`` takes: a transport or callable, or ``"network"`` for real POSTs.
HttpDelivery = DeliveryTransport | Literal["network"]

NOT_SENT = (
    "not sent: the fake makes no network traffic unless asked; pass http_delivery=<an httpx transport or "
    "callable> or http_delivery='network'"
)


def checked_transport(transport: HttpDelivery | None) -> HttpDelivery | None:
    """``transport`` if it is one ``FakeOrderCloud(http_delivery=...)`` takes, else :class:`ValueError`."""
    if isinstance(transport, str) and transport != "network":
        raise ValueError(f"http_delivery must be a transport, a callable, 'network' or None, not {transport!r}")
    return transport


#: What an ``Http`` delivery's body is: OrderCloud's envelope (reference §15), or the bare message.
HttpBody = Literal["envelope", "bare"]


def envelope(message: Any) -> JSON:
    """OrderCloud's delivery envelope of a message: ``{"Headers": {"type": <namespace>}, "Payload": <message>}``."""
    return {"Headers": {"type": message.namespace}, "Payload": message.to_request()}


@attrs.frozen
class DeliveryAttempt:
    """One delivery of a tracking message to one target, in ``fake.deliveries``."""

    target: str  # "Http", "SendEvent", "DiscoverEvent", "Kafka", "EventHub"
    event_type: str
    tracking_event_id: str
    delivery_config_id: str
    url: str | None  # kafka://<bootstrap servers>/<topic> for Kafka and EventHub
    body: Any  # the JSON the target receives (the Send payload or the Discover event; None for Http and Kafka)
    raw: bytes = attrs.field(repr=False)  # the exact bytes (HTTP body, Kafka record value)
    headers: dict[str, str] = attrs.field(repr=False, factory=dict)  # HTTP headers (custom auth) or record headers
    status: int | None = None
    attempts: int = 1
    error: str | None = None
    at: float = 0.0
    key: str | None = None  # the Kafka record key: the entity, "order:<id>" or "user:<id>"

    @property
    def ok(self) -> bool:
        """Whether the target accepted it (Send/Discover payloads count as accepted once built)."""
        return self.error is None and (self.status is None or 200 <= self.status < 300)


@attrs.frozen
class Job:
    """One target's delivery: a finished record, or a record and the HTTP request that completes it."""

    record: DeliveryAttempt
    request: httpx.Request | None = None
    produce: KafkaRecord | None = None


@attrs.frozen
class Context:
    """What every builder gets: the emission, its message and the fields common to its records."""

    emission: Emission
    message: Any
    body: bytes  # the message's JSON
    envelope: bytes  # OrderCloud's envelope of it
    http_body: bytes  # what an Http target receives: the envelope, or the bare message
    common: JSON  # event_type, tracking_event_id, delivery_config_id, at
    clock: FakeClock
    line_update: Literal["cart", "delta"]
    kafka: KafkaOptions

    def failed(self, target: str, url: Any, error: str) -> Job:
        return Job(DeliveryAttempt(target, url=url, body=None, raw=b"", error=error, **self.common))

    def produce(self, target: str, config: dict[str, Any], topic: str, form: KafkaRecordForm) -> Job:
        """The delivery of the message as a Kafka record in ``form``, keyed by its entity like KafkaForwarder."""
        from ..streams._forwarder import partition_key

        url = f"kafka://{config['bootstrap.servers']}/{topic}"
        if not config["bootstrap.servers"] or not topic:
            return self.failed(target, url, f"bad {target} target: no bootstrap servers or topic")
        key = partition_key(self.message, self.common["tracking_event_id"])
        value, headers = kafka_record(form, self.envelope, self.body, self.message.namespace)
        shown = {name: data.decode("utf-8") for name, data in headers}
        record = DeliveryAttempt(target, url=url, body=None, raw=value, headers=shown, key=key, **self.common)
        return Job(record, produce=KafkaRecord(config, topic, key.encode("utf-8"), value, tuple(headers)))

    def visitor(self) -> tuple[str | None, str | None]:
        """The anonymous ID and the user ID the message is about."""
        return self.emission.anon_user_id, getattr(getattr(self.message, "user_context", None), "id", None)


def _http(target: JSON, ctx: Context) -> Job:
    from ..receiver import sign_payload

    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "FakeOrderCloud"}
    if target.get("Secret"):
        headers["x-oc-hash"] = sign_payload(ctx.http_body, str(target["Secret"]))
    if target.get("CustomAuthHeaderName") and target.get("CustomAuthHeaderValue"):
        headers[str(target["CustomAuthHeaderName"])] = str(target["CustomAuthHeaderValue"])
    url = str(target.get("Endpoint"))
    record = DeliveryAttempt("Http", url=url, body=None, raw=ctx.http_body, headers=headers, **ctx.common)
    try:
        request = httpx.Request("POST", url, content=ctx.http_body, headers=headers)
    except Exception as exc:  # a non-ASCII header, an unparsable Endpoint: the target is broken, not the request
        return Job(attrs.evolve(record, attempts=0, error=f"bad Http target: {type(exc).__name__}"))
    return Job(record, request)


def _send(target: JSON, ctx: Context) -> Job:
    from ..sitecore import send_url, to_send_event

    anon, user_id = ctx.visitor()
    contact = anon or user_id
    session = hashlib.sha256((contact or "").encode()).hexdigest()[:32] if contact else None
    url = target.get("ServiceEndpoint")
    try:
        payload = to_send_event(
            ctx.message,
            site_id=str(target.get("SiteID")),
            contact_id=contact,
            session_id=session,
            previous_quantity=ctx.emission.previous_quantity if ctx.emission.event_type == "LineItemUpdated" else None,
        )
    except (OrderCloudError, ValueError) as exc:
        return ctx.failed("SendEvent", url, str(exc))
    if payload is None:
        return ctx.failed("SendEvent", url, "skipped: no positive quantity change to send")
    record = DeliveryAttempt("SendEvent", url=url or send_url(payload), body=payload, raw=dumps(payload), **ctx.common)
    return Job(record)


def _discover(target: JSON, ctx: Context) -> Job:
    from ..models.commerce import LineItem
    from ..sitecore import discover_request_body, to_discover_event

    anon, user_id = ctx.visitor()
    emission = ctx.emission
    url = target.get("ServiceEndpoint")
    cart = [LineItem.from_api(line) for line in emission.lines] if emission.line is not None else None
    try:
        event = to_discover_event(
            ctx.message,
            uuid=anon,
            user_id=None if anon else user_id,
            now=ctx.clock.datetime(),
            line_update=ctx.line_update,
            cart=cart,
            previous_quantity=emission.previous_quantity,
        )
    except (OrderCloudError, ValueError) as exc:
        return ctx.failed("DiscoverEvent", url, str(exc))
    if event is None:
        return ctx.failed("DiscoverEvent", url, "skipped: no positive quantity change to send")
    wire = discover_request_body(event)
    return Job(DeliveryAttempt("DiscoverEvent", url=url, body=event, raw=dumps(wire), **ctx.common))


def _kafka(target: JSON, ctx: Context) -> Job:
    servers = str(target.get("BootstrapServers") or "")
    config = producer_config(servers, target.get("SaslUsername") or None, target.get("SaslPassword"), ctx.kafka.config)
    return ctx.produce("Kafka", config, str(target.get("Topic") or ""), ctx.kafka.record)


def _event_hub(target: JSON, ctx: Context) -> Job:
    hub = str(target.get("EventHubName") or "")
    if ctx.kafka.event_hub_kafka is None:
        error = "not sent: EventHub targets go through a Kafka endpoint you supply: FakeOrderCloud(event_hub_kafka=...)"
        return ctx.failed("EventHub", f"eventhub://{hub}", error)
    secret = target.get("ConnectionString") or None  # Event Hubs' Kafka endpoint: $ConnectionString / the string
    config = producer_config(
        ctx.kafka.event_hub_kafka, "$ConnectionString" if secret else None, secret, ctx.kafka.config
    )
    return ctx.produce("EventHub", config, hub, "bare+type")  # the event body is bare, its type a property


#: One builder per delivery target kind (``DeliveryTargets`` key); kinds not listed are not delivered.
BUILDERS: dict[str, Callable[[JSON, Context], Job]] = {
    "Http": _http,
    "SendEvent": _send,
    "DiscoverEvent": _discover,
    "Kafka": _kafka,
    "EventHub": _event_hub,
}


def message_for(emission: Emission) -> Any:
    """The tracking message an emission becomes (what the SDK's message builders make of its snapshots)."""
    from ..messages import order_line, order_submitted, session_identified
    from ..models.commerce import LineItem, MeUser, Order

    # MeUser, not User: every field optional, so a user without an Email (the seed's admin, a SeedUser
    # without one) still yields a message instead of a ValidationError raised into the caller's request.
    user = MeUser.from_api(emission.user) if emission.user is not None else None
    if emission.event_type == "UserLoggedIn":
        assert user is not None
        return session_identified(user, anon_user_id=emission.anon_user_id)
    assert emission.order is not None
    order = Order.from_api(emission.order)
    if emission.event_type == "OrderSubmitted":
        lines = [LineItem.from_api(line) for line in emission.lines]
        return order_submitted(order, lines, user=user, anon_user_id=emission.anon_user_id)
    assert emission.line is not None
    return order_line(
        order,
        LineItem.from_api(emission.line),
        event_type=emission.event_type,
        user=user,
        anon_user_id=emission.anon_user_id,
    )


def _advance(
    flow: Generator[httpx.Request, httpx.Response | Exception, DeliveryAttempt], result: httpx.Response | Exception
) -> httpx.Request | DeliveryAttempt:
    """Give the retry flow one attempt's result: the next request to send, or the finished delivery."""
    try:
        return flow.send(result)
    except StopIteration as done:
        finished: DeliveryAttempt = done.value
        return finished


class DeliveryPipeline:
    """Turns emissions into deliveries: plans them from the state, builds each target's, sends ``Http`` ones."""

    def __init__(
        self,
        clock: FakeClock,
        *,
        transport: HttpDelivery | None,
        attempts: int,
        line_update: Literal["cart", "delta"],
        http_body: HttpBody = "envelope",
        kafka: KafkaOptions | None = None,
        kafka_timeout: float = 5.0,
    ) -> None:
        if http_body not in ("envelope", "bare"):
            raise ValueError(f"http_body must be 'envelope' or 'bare', not {http_body!r}")
        self.http_body: HttpBody = http_body
        self.kafka = kafka or KafkaOptions()
        self.clock = clock
        self.transport = checked_transport(transport)
        self.attempts = max(1, attempts)
        self.line_update = line_update
        self._client: httpx.Client | None = None
        self._producers = KafkaProducers(kafka_timeout)

    def _planned(self, state: State, emission: Emission) -> list[tuple[JSON, JSON]]:
        """(tracking event, delivery config incl. secrets) pairs that must receive ``emission``."""
        with state.lock:
            plans = []
            for event in state.tracking_events.values():
                if event["ClientID"] != emission.client_id or event["EventType"] != emission.event_type:
                    continue
                config = state.delivery_configs.get(event["DeliveryConfigID"])
                if config is None or config.get("Enabled") is False:
                    continue
                plans.append((dict(event), dict(config)))
            return plans

    def jobs(self, state: State, emission: Emission) -> Iterator[Job]:
        """Each delivery to make for ``emission``: finished ones, and ``Http`` ones with the request to send."""
        plans = self._planned(state, emission)
        if not plans:
            return
        try:
            message = message_for(emission)
            body = dumps(message.to_request())
            wrapped = dumps(envelope(message))
            http_body = wrapped if self.http_body == "envelope" else body
        except Exception as exc:
            for event, config in plans:
                error = f"building the message failed: {type(exc).__name__}: {exc}"
                yield Job(
                    DeliveryAttempt(
                        "*",
                        emission.event_type,
                        event["ID"],
                        config["ID"],
                        None,
                        None,
                        b"",
                        error=error,
                        at=self.clock(),
                    )
                )
            return
        for event, config in plans:
            common = {
                "event_type": emission.event_type,
                "tracking_event_id": event["ID"],
                "delivery_config_id": config["ID"],
                "at": self.clock.now(),
            }
            ctx = Context(
                emission,
                message,
                body,
                wrapped,
                http_body,
                common,
                self.clock,
                self.line_update,
                self.kafka,
            )
            for name, target in (config.get("DeliveryTargets") or {}).items():
                builder = BUILDERS.get(name)
                if builder is None or not isinstance(target, dict):
                    continue
                try:
                    yield builder(target, ctx)
                except Exception as exc:  # a defect of a builder is recorded too, never raised
                    yield ctx.failed(name, None, f"building the delivery failed: {type(exc).__name__}")

    # ------------------------------------------------------------------------------------- sending
    def _without_io(self, job: Job) -> DeliveryAttempt | None:
        """The finished delivery when ``job`` needs no I/O (built already, or Http with nowhere to send it)."""
        if job.produce is None and job.request is None:
            return job.record
        if job.request is not None and self.transport is None:
            return attrs.evolve(job.record, attempts=0, error=NOT_SENT)
        return None

    def _complete(self, job: Job) -> DeliveryAttempt:
        done = self._without_io(job)
        if done is not None:
            return done
        if job.produce is not None:
            return attrs.evolve(job.record, error=self._producers.send(job.produce))
        assert job.request is not None
        return self._send_sync(job.record, job.request)

    def deliver(self, state: State, emissions: list[Emission]) -> list[DeliveryAttempt]:
        """Make every delivery of ``emissions`` (``Http`` ones sent now with retries, Kafka records produced)."""
        return [self._complete(job) for emission in emissions for job in self.jobs(state, emission)]

    async def deliver_async(self, state: State, emissions: list[Emission]) -> list[DeliveryAttempt]:
        """:meth:`deliver` for an async caller (an async transport is awaited; other I/O runs in a thread)."""
        done = []
        for emission in emissions:
            for job in self.jobs(state, emission):
                finished = self._without_io(job)
                if finished is None and job.produce is not None:
                    finished = await asyncio.to_thread(self._complete, job)  # librdkafka's wait, off the loop
                elif finished is None:
                    assert job.request is not None
                    finished = await self._send_async(job.record, job.request)
                done.append(finished)
        return done

    def _http_client(self) -> httpx.Client:
        if self._client is None:
            transport = self.transport if isinstance(self.transport, httpx.BaseTransport) else None
            self._client = httpx.Client(transport=transport, timeout=10)
        return self._client

    def _retries(
        self, record: DeliveryAttempt, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response | Exception, DeliveryAttempt]:
        """The retry policy, written once: yields the request to send, receives its response or exception."""
        status: int | None = None
        error: str | None = None
        attempt = 0
        for attempt in range(1, self.attempts + 1):  # noqa: B007 - the count is recorded
            result = yield request
            if isinstance(result, Exception):
                status, error = None, f"{type(result).__name__}: {result}"
                continue
            status, error = result.status_code, None
            if 200 <= status < 300:
                break
            error = f"HTTP {status}"
        return attrs.evolve(record, status=status, error=error, attempts=attempt)

    def _send_sync(self, record: DeliveryAttempt, request: httpx.Request) -> DeliveryAttempt:
        delivery = self.transport
        flow = self._retries(record, request)
        step: httpx.Request | DeliveryAttempt = next(flow)
        while isinstance(step, httpx.Request):
            result: httpx.Response | Exception
            try:
                # httpx.MockTransport is both a BaseTransport and an AsyncBaseTransport: only a purely async
                # transport (httpx.ASGITransport) cannot serve a synchronous delivery.
                if isinstance(delivery, httpx.AsyncBaseTransport) and not isinstance(delivery, httpx.BaseTransport):
                    raise RuntimeError("an async delivery transport cannot serve a synchronous client")
                if callable(delivery) and not isinstance(delivery, httpx.BaseTransport):
                    result = delivery(step)
                else:
                    result = self._http_client().send(step)
            except Exception as exc:
                result = exc
            step = _advance(flow, result)
        return step

    async def _send_async(self, record: DeliveryAttempt, request: httpx.Request) -> DeliveryAttempt:
        delivery = self.transport
        if not isinstance(delivery, httpx.AsyncBaseTransport):
            return await asyncio.to_thread(self._send_sync, record, request)
        flow = self._retries(record, request)
        step: httpx.Request | DeliveryAttempt = next(flow)
        async with httpx.AsyncClient(transport=delivery, timeout=10) as client:
            while isinstance(step, httpx.Request):
                result: httpx.Response | Exception
                try:
                    result = await client.send(step)
                except Exception as exc:
                    result = exc
                step = _advance(flow, result)
        return step

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._producers.close()
