"""What the sync and async consumers and the forwarder share: decoding, keys, errors, stats, bookkeeping.

Nothing here does I/O on its own except :class:`ProducerPump`, which serves delivery reports of one
librdkafka producer to threads (``concurrent.futures``) and event loops (``asyncio``) alike.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import attrs

from .._errors import InvalidPayloadError, OrderCloudError, ServiceUnavailableError
from ..messages import Message, decode_delivery, message_class_for
from ..models.tracking import TrackingEventType

if TYPE_CHECKING:
    from ..stores import DedupeStore
    from ._settings import KafkaSettings

_log = logging.getLogger("ordercloud_tracking.streams")
LIBRDKAFKA_LOGGER = logging.getLogger("ordercloud_tracking.streams.librdkafka")
"""librdkafka's own log lines (connection failures, rebalances) go here instead of stderr."""

KAFKA_EXTRA_HINT = "Kafka support needs the 'kafka' extra: pip install 'ordercloud-tracking[kafka]'"
TYPE_HEADERS = ("type", "ce_type", "ce-type")
DLQ_PREFIX = "oc-dlq-"
_MAX_ERROR_TEXT = 500


def confluent_kafka() -> Any:
    """The ``confluent_kafka`` module, imported on first use (one clear error without the extra)."""
    try:
        import confluent_kafka as module
    except ImportError as exc:
        raise ImportError(KAFKA_EXTRA_HINT) from exc
    return module


# --- errors ------------------------------------------------------------------------------------------------


class KafkaConnectionError(OrderCloudError):
    """Kafka could not be reached (or refused the credentials) within the timeout.

    The message names the bootstrap servers, never the password.

    >>> error = KafkaConnectionError("localhost:1", "timed out after 5 s")
    >>> str(error)
    'Could not reach Kafka at localhost:1: timed out after 5 s'
    >>> error.bootstrap_servers, error.reason
    ('localhost:1', 'timed out after 5 s')
    """

    def __init__(self, bootstrap_servers: str, reason: str) -> None:
        super().__init__(f"Could not reach Kafka at {bootstrap_servers}: {reason}")
        self.bootstrap_servers = bootstrap_servers
        self.reason = reason


class KafkaForwardError(ServiceUnavailableError):
    """The broker did not acknowledge a forwarded delivery (down, too slow, or it refused the record).

    Raised by :class:`~ordercloud_tracking.streams.KafkaForwarder`. It is a
    :class:`~ordercloud_tracking.ServiceUnavailableError`, so ``asgi_app``/``wsgi_app`` answer ``503``
    with ``Retry-After`` and OrderCloud delivers again.

    >>> str(KafkaForwardError("tracking", "Local: Message timed out"))
    "Kafka did not acknowledge the record for topic 'tracking': Local: Message timed out"
    """

    def __init__(self, topic: str, reason: str) -> None:
        super().__init__(f"Kafka did not acknowledge the record for topic {topic!r}: {reason}")
        self.topic = topic
        self.reason = reason


class ConsumerFailedError(OrderCloudError):
    """A consumer stopped because a record could be neither handled nor dead-lettered.

    Raised by ``run()`` when ``dead_letter_topic=None`` and a record failed every attempt (or was
    undecodable), or when writing to the dead-letter topic failed. The record's offset is **not**
    committed: the next consumer of its partition gets it again. ``__cause__`` is the last error.

    >>> error = ConsumerFailedError("tracking", 3, 42, "ValueError: boom", attempts=4)
    >>> str(error), error.offset
    ('Record tracking[3]@42 failed after 4 attempt(s) and was not dead-lettered: ValueError: boom', 42)
    """

    def __init__(self, topic: str, partition: int, offset: int, reason: str, *, attempts: int) -> None:
        super().__init__(
            f"Record {topic}[{partition}]@{offset} failed after {attempts} attempt(s) and was not dead-lettered: {reason}"
        )
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.attempts = attempts


# --- deliveries --------------------------------------------------------------------------------------------

RecordHeaders: TypeAlias = "tuple[tuple[str, bytes | None], ...]"


@attrs.frozen
class KafkaDelivery:
    """One tracking message read from Kafka: what your handler receives.

    ``message``, ``event_type``, ``delivery_key`` and ``fingerprint`` mean what they mean on the HTTP
    receiver's :class:`~ordercloud_tracking.receiver.Delivery` (the entity ``order:…``, ``line:…``,
    ``session:…``, or the body's SHA-256); ``topic``, ``partition``, ``offset``, ``key`` and
    ``headers`` are the record's.

    >>> delivery = decode_record("tracking", 0, 7, b"order:o-1", b'{"OrderID": "o-1"}', ())
    >>> delivery.event_type, delivery.delivery_key, delivery.offset
    (<TrackingEventType.ORDER_SUBMITTED: 'OrderSubmitted'>, 'order:o-1', 7)
    """

    message: Message
    event_type: TrackingEventType | None
    delivery_key: str
    fingerprint: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    headers: RecordHeaders = ()

    @property
    def duplicate(self) -> bool:
        """Always ``False``: a consumer never hands a duplicate to the handler (as on the receiver).

        >>> decode_record("t", 0, 0, None, b'{"OrderID": "o-1"}', ()).duplicate
        False
        """
        return False

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (case-insensitive), as text.

        >>> decode_record("t", 0, 0, None, b'{"OrderID": "o-1"}', (("Type", b"x"),)).header("type")
        'x'
        """
        return _header(self.headers, name)


def _header(headers: Sequence[tuple[str, bytes | str | None]], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted and value is not None:
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            if text.strip():
                return text.strip()
    return None


def type_hint(key: bytes | None, headers: Sequence[tuple[str, bytes | str | None]]) -> str | None:
    """The event type a record declares outside its value: header ``type``/``ce_type``, then a known key."""
    for name in TYPE_HEADERS:
        found = _header(headers, name)
        if found is not None:
            return found
    if key:
        text = key.decode("utf-8", "replace").strip()
        if message_class_for(text) is not None:
            return text
    return None


def decode_record(
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]] | None,
) -> KafkaDelivery:
    """Decode one record into a :class:`KafkaDelivery` (any §15 form); :class:`InvalidPayloadError` if it is not.

    >>> decode_record("t", 0, 1, None, b'{"OrderId": "o-1", "LineItem": {"LineID": "l-1"}}',
    ...               (("type", b"sitecore.ordercloud.messages.orders.lines.updated"),)).event_type
    <TrackingEventType.LINE_ITEM_UPDATED: 'LineItemUpdated'>
    """
    record_headers: RecordHeaders = tuple(headers) if headers else ()
    if value is None:
        raise InvalidPayloadError("Record has no value (a tombstone)")
    # A record header declares the type (Event Hubs' `type` property, CloudEvents' `ce_type`): it is not a guess.
    decoded = decode_delivery(value, event_type=type_hint(key, record_headers))
    return KafkaDelivery(
        message=decoded.message,
        event_type=decoded.message.event_type,
        delivery_key=decoded.delivery_key,
        fingerprint=decoded.fingerprint,
        topic=topic,
        partition=partition,
        offset=offset,
        key=key,
        headers=record_headers,
    )


# --- failures ----------------------------------------------------------------------------------------------


def scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` without any of ``secrets`` in it, cut to a readable length."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text if len(text) <= _MAX_ERROR_TEXT else text[: _MAX_ERROR_TEXT - 1] + "…"


def error_text(error: BaseException, secrets: Sequence[str]) -> str:
    return scrub(f"{type(error).__name__}: {error}", secrets)


def dead_letter_headers(
    headers: Sequence[tuple[str, bytes | None]],
    *,
    topic: str,
    partition: int,
    offset: int,
    error: BaseException,
    attempts: int,
    secrets: Sequence[str],
) -> list[tuple[str, bytes]]:
    """The record's own headers plus ``oc-dlq-*`` headers saying why and where it came from."""
    kept = [(k, v) for k, v in headers if v is not None and not k.startswith(DLQ_PREFIX)]
    reason = scrub(str(error), secrets)
    return [
        *kept,
        (DLQ_PREFIX + "error-type", type(error).__name__.encode()),
        (DLQ_PREFIX + "error-message", reason.encode("utf-8")),
        (DLQ_PREFIX + "topic", topic.encode()),
        (DLQ_PREFIX + "partition", str(partition).encode()),
        (DLQ_PREFIX + "offset", str(offset).encode()),
        (DLQ_PREFIX + "attempts", str(attempts).encode()),
    ]


def backoff(attempt: int, base: float, cap: float = 30.0) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, …): ``base``, doubling, at most ``cap``."""
    return float(min(cap, base * 2.0 ** (attempt - 1)))


# --- dedupe ------------------------------------------------------------------------------------------------

DedupeOption: TypeAlias = "DedupeStore | Literal['memory'] | None"


def dedupe_store(option: object) -> DedupeStore | None:
    from ..stores import DedupeStore, MemoryDedupeStore

    if option == "memory":
        return MemoryDedupeStore()
    if option is None or isinstance(option, DedupeStore):
        return option
    raise TypeError("dedupe must be a DedupeStore, 'memory' or None")


# --- stats -------------------------------------------------------------------------------------------------


@attrs.frozen
class PartitionLag:
    """How far a consumer is behind on one partition.

    ``position`` is the next offset the consumer will commit (everything before it is done);
    ``high_watermark`` the offset the next record written will get (``-1`` when not known yet);
    ``lag`` their difference (``0`` when unknown).

    >>> PartitionLag("tracking", 0, position=90, high_watermark=100).lag
    10
    """

    topic: str
    partition: int
    position: int
    high_watermark: int

    @property
    def lag(self) -> int:
        """Records not yet done: ``high_watermark - position`` (``0`` when unknown).

        >>> PartitionLag("t", 0, position=5, high_watermark=-1).lag
        0
        """
        if self.high_watermark < 0 or self.position < 0:
            return 0
        return max(0, self.high_watermark - self.position)


@attrs.frozen
class ConsumerStats:
    """A snapshot of what a consumer did since it started.

    ``processed``: records the handler completed; ``duplicates``: records skipped as repeats of their
    entity's latest state; ``retried``: handler retries; ``dead_lettered``: records sent to the
    dead-letter topic; ``partitions``: the lag of each assigned partition.

    >>> stats = ConsumerStats(processed=3, partitions=(PartitionLag("t", 0, 3, 5),))
    >>> stats.lag
    2
    """

    processed: int = 0
    duplicates: int = 0
    retried: int = 0
    dead_lettered: int = 0
    partitions: tuple[PartitionLag, ...] = ()

    @property
    def lag(self) -> int:
        """The total lag over the assigned partitions.

        >>> ConsumerStats().lag
        0
        """
        return sum(p.lag for p in self.partitions)

    def describe(self) -> str:
        """One line for logs and terminals.

        >>> ConsumerStats(processed=3, duplicates=1).describe()
        'processed=3 duplicates=1 retried=0 dead_lettered=0 lag=0 partitions=0'
        """
        return (
            f"processed={self.processed} duplicates={self.duplicates} retried={self.retried} "
            f"dead_lettered={self.dead_lettered} lag={self.lag} partitions={len(self.partitions)}"
        )


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.processed = self.duplicates = self.retried = self.dead_lettered = 0

    def add(self, name: Literal["processed", "duplicates", "retried", "dead_lettered"], n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def snapshot(self, partitions: tuple[PartitionLag, ...]) -> ConsumerStats:
        with self._lock:
            return ConsumerStats(self.processed, self.duplicates, self.retried, self.dead_lettered, partitions)


# --- partition bookkeeping ---------------------------------------------------------------------------------


class Partition:
    """One assigned partition: records waiting, and the offset everything before which is done.

    Records of a partition are handled one after the other, so "done" is a single watermark: the
    offset after the last record handled (or skipped, or dead-lettered). Only this watermark is ever
    committed, so a commit never covers a record that is not done.
    """

    def __init__(self, topic: str, partition: int) -> None:
        self.topic = topic
        self.partition = partition
        self.pending: collections.deque[Any] = collections.deque()
        self.done = -1  # next offset to commit; -1: nothing done yet
        self.committed = -1
        self.high_watermark = -1
        self.running = False
        self.revoked = False
        self.abandoned = False  # its record in progress outlived a deadline: not waited for again
        self.paused = False

    def uncommitted(self) -> bool:
        return self.done > self.committed

    def lag(self) -> PartitionLag:
        position = self.done if self.done >= 0 else self.committed
        return PartitionLag(self.topic, self.partition, position, self.high_watermark)


TopicPartitionKey: TypeAlias = "tuple[str, int]"


# --- producing with acknowledgements -----------------------------------------------------------------------


class ProducerPump:
    """One librdkafka producer whose delivery reports resolve futures of threads and event loops.

    A single daemon thread calls ``poll()``; :meth:`send` returns a ``concurrent.futures.Future``
    and :meth:`asend` an awaitable, each resolved when the broker acknowledged the record (or it failed).
    """

    def __init__(self, settings: KafkaSettings, config: Mapping[str, Any]) -> None:
        kafka = confluent_kafka()
        self._settings = settings
        conf = settings.client_config(
            **{"enable.idempotence": True, "acks": "all", "logger": LIBRDKAFKA_LOGGER, **config}
        )
        conf.pop("group.id", None)
        self._producer = kafka.Producer(conf)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, name="ordercloud-kafka-producer", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)

    def send(
        self, topic: str, value: bytes, key: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def report(error: Any, message: Any) -> None:
            if error is not None:
                future.set_exception(KafkaForwardError(topic, scrub(str(error), self._settings.secrets())))
            else:
                future.set_result(message)

        self._produce(topic, value, key, headers, report, future)
        return future

    def asend(
        self, topic: str, value: bytes, key: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def settle(error: Any, message: Any) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(KafkaForwardError(topic, scrub(str(error), self._settings.secrets())))
            else:
                future.set_result(message)

        def report(error: Any, message: Any) -> None:
            loop.call_soon_threadsafe(settle, error, message)

        self._produce(topic, value, key, headers, report, None)
        return future

    def _produce(
        self,
        topic: str,
        value: bytes,
        key: bytes | None,
        headers: Sequence[tuple[str, bytes]],
        report: Callable[[Any, Any], None],
        future: concurrent.futures.Future[Any] | None,
    ) -> None:
        kafka = confluent_kafka()
        try:
            self._producer.produce(topic, value=value, key=key, headers=list(headers), on_delivery=report)
        except BufferError:  # the local queue is full: the broker is not keeping up
            report(kafka.KafkaError(kafka.KafkaError._QUEUE_FULL), None)
        except kafka.KafkaException as exc:
            report(exc.args[0] if exc.args else exc, None)

    def close(self, timeout: float = 10.0) -> int:
        """Wait up to ``timeout`` s for records in flight; stop the pump. Returns how many were left."""
        left = int(self._producer.flush(timeout))
        self._stop.set()
        self._thread.join()
        return left
