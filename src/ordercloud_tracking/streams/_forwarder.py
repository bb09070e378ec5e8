"""Http → Kafka: :class:`KafkaForwarder`, the handler that turns a stateless receiver into a Kafka producer."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._telemetry import inject_context, producer_span
from ..messages import Message, OrderLineMessage, OrderSubmitted, SessionIdentified, TrackingMessage
from ._core import KafkaDelivery, KafkaForwardError, ProducerPump

if TYPE_CHECKING:
    from ..receiver import Delivery
    from ._settings import KafkaSettings

__all__ = ["KafkaForwarder", "forward_record", "partition_key"]


def partition_key(message: Message, fallback: str) -> str:
    """The entity whose events must stay in order: the order (its lines and its submission), or the user."""
    if isinstance(message, OrderSubmitted) and message.order_id:
        return f"order:{message.order_id}"
    if isinstance(message, OrderLineMessage) and message.order_id:
        return f"order:{message.order_id}"
    if isinstance(message, SessionIdentified):
        who = message.user_id or message.anonymous_id
        if who:
            return f"user:{who}"
    return fallback


def forward_record(delivery: Delivery | KafkaDelivery) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """``(key, value, headers)`` of the Kafka record that carries ``delivery``.

    The value is the Http envelope ``{"Headers": {"type": …}, "Payload": {…}}`` (a bare body is wrapped,
    an envelope's ``Headers`` are kept); the ``type`` record header repeats the type. A type the SDK
    only inferred from the shape of the body is not stamped, so consumers infer it the same way. The key
    is the entity whose events must stay in order: ``order:{id}`` for an order's lines and submission,
    ``user:{id}`` for a login, the delivery key otherwise.

    >>> from ordercloud_tracking.streams import decode_record
    >>> delivery = decode_record("t", 0, 0, None, b'{"OrderId": "o-1", "LineItem": {"LineID": "l-1"}}',
    ...                          (("type", b"sitecore.ordercloud.messages.orders.lines.updated"),))
    >>> key, value, headers = forward_record(delivery)
    >>> key, headers
    (b'order:o-1', [('type', b'sitecore.ordercloud.messages.orders.lines.updated')])
    >>> value
    b'{"Headers":{"type":"sitecore.ordercloud.messages.orders.lines.updated"},"Payload":{"OrderId":"o-1","LineItem":{"LineID":"l-1"}}}'
    """
    message = delivery.message
    key = partition_key(message, delivery.delivery_key).encode("utf-8")
    if not isinstance(message, TrackingMessage):  # unknown: forward the object as received
        type_name = message.type_name
        value = json.dumps(message.to_request(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return key, value, [("type", type_name.encode("utf-8"))] if type_name else []
    envelope = message.envelope or {}
    outer = envelope.get("Headers") if isinstance(envelope.get("Headers"), Mapping) else None
    headers: dict[str, Any] = dict(outer or {})
    type_name = headers.get("type") if isinstance(headers.get("type"), str) else None
    if type_name is None and not message.type_inferred:
        type_name = message.namespace
    if type_name is not None:
        headers["type"] = type_name
    body = {"Headers": headers, "Payload": message.to_request()}
    value = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return key, value, [("type", type_name.encode("utf-8"))] if type_name else []


class KafkaForwarder:
    """A delivery handler that produces each delivery to Kafka and returns once the broker acknowledged it.

    Use it as the handler of :func:`~ordercloud_tracking.receiver.wsgi_app` (``forwarder``) or of
    :func:`~ordercloud_tracking.receiver.asgi_app` (``forwarder.forward_async``, which waits without
    holding a thread). Records are keyed by entity (:func:`forward_record`) so one order's events stay
    in order, and the producer is idempotent with ``acks=all``. When the broker does not acknowledge
    within ``timeout`` seconds — down, too slow, or refusing — the handler raises
    :class:`~ordercloud_tracking.streams.KafkaForwardError`, so the endpoint does not answer 2xx and
    OrderCloud delivers again: nothing acknowledged is lost. With OpenTelemetry set up, each record
    gets a ``send {topic}`` span and carries its W3C trace context (``traceparent``) in its headers,
    which the consumers continue.

    >>> from ordercloud_tracking.receiver import Receiver, sign_payload, wsgi_app
    >>> from ordercloud_tracking.streams import KafkaSettings
    >>> from ordercloud_tracking.testing import kafka_cluster
    >>> from io import BytesIO
    >>> body = b'{"OrderID": "o-1", "LineItems": []}'
    >>> with kafka_cluster() as cluster, KafkaForwarder(KafkaSettings(cluster.bootstrap_servers, "tracking")) as forwarder:
    ...     app = wsgi_app(forwarder, Receiver("s"))
    ...     environ = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(body)), "wsgi.input": BytesIO(body),
    ...                "HTTP_X_OC_HASH": sign_payload(body, "s")}
    ...     app(environ, lambda status, headers: print(status))
    200 OK
    [b'{"status":"ok"}']
    """

    def __init__(self, settings: KafkaSettings, *, timeout: float = 10.0, config: Mapping[str, Any] | None = None):
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._settings = settings
        self._timeout = timeout
        self._pump = ProducerPump(settings, {"message.timeout.ms": max(1, int(timeout * 1000)), **dict(config or {})})
        self._closed = False

    @property
    def topic(self) -> str:
        """The topic deliveries are produced to.

        >>> from ordercloud_tracking.streams import KafkaSettings
        >>> with KafkaForwarder(KafkaSettings("127.0.0.1:1", "tracking")) as forwarder:
        ...     forwarder.topic
        'tracking'
        """
        return self._settings.topic

    def __call__(self, delivery: Delivery | KafkaDelivery) -> None:
        """Produce ``delivery`` and wait for the broker's acknowledgement (the ``wsgi_app`` handler).

        Raises:
            KafkaForwardError: not acknowledged within ``timeout`` seconds.
        """
        key, value, headers = forward_record(delivery)
        with producer_span(self.topic):
            inject_context(headers)  # the consumer's span continues this trace
            future = self._pump.send(self.topic, value, key, headers)
            try:
                future.result(timeout=self._timeout + 1.0)
            except concurrent.futures.TimeoutError:
                raise KafkaForwardError(self.topic, f"no acknowledgement within {self._timeout:g} s") from None

    async def forward_async(self, delivery: Delivery | KafkaDelivery) -> None:
        """Produce ``delivery`` and wait for the acknowledgement on the event loop (the ``asgi_app`` handler).

        Raises:
            KafkaForwardError: not acknowledged within ``timeout`` seconds.
        """
        key, value, headers = forward_record(delivery)
        with producer_span(self.topic):
            inject_context(headers)  # the consumer's span continues this trace
            try:
                await asyncio.wait_for(self._pump.asend(self.topic, value, key, headers), self._timeout + 1.0)
            except asyncio.TimeoutError:
                raise KafkaForwardError(self.topic, f"no acknowledgement within {self._timeout:g} s") from None

    def close(self, timeout: float | None = None) -> None:
        """Wait for records still in flight (up to ``timeout``, default the forwarder's) and stop the producer.

        >>> from ordercloud_tracking.streams import KafkaSettings
        >>> KafkaForwarder(KafkaSettings("127.0.0.1:1", "t")).close(0)
        """
        if self._closed:
            return
        self._closed = True
        self._pump.close(self._timeout if timeout is None else timeout)

    def __enter__(self) -> KafkaForwarder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KafkaForwarder(topic={self.topic!r}, bootstrap_servers={self._settings.bootstrap_servers!r})"
