"""The part of :class:`TrackingConsumer` and :class:`AsyncTrackingConsumer` that does no I/O."""

from __future__ import annotations

import collections
import contextlib
import inspect
import logging
import signal
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from .._errors import InvalidPayloadError
from .._telemetry import count, handler_timer, instruments, record_outcome, record_span, set_consumer_lag, tracing
from ._core import (
    LIBRDKAFKA_LOGGER,
    ConsumerFailedError,
    ConsumerStats,
    Counters,
    DedupeOption,
    KafkaDelivery,
    Partition,
    ProducerPump,
    TopicPartitionKey,
    backoff,
    confluent_kafka,
    dead_letter_headers,
    decode_record,
    dedupe_store,
    error_text,
)
from ._settings import KafkaSettings

if TYPE_CHECKING:
    from ..stores import DedupeStore

_log = logging.getLogger("ordercloud_tracking.streams")

_DEFAULT_DLQ: Any = object()
BATCH = 500
# Records fetched but not handled yet wait in librdkafka's (C) queue, not as Python objects: the poll loop
# takes more when fewer than BUFFER are waiting here. Every record object alive is one more for the
# garbage collector to walk (at 50,000 buffered records, its collections cost more than the decoding).
BUFFER = 128
CHUNK = 32  # records of one partition decoded and claimed together (one store batch; few live at once)
ROOM_WAIT = 0.1  # how long a full poll loop waits for its workers to take records before it polls anyway


def is_async_callable(handler: object) -> bool:
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


class _Flag(Protocol):
    """What the shared code does with ``_room``: a ``threading.Event`` or, on the event loop, an ``asyncio.Event``."""

    def is_set(self) -> bool: ...

    def set(self) -> None: ...

    def clear(self) -> None: ...


class ConsumerBase:
    """Options, partition bookkeeping, stats and failure policy; the subclasses do the I/O."""

    # Set by workers when the poll loop may fetch more (see BUFFER); each subclass makes the event it can wait on.
    _room: _Flag
    # Whether the poll loop asks for BATCH records whenever it is not full (up to about BUFFER + BATCH wait then),
    # rather than topping up to 2 * BUFFER.
    _whole_batches = False

    def __init__(
        self,
        settings: KafkaSettings,
        *,
        dedupe: DedupeOption = "memory",
        dead_letter_topic: str | None = _DEFAULT_DLQ,
        retries: int = 3,
        retry_backoff: float = 0.5,
        max_in_flight: int = 4,
        max_pending: int = 5000,
        revoke_timeout: float = 10.0,
        stop_timeout: float = 10.0,
        connect_timeout: float = 10.0,
        commit_interval: float = 1.0,
        stats_interval: float | None = 30.0,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        if not settings.group_id:
            raise ValueError("A consumer needs settings.group_id (its consumer group)")
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        confluent_kafka()  # the missing extra is reported now, not at run()
        self._settings = settings
        self._dedupe = dedupe_store(dedupe)
        from ..stores import MemoryDedupeStore  # loaded by dedupe_store() already

        # Lost with the process anyway: its completions can wait for the end of a chunk (see _claimed_steps).
        self._in_process_store = isinstance(self._dedupe, MemoryDedupeStore)
        self._dead_letter_topic: str | None = (
            f"{settings.topic}.dlq" if dead_letter_topic is _DEFAULT_DLQ else dead_letter_topic
        )
        self._retries = retries
        self._retry_backoff = retry_backoff
        self._max_in_flight = max_in_flight
        self._max_pending = max_pending
        self._revoke_timeout = revoke_timeout
        self._stop_timeout = stop_timeout
        self._connect_timeout = connect_timeout
        self._commit_interval = commit_interval
        self._stats_interval = stats_interval
        self._config = dict(config or {})
        self._counters = Counters()
        self._parts: dict[TopicPartitionKey, Partition] = {}
        # Guards _parts and which partitions have a worker (the poll loop and the sync workers both pick).
        self._sched_lock = threading.Lock()
        self._stopping = threading.Event()
        self._failure: BaseException | None = None
        self._pump: ProducerPump | None = None  # writes dead letters (see _open_pump)
        self._started = False
        self._last_stats = time.monotonic()

    # --- public, shared -----------------------------------------------------------------------------

    @property
    def settings(self) -> KafkaSettings:
        """Where this consumer reads from (the password stays hidden in its repr).

        >>> from ordercloud_tracking.streams import KafkaSettings, TrackingConsumer
        >>> TrackingConsumer(KafkaSettings("localhost:9092", "tracking", group_id="shop")).settings.topic
        'tracking'
        """
        return self._settings

    @property
    def dead_letter_topic(self) -> str | None:
        """Where records that fail every attempt go (``<topic>.dlq`` by default; ``None``: stop instead).

        >>> from ordercloud_tracking.streams import KafkaSettings, TrackingConsumer
        >>> TrackingConsumer(KafkaSettings("localhost:9092", "tracking", group_id="shop")).dead_letter_topic
        'tracking.dlq'
        """
        return self._dead_letter_topic

    @property
    def stats(self) -> ConsumerStats:
        """A snapshot of the counters and of the lag of each assigned partition (safe from any thread).

        >>> from ordercloud_tracking.streams import KafkaSettings, TrackingConsumer
        >>> TrackingConsumer(KafkaSettings("localhost:9092", "tracking", group_id="shop")).stats.processed
        0
        """
        parts = sorted(self._parts.copy().values(), key=lambda p: (p.topic, p.partition))
        return self._counters.snapshot(tuple(part.lag() for part in parts))

    def stop(self) -> None:
        """Ask ``run()`` to finish: records in progress complete (within ``stop_timeout``), what is done is
        committed, and ``run()`` returns. Safe from any thread, from a signal handler and from the handler.

        >>> from ordercloud_tracking.streams import KafkaSettings, TrackingConsumer
        >>> TrackingConsumer(KafkaSettings("localhost:9092", "tracking", group_id="shop")).stop()
        """
        self._stopping.set()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(topic={self._settings.topic!r}, group_id={self._settings.group_id!r}, "
            f"bootstrap_servers={self._settings.bootstrap_servers!r}, dead_letter_topic={self._dead_letter_topic!r})"
        )

    # --- for the subclasses -------------------------------------------------------------------------

    def _begin(self) -> None:
        if self._started:
            raise RuntimeError(f"{type(self).__name__}.run() can be called once; make a new consumer")
        self._started = True

    def _open_pump(self) -> None:
        """Start the producer that writes dead letters (none without a dead-letter topic)."""
        if self._dead_letter_topic is not None:
            self._pump = ProducerPump(self._settings, {})

    def _consumer_config(self) -> dict[str, Any]:
        return self._settings.client_config(
            **{
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "enable.partition.eof": False,
                "logger": LIBRDKAFKA_LOGGER,
                **self._config,
            }
        )

    def _connection_error(self, error: object) -> Exception:
        from ._core import KafkaConnectionError, scrub

        reason = scrub(str(error), self._settings.secrets())
        return KafkaConnectionError(self._settings.bootstrap_servers, f"{reason} (waited {self._connect_timeout:g} s)")

    def _fatal_kafka_error(self, error: Any) -> Exception | None:
        """A client error that makes going on pointless (bad credentials, fatal client state)."""
        kafka = confluent_kafka()
        code = error.code()
        if error.fatal() or code in (
            kafka.KafkaError._AUTHENTICATION,
            kafka.KafkaError.SASL_AUTHENTICATION_FAILED,
            kafka.KafkaError.TOPIC_AUTHORIZATION_FAILED,
            kafka.KafkaError.GROUP_AUTHORIZATION_FAILED,
        ):
            return self._connection_error(error)
        return None

    def _fail(self, error: BaseException) -> None:
        if self._failure is None:
            self._failure = error
        self._stopping.set()

    def _assigned(self, partitions: Iterable[Any]) -> None:
        with self._sched_lock:
            for tp in partitions:
                self._parts[(tp.topic, tp.partition)] = Partition(tp.topic, tp.partition)
        _log.info("Assigned %s", partition_names(partitions))

    def _take_revoked(self, partitions: Iterable[Any]) -> list[Partition]:
        taken = []
        with self._sched_lock:
            for tp in partitions:
                part = self._parts.pop((tp.topic, tp.partition), None)
                if part is not None:
                    part.revoked = True
                    part.pending.clear()
                    taken.append(part)
        for tp in partitions:
            set_consumer_lag(tp.topic, tp.partition, self._settings.group_id or "", None)
        return taken

    def _route(self, records: Iterable[Any]) -> None:
        """Queue fetched records on their partitions (records of partitions no longer ours are dropped)."""
        for record in records:
            error = record.error()
            if error is not None:
                fatal = self._fatal_kafka_error(error)
                if fatal is not None:
                    self._fail(fatal)
                else:
                    _log.warning("Kafka consumer error: %s", error)
                continue
            part = self._parts.get((record.topic(), record.partition()))
            if part is not None and not part.revoked:
                part.pending.append(record)

    def _ready(self) -> list[Partition]:
        """Partitions with records waiting and no worker on them (at most ``max_in_flight`` running);
        each is marked running: the caller starts a worker on it."""
        with self._sched_lock:
            running = sum(1 for part in self._parts.values() if part.running)
            ready = []
            for part in self._parts.values():
                if running >= self._max_in_flight:
                    break
                if part.pending and not part.running and not part.revoked:
                    part.running = True
                    running += 1
                    ready.append(part)
            return ready

    def _buffered(self) -> int:
        """Records fetched and waiting for a worker, over all partitions."""
        return sum(len(part.pending) for part in tuple(self._parts.values()))

    def _busy(self) -> bool:
        """Whether records fetched now would wait: every worker is busy, or every partition has one."""
        parts = tuple(self._parts.values())
        running = sum(1 for part in parts if part.running)
        return running >= self._max_in_flight or running >= len(parts)

    def _full(self) -> bool:
        return self._buffered() >= BUFFER and self._busy()

    def _wait_for_room(self) -> bool:
        """Whether the poll loop waits for ``_room`` (at most ``ROOM_WAIT`` s) before it polls: every worker
        is busy and ``BUFFER`` records wait. (``_room`` is cleared here; a worker taking records sets it.)"""
        if not self._full():
            return False
        self._room.clear()
        return self._full()

    def _fetch_size(self) -> tuple[int, float]:
        """(how many records to ask the consumer for, how long to wait for them), after
        :meth:`_wait_for_room`. Still full: one record without waiting (that still serves rebalances). A
        free worker gets records within ``ROOM_WAIT``, even when the waiting ones are all one slow
        partition's (being woken each time a worker ends costs more)."""
        if self._full():
            return 1, 0.0
        if self._whole_batches:
            return BATCH, 0.1
        wanted = 2 * BUFFER - self._buffered()
        return min(BATCH, max(wanted, 1 if self._busy() else BUFFER)), 0.1

    def _took(self) -> None:
        """A worker took records: wake the poll loop when few are left."""
        if not self._room.is_set() and self._buffered() < BUFFER // 2:
            self._room.set()

    def _next_chunk(self, part: Partition) -> list[Any]:
        """The next ``CHUNK`` of ``part``'s waiting records for its worker; empty when none wait, the consumer
        stops or the partition was revoked."""
        if not self._wanted(part):
            return []
        chunk = take(part.pending, CHUNK)
        if chunk:
            self._took()
        return chunk

    def _next_part(self, part: Partition) -> Partition | None:
        """A worker done with ``part`` takes another partition with records waiting (without waiting for
        the poll loop), or ``None``: then it ends (at once when ``part`` was revoked: a revocation waits
        for it)."""
        with self._sched_lock:
            part.running = False
            if not self._wanted(part):
                return None
            for other in self._parts.values():
                if other.pending and not other.running and not other.revoked:
                    other.running = True
                    return other
            return None

    def _flow(self) -> tuple[list[Any], list[Any]]:
        """(partitions to pause, partitions to resume) so no partition buffers more than ``max_pending``."""
        kafka = confluent_kafka()
        pause, resume = [], []
        for part in self._parts.values():
            size = len(part.pending)
            if not part.paused and size >= self._max_pending:
                part.paused = True
                pause.append(kafka.TopicPartition(part.topic, part.partition))
            elif part.paused and size <= self._max_pending // 2:
                part.paused = False
                resume.append(kafka.TopicPartition(part.topic, part.partition))
        return pause, resume

    def _pauses(self, part: Partition, seconds: float) -> Iterator[float]:
        """The sleeps a wait of ``seconds`` is made of; fewer when the consumer stops or ``part`` is revoked."""
        deadline = time.monotonic() + seconds
        while self._wanted(part):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            yield min(_SLICE, left)

    def _wanted(self, part: Partition) -> bool:
        """Whether ``part``'s records are still to be handled here (not stopping, not revoked)."""
        return not self._stopping.is_set() and not part.revoked

    def _offsets(self, parts: Iterable[Partition]) -> list[Any]:
        kafka = confluent_kafka()
        return [kafka.TopicPartition(p.topic, p.partition, p.done) for p in parts if p.uncommitted()]

    def _commit_plan(self, parts: list[Partition] | None) -> _CommitPlan | None:
        """What to commit for ``parts`` (every assigned partition by default); ``None`` when nothing is new."""
        chosen = list(self._parts.values()) if parts is None else parts
        offsets = self._offsets(chosen)
        return _CommitPlan(offsets, chosen) if offsets else None

    def _maybe_log_stats(self) -> None:
        if not self._stats_interval:
            return
        now = time.monotonic()
        if now - self._last_stats >= self._stats_interval:
            self._last_stats = now
            _log.info("Kafka consumer %s: %s", self._settings.group_id, self.stats.describe())

    def _note_high_watermark(self, part: Partition, high: int | None) -> None:
        if high is not None and high >= 0:
            part.high_watermark = high
            set_consumer_lag(part.topic, part.partition, self._settings.group_id or "", part.lag().lag)

    # --- a partition's records a chunk at a time: the same policy with far fewer store calls -----------

    def _claim_chunk(self, records: Sequence[Any], start: int) -> list[_Claimed]:
        """Decode ``records[start:]`` and claim them in one store batch, up to the first record that must
        take the one-by-one path (:meth:`_steps`): undecodable, the delivery key of an earlier record of
        the batch (its claim depends on that one's completion: entity-latest-state), or in flight
        elsewhere. Empty when ``records[start]`` is such a record. Every claim made is the caller's:
        :meth:`_chunk_steps` completes or releases it.
        """
        chosen: list[_Claimed] = []
        keys: set[str] = set()
        for index in range(start, len(records)):
            try:
                delivery = _decode(records[index])
            except (InvalidPayloadError, TypeError):
                break
            if delivery.delivery_key in keys:
                break
            keys.add(delivery.delivery_key)
            chosen.append(_Claimed(records[index], delivery))
        store = self._dedupe
        if store is None or not chosen:
            return chosen
        with _batch(store):
            for index, item in enumerate(chosen):
                claim = store.claim(item.delivery.delivery_key, item.delivery.fingerprint)
                if claim == "in_flight":
                    return chosen[:index]
                item.duplicate = claim == "duplicate"
        return chosen

    def _chunk_steps(self, part: Partition, chunk: Sequence[Any]) -> Generator[Step, Any, bool]:
        """Handle the records of ``chunk`` in order (the steps of :meth:`_steps`); whether all are done.

        Runs of records are decoded and claimed together (:meth:`_claim_chunk`, :meth:`_claimed_steps`);
        a record that cannot be, and one whose first attempt failed, go through :meth:`_steps` (so do all
        when spans are recorded: a span is one record's).
        """
        start = 0
        while start < len(chunk):
            done, failed = (0, None) if tracing() else (yield from self._claimed_steps(part, chunk, start))
            start += done
            if start == len(chunk):
                break
            if failed is None and not self._wanted(part):
                return False
            record = chunk[start]  # undecodable, a repeated key, in flight elsewhere, or it failed once
            if not (yield from self._record_steps(record, failed)):
                return False
            part.done = record.offset() + 1
            start += 1
        return True

    def _claimed_steps(
        self, part: Partition, chunk: Sequence[Any], start: int
    ) -> Generator[Step, Any, tuple[int, Exception | None]]:
        """Handle the records of ``chunk`` from ``start`` on that :meth:`_claim_chunk` claims, in order: a
        ``Handle`` step for each (duplicates are skipped). Returns how many records are done and, when
        the record after them failed its first attempt, that error (its claim is released; the caller
        goes on with its retries through :meth:`_steps`). Stops early when the consumer stops or the
        partition is revoked.

        Each completion is written as soon as its handler succeeded, before the record counts as done,
        so after a crash a durable store (SQLite) repeats at most the record that was in progress; an
        in-process ``MemoryDedupeStore``, which a crash loses anyway, gets the chunk's completions in
        one batch at the end. Unused claims are released. ``part.done`` only moves past completed records.
        """
        claimed = self._claim_chunk(chunk, start)
        if not claimed:
            return 0, None
        store = self._dedupe
        deferred: list[_Claimed] | None = [] if self._in_process_store else None
        metered = instruments() is not None  # per-record metrics only when a meter provider is set up
        done = processed = duplicates = 0
        failed: Exception | None = None
        try:
            for item in claimed:
                if not self._wanted(part):
                    break
                delivery = item.delivery
                if item.duplicate:
                    duplicates += 1
                    if metered:
                        record_outcome("duplicate", delivery.topic, 0, delivery.event_type)
                else:
                    if metered:
                        with handler_timer(delivery.event_type, delivery.topic):
                            error = yield Handle(delivery)
                    else:
                        error = yield Handle(delivery)
                    if error is not None:
                        failed = error
                        break
                    if deferred is not None:
                        deferred.append(item)
                    elif store is not None:
                        store.complete(delivery.delivery_key, delivery.fingerprint)
                    processed += 1
                    if metered:
                        record_outcome("processed", delivery.topic, 1, delivery.event_type)
                done += 1
                if not deferred:
                    part.done = item.record.offset() + 1
        finally:  # a BaseException too: what was handled is completed, the other claims are released
            unused = [item for item in claimed[done:] if not item.duplicate] if store is not None else []
            if store is not None and (deferred or unused):
                with _batch(store):
                    for item in deferred or ():
                        store.complete(item.delivery.delivery_key, item.delivery.fingerprint)
                    for item in unused:
                        store.release(item.delivery.delivery_key, item.delivery.fingerprint)
            if done:
                part.done = claimed[done - 1].record.offset() + 1
            if processed:
                self._counters.add("processed", processed)
            if duplicates:
                self._counters.add("duplicates", duplicates)
        return done, failed

    # --- one record, as steps the executors perform (the same policy for threads and asyncio) ----------

    def _record_steps(self, record: Any, failed: Exception | None = None) -> Generator[Step, Any, bool]:
        """:meth:`_steps`, inside the record's span (continuing the producer's trace) when spans are recorded."""
        return self._traced_steps(record, failed) if tracing() else self._steps(record, failed)

    def _traced_steps(self, record: Any, failed: Exception | None) -> Generator[Step, Any, bool]:
        with record_span(
            record.topic(),
            record.partition(),
            record.offset(),
            consumer_group=self._settings.group_id,
            headers=record.headers,
        ):
            return (yield from self._steps(record, failed))

    def _steps(self, record: Any, failed: Exception | None = None) -> Generator[Step, Any, bool]:
        """Handle one record: yields what to do, receives its outcome, returns whether the record is done.

        ``Handle`` → ``None`` (succeeded) or the ``Exception`` it raised (a ``BaseException`` is thrown
        in); ``Wait`` → whether to go on (``False``: stopped or revoked meanwhile, abandon the record);
        ``DeadLetter`` → whether it was written. Done means handled, a duplicate, or dead-lettered.
        ``failed``: the first attempt was made already (by :meth:`_chunk_steps`), raised this, and its
        claim was released; the steps go on from its retry.
        """
        try:
            delivery = _decode(record)
        except (InvalidPayloadError, TypeError) as exc:
            written: bool = yield DeadLetter(record, exc, 1)
            record_outcome("dead_lettered" if written else "failed", record.topic(), 0, error=exc)
            return written
        store = self._dedupe
        key, fingerprint = delivery.delivery_key, delivery.fingerprint
        attempt = 0 if failed is None else 1
        error: Exception | None = failed
        while True:
            if error is None:
                claim = store.claim(key, fingerprint) if store is not None else "new"
                if claim == "duplicate":
                    self._counters.add("duplicates")
                    record_outcome("duplicate", delivery.topic, attempt, delivery.event_type)
                    return True
                if claim == "in_flight":  # another consumer is on it (a rebalance moved it): wait for its outcome
                    if not (yield Wait(_SLICE)):
                        return False
                    continue
                attempt += 1
                try:
                    with handler_timer(delivery.event_type, delivery.topic):
                        error = yield Handle(delivery)
                except BaseException:
                    if store is not None:
                        store.release(key, fingerprint)
                    raise
                if error is None:
                    if store is not None:
                        store.complete(key, fingerprint)
                    self._counters.add("processed")
                    record_outcome("processed", delivery.topic, attempt, delivery.event_type)
                    return True
                if store is not None:
                    store.release(key, fingerprint)
            if attempt > self._retries:
                written = yield DeadLetter(record, error, attempt)
                record_outcome(
                    "dead_lettered" if written else "failed", delivery.topic, attempt, delivery.event_type, error
                )
                return written
            self._counters.add("retried")
            count(
                "retries", 1, {"messaging.destination.name": delivery.topic, "ordercloud.event_type": _event(delivery)}
            )
            _log.warning(
                "Handler failed on %s (attempt %d of %d): %s",
                _where(record),
                attempt,
                self._retries + 1,
                error_text(error, self._settings.secrets()),
            )
            if not (yield Wait(backoff(attempt, self._retry_backoff))):
                return False
            error = None

    def _dead_letter_target(self, step: DeadLetter) -> tuple[ProducerPump, _Message] | None:
        """The producer and the message (topic, value, key, headers) that dead-letter ``step.record``, or
        ``None`` after failing the consumer (no dead-letter topic)."""
        record = step.record
        if self._dead_letter_topic is None or self._pump is None:
            self._fail(self._gave_up(record, step.error, step.attempts))
            return None
        headers = dead_letter_headers(
            record.headers() or [],
            topic=record.topic(),
            partition=record.partition(),
            offset=record.offset(),
            error=step.error,
            attempts=step.attempts,
            secrets=self._settings.secrets(),
        )
        return self._pump, (self._dead_letter_topic, record.value(), record.key(), headers)

    @property
    def _dead_letter_timeout(self) -> float:
        return max(self._stop_timeout, 1.0) * 3

    def _dead_lettered(self, step: DeadLetter, failure: BaseException | None = None) -> bool:
        """Count and log the outcome of a dead-letter write; a failed write stops the consumer."""
        if failure is not None:
            self._fail(self._gave_up(step.record, failure, step.attempts))
            return False
        self._counters.add("dead_lettered")
        _log.warning(
            "Dead-lettered %s to %s after %d attempt(s)", _where(step.record), self._dead_letter_topic, step.attempts
        )
        return True

    def _gave_up(self, record: Any, error: BaseException, attempts: int) -> ConsumerFailedError:
        failure = ConsumerFailedError(
            record.topic(),
            record.partition(),
            record.offset(),
            error_text(error, self._settings.secrets()),
            attempts=attempts,
        )
        failure.__cause__ = error
        return failure


class _Claimed:
    """A record of a chunk, decoded and claimed (``duplicate``: the claim said so, nothing is held)."""

    __slots__ = ("delivery", "duplicate", "record")

    def __init__(self, record: Any, delivery: KafkaDelivery) -> None:
        self.record = record
        self.delivery = delivery
        self.duplicate = False


def _decode(record: Any) -> KafkaDelivery:
    return decode_record(
        record.topic(), record.partition(), record.offset(), record.key(), record.value(), record.headers()
    )


def _batch(store: DedupeStore) -> contextlib.AbstractContextManager[Any]:
    """The store's ``batch()`` (many calls as one step) when it has one, else nothing."""
    batch = getattr(store, "batch", None)
    return batch() if callable(batch) else contextlib.nullcontext()


def take(pending: collections.deque[Any], n: int) -> list[Any]:
    """Up to ``n`` records from the front of ``pending`` (which a revocation may clear meanwhile)."""
    taken: list[Any] = []
    try:
        for _ in range(min(n, len(pending))):
            taken.append(pending.popleft())
    except IndexError:
        pass
    return taken


class Handle:
    """Call the handler with ``delivery``; the outcome sent back is ``None`` or the ``Exception`` it raised."""

    __slots__ = ("delivery",)

    def __init__(self, delivery: KafkaDelivery) -> None:
        self.delivery = delivery


@attrs.frozen
class Wait:
    seconds: float


@attrs.frozen
class DeadLetter:
    record: Any
    error: BaseException
    attempts: int


Step = Handle | Wait | DeadLetter
_Message = tuple[str, bytes, bytes | None, list[tuple[str, bytes]]]  # topic, value, key, headers


@attrs.frozen
class _CommitPlan:
    """The offsets to commit for ``parts``; ``done()`` or ``failed(error)`` once the commit returned."""

    offsets: list[Any]
    parts: list[Partition]

    def done(self) -> None:
        parts = {(p.topic, p.partition): p for p in self.parts}
        for tp in self.offsets:
            part = parts.get((tp.topic, tp.partition))
            if part is not None and tp.offset > part.committed:
                part.committed = tp.offset

    def failed(self, error: BaseException) -> None:
        _log.warning(
            "Commit of %s failed (they are committed later or redelivered): %s", partition_names(self.offsets), error
        )


_SLICE = 0.05  # how often a waiting record looks at stop() and revocation


def _event(delivery: KafkaDelivery) -> str:
    return "unknown" if delivery.event_type is None else str(delivery.event_type.value)


def _where(record: Any) -> str:
    return f"{record.topic()}[{record.partition()}]@{record.offset()}"


def partition_names(partitions: Iterable[Any]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing"


class Signals:
    """SIGINT/SIGTERM call ``stop`` while ``run()`` is running in the main thread; restored afterwards."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self._stop = stop
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, lambda _signum, _frame: self._stop())

    def __exit__(self, *exc_info: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()
