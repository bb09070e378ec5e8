"""The thread-based consumer: :class:`TrackingConsumer`."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from .._driven import Driven
from ._base import ROOM_WAIT, ConsumerBase, DeadLetter, Handle, Signals, Step, Wait, is_async_callable, partition_names
from ._core import KafkaDelivery, Partition, confluent_kafka

_log = logging.getLogger("ordercloud_tracking.streams")
T = TypeVar("T")


class TrackingConsumer(ConsumerBase):
    """Consume tracking messages from a Kafka topic (or an Event Hub) in a consumer group, at least once.

    ``run(handler)`` blocks until :meth:`stop` (from any thread or from the handler), SIGINT or SIGTERM.
    The handler is a plain function taking a :class:`~ordercloud_tracking.streams.KafkaDelivery`; for
    an ``async`` handler use :class:`~ordercloud_tracking.streams.AsyncTrackingConsumer`.

    - **At least once, no gaps.** An offset is committed only after the handler succeeded (or the
      record was skipped as a duplicate, or dead-lettered) for that record and every earlier record of
      its partition.
    - **Order per partition.** A partition's records are handled one after the other; up to
      ``max_in_flight`` partitions are handled at the same time, each in a worker thread. Fetched
      records wait in librdkafka's queue; a few hundred at a time are taken into Python, and a partition
      with ``max_pending`` records waiting there is paused until half of them are done.
    - **Duplicates** (a redelivery after a crash or a rebalance) are skipped through ``dedupe`` (a
      :class:`~ordercloud_tracking.stores.DedupeStore`; ``"memory"`` by default, ``None`` for none):
      claim → handler → complete, release when the handler fails. A partition's waiting records are
      claimed up to 32 at a time in one store batch; each completion is written right after its handler
      (a ``MemoryDedupeStore``'s, which a crash loses anyway, once for the batch).
    - **Failures.** A handler exception is retried ``retries`` times with exponential backoff from
      ``retry_backoff`` seconds; then the record goes to ``dead_letter_topic`` (``<topic>.dlq`` by
      default) with ``oc-dlq-*`` headers (error type and message, original topic, partition, offset,
      attempts) and is committed. A record that is not a JSON object goes there at once. With
      ``dead_letter_topic=None`` the consumer stops and ``run()`` raises
      :class:`~ordercloud_tracking.streams.ConsumerFailedError` instead.
    - **Rebalances and stopping.** When partitions are revoked, records in progress finish (or are
      abandoned after ``revoke_timeout`` seconds) and what is done is committed before the partitions
      move; at :meth:`stop` the same within ``stop_timeout`` — ``run()`` does not wait for a handler
      that outlives it (its record is not committed).
    - An unreachable broker is a :class:`~ordercloud_tracking.streams.KafkaConnectionError` after
      ``connect_timeout`` seconds.

    >>> from ordercloud_tracking.streams import KafkaSettings
    >>> from ordercloud_tracking.testing import kafka_cluster
    >>> from confluent_kafka import Producer
    >>> with kafka_cluster() as cluster:
    ...     cluster.create_topic("tracking", partitions=2)
    ...     producer = Producer({"bootstrap.servers": cluster.bootstrap_servers})
    ...     producer.produce("tracking", b'{"OrderID": "o-1", "LineItems": []}')
    ...     producer.flush(10)
    ...     settings = KafkaSettings(cluster.bootstrap_servers, "tracking", group_id="shop")
    ...     with TrackingConsumer(settings) as consumer:
    ...         def handle(delivery):
    ...             print(delivery.event_type.value, delivery.delivery_key)
    ...             consumer.stop()
    ...         consumer.run(handle)
    0
    OrderSubmitted order:o-1
    """

    _room: threading.Event

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._room = threading.Event()
        self._consumer: Any = None

    def __enter__(self) -> TrackingConsumer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def run(self, handler: Callable[[KafkaDelivery], Any]) -> None:
        """Consume until :meth:`stop`, SIGINT or SIGTERM; then finish what is in progress and commit it.

        Raises:
            KafkaConnectionError: the brokers could not be reached within ``connect_timeout``, or
                refused the credentials.
            ConsumerFailedError: a record could be neither handled nor dead-lettered.
            TypeError: ``handler`` is ``async`` (use :class:`AsyncTrackingConsumer`).

        >>> from ordercloud_tracking.streams import KafkaSettings
        >>> consumer = TrackingConsumer(KafkaSettings("127.0.0.1:1", "t", group_id="g"), connect_timeout=0.5)
        >>> consumer.run(print)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ordercloud_tracking.streams._core.KafkaConnectionError: Could not reach Kafka at 127.0.0.1:1: ...
        """
        if is_async_callable(handler):
            raise TypeError("TrackingConsumer needs a plain handler; use AsyncTrackingConsumer for an async one")
        self._begin()
        kafka = confluent_kafka()
        consumer = kafka.Consumer(self._consumer_config())
        self._consumer = consumer
        try:
            try:
                consumer.list_topics(self._settings.topic, timeout=self._connect_timeout)
            except kafka.KafkaException as exc:
                raise self._connection_error(exc.args[0] if exc.args else exc) from None
            self._open_pump()
            consumer.subscribe(
                [self._settings.topic], on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
            )
            workers = concurrent.futures.ThreadPoolExecutor(
                self._max_in_flight, thread_name_prefix="ordercloud-kafka-worker"
            )
            try:
                with Signals(self.stop):
                    self._loop(consumer, workers, handler)
            finally:
                self._stopping.set()  # workers finish their record and take no more
                # A handler still running after stop_timeout was abandoned (its record is not committed):
                # it finishes on its own thread, without holding up run() or the group.
                workers.shutdown(wait=False, cancel_futures=True)
        finally:
            try:
                consumer.close()
            finally:
                self._consumer = None
                if self._pump is not None:
                    self._pump.close()
        if self._failure is not None:
            raise self._failure

    # --- the poll loop (this thread owns the librdkafka consumer) ---------------------------------------

    def _loop(
        self, consumer: Any, workers: concurrent.futures.Executor, handler: Callable[[KafkaDelivery], Any]
    ) -> None:
        last_commit = time.monotonic()
        while not self._stopping.is_set():
            if self._wait_for_room():
                self._room.wait(ROOM_WAIT)
            self._route(consumer.consume(*self._fetch_size()))
            for part in self._ready():
                workers.submit(self._drain, part, handler)
            pause, resume = self._flow()
            if pause:
                consumer.pause(pause)
            if resume:
                consumer.resume(resume)
            if time.monotonic() - last_commit >= self._commit_interval:
                last_commit = time.monotonic()
                self._commit(consumer, asynchronous=True)
                self._refresh_lag(consumer)
                self._maybe_log_stats()
        self._finish(list(self._parts.values()), self._stop_timeout)
        self._commit(consumer, asynchronous=False)

    def _commit(self, consumer: Any, *, asynchronous: bool, parts: list[Partition] | None = None) -> None:
        if plan := self._commit_plan(parts):
            try:
                consumer.commit(offsets=plan.offsets, asynchronous=asynchronous)
            except confluent_kafka().KafkaException as exc:
                plan.failed(exc)
            else:
                plan.done()

    def _refresh_lag(self, consumer: Any) -> None:
        kafka = confluent_kafka()
        for part in list(self._parts.values()):
            where = kafka.TopicPartition(part.topic, part.partition)
            with contextlib.suppress(kafka.KafkaException):
                self._note_high_watermark(part, consumer.get_watermark_offsets(where, cached=True)[1])

    @staticmethod
    def _finish(parts: list[Partition], timeout: float) -> None:
        """Wait (up to ``timeout``) for the workers on ``parts`` to finish their record; abandon the rest."""
        deadline = time.monotonic() + timeout
        while any(p.running and not p.abandoned for p in parts) and time.monotonic() < deadline:
            time.sleep(0.01)
        for part in parts:
            if part.running and not part.abandoned:
                part.abandoned = part.revoked = True  # its worker stops after the record; nobody waits again
                _log.warning("Abandoned the record in progress on %s[%d]: not committed", part.topic, part.partition)

    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        self._assigned(partitions)

    def _on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        parts = self._take_revoked(partitions)
        self._finish(parts, self._revoke_timeout)
        self._commit(consumer, asynchronous=False, parts=parts)
        _log.info("Revoked %s", partition_names(partitions))

    def _on_lost(self, consumer: Any, partitions: list[Any]) -> None:
        self._take_revoked(partitions)
        _log.warning("Lost %s (not committed: another consumer owns them now)", partition_names(partitions))

    # --- workers ------------------------------------------------------------------------------------------

    def _drain(self, part: Partition, handler: Callable[[KafkaDelivery], Any]) -> None:
        """Handle the waiting records of ``part``, then those of any other partition waiting for a worker
        (taking it over here is quicker than waiting for the poll loop to hand it out)."""
        current: Partition | None = part
        while current is not None:
            try:
                self._drain_partition(current, handler)
            except BaseException as exc:  # a bug or KeyboardInterrupt in a worker: stop, commit nothing more
                self._fail(exc)
                current.running = False
                return
            current = self._next_part(current)
        self._took()

    def _drain_partition(self, part: Partition, handler: Callable[[KafkaDelivery], Any]) -> None:
        while chunk := self._next_chunk(part):
            if not self._perform(part, self._chunk_steps(part, chunk), handler):
                return

    def _wait(self, part: Partition, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopped or revoked meanwhile (then ``False``: abandon the record)."""
        for pause in self._pauses(part, seconds):
            time.sleep(pause)
        return self._wanted(part)

    def _perform(self, part: Partition, steps: Generator[Step, Any, T], handler: Callable[[KafkaDelivery], Any]) -> T:
        """Perform ``steps`` (see ``ConsumerBase._steps``) and return what they return."""
        with Driven(steps) as run:
            while (step := run.step) is not None:
                if isinstance(step, Handle):
                    try:
                        handler(step.delivery)
                    except Exception as exc:  # a BaseException leaves the block: Driven throws it into the steps
                        run.send(exc)
                    else:
                        run.send(None)
                elif isinstance(step, Wait):
                    run.send(self._wait(part, step.seconds))
                else:
                    run.send(self._dead_letter(step))
        return run.value

    def _dead_letter(self, step: DeadLetter) -> bool:
        target = self._dead_letter_target(step)
        if target is None:
            return False
        pump, message = target
        try:
            pump.send(*message).result(timeout=self._dead_letter_timeout)
        except Exception as exc:
            return self._dead_lettered(step, exc)
        return self._dead_lettered(step)
