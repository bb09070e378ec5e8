"""The asyncio consumer: :class:`AsyncTrackingConsumer`."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

from .._driven import Driven
from ._base import ROOM_WAIT, ConsumerBase, DeadLetter, Handle, Step, Wait, is_async_callable, partition_names
from ._core import KafkaDelivery, Partition, TopicPartitionKey, confluent_kafka

_log = logging.getLogger("ordercloud_tracking.streams")
T = TypeVar("T")


class AsyncTrackingConsumer(ConsumerBase):
    """The asyncio twin of :class:`~ordercloud_tracking.streams.TrackingConsumer` (same options and semantics).

    ``await run(handler)`` consumes until :meth:`stop`, SIGINT or SIGTERM. An ``async`` handler runs on
    the event loop, one task per partition in progress (up to ``max_in_flight``); a plain handler runs
    in a worker thread (``asyncio.to_thread``) so it cannot block the loop. The Kafka client is
    ``confluent_kafka.aio.AIOConsumer`` (librdkafka calls run in its small thread pool; rebalance
    callbacks are coroutines on this loop). Dedupe store calls are made on the loop: keep them fast
    (the memory and SQLite stores are).

    >>> import asyncio
    >>> from ordercloud_tracking.streams import KafkaSettings
    >>> from ordercloud_tracking.testing import kafka_cluster
    >>> from confluent_kafka import Producer
    >>> async def main(servers: str) -> None:
    ...     settings = KafkaSettings(servers, "tracking", group_id="shop")
    ...     async with AsyncTrackingConsumer(settings) as consumer:
    ...         async def handle(delivery):
    ...             print(delivery.event_type.value, delivery.delivery_key)
    ...             consumer.stop()
    ...         await consumer.run(handle)
    >>> with kafka_cluster() as cluster:
    ...     cluster.create_topic("tracking", partitions=2)
    ...     producer = Producer({"bootstrap.servers": cluster.bootstrap_servers})
    ...     producer.produce("tracking", b'{"OrderID": "o-1", "LineItems": []}')
    ...     producer.flush(10)
    ...     asyncio.run(main(cluster.bootstrap_servers))
    0
    OrderSubmitted order:o-1
    """

    _room: asyncio.Event  # set by the tasks, on the loop: the poll loop awaits it without blocking the loop
    _whole_batches = True  # each poll is a round trip through a thread: fewer, larger ones

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._room = asyncio.Event()
        self._tasks: dict[TopicPartitionKey, asyncio.Task[None]] = {}

    async def __aenter__(self) -> AsyncTrackingConsumer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.stop()

    async def run(self, handler: Callable[[KafkaDelivery], Any]) -> None:
        """Consume until :meth:`stop`, SIGINT or SIGTERM; then finish what is in progress and commit it.

        Raises:
            KafkaConnectionError: the brokers could not be reached within ``connect_timeout``, or
                refused the credentials.
            ConsumerFailedError: a record could be neither handled nor dead-lettered.

        >>> import asyncio
        >>> from ordercloud_tracking.streams import KafkaSettings
        >>> consumer = AsyncTrackingConsumer(KafkaSettings("127.0.0.1:1", "t", group_id="g"), connect_timeout=0.5)
        >>> asyncio.run(consumer.run(print))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ordercloud_tracking.streams._core.KafkaConnectionError: Could not reach Kafka at 127.0.0.1:1: ...
        """
        self._begin()
        kafka = confluent_kafka()
        from confluent_kafka.aio import AIOConsumer

        consumer = AIOConsumer(self._consumer_config(), max_workers=4)
        signals = _LoopSignals(self.stop)
        try:
            try:
                await consumer.list_topics(self._settings.topic, timeout=self._connect_timeout)
            except kafka.KafkaException as exc:
                raise self._connection_error(exc.args[0] if exc.args else exc) from None
            self._open_pump()
            await consumer.subscribe(
                [self._settings.topic], on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
            )
            with signals:
                await self._loop(consumer, _caller(handler))
        finally:
            try:
                await consumer.close()
            finally:
                if self._pump is not None:
                    await asyncio.to_thread(self._pump.close)
        if self._failure is not None:
            raise self._failure

    async def _loop(self, consumer: Any, handler: _Call) -> None:
        last_commit = time.monotonic()
        try:
            while not self._stopping.is_set():
                if self._wait_for_room():
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._room.wait(), ROOM_WAIT)
                self._route(await consumer.consume(*self._fetch_size()))
                for part in self._ready():
                    self._tasks[(part.topic, part.partition)] = asyncio.create_task(self._drain(part, handler))
                pause, resume = self._flow()
                if pause:
                    await consumer.pause(pause)
                if resume:
                    await consumer.resume(resume)
                if time.monotonic() - last_commit >= self._commit_interval:
                    last_commit = time.monotonic()
                    await self._commit(consumer, asynchronous=True)
                    await self._refresh_lag(consumer)
                    self._maybe_log_stats()
        finally:
            self._stopping.set()  # tasks finish their record and take no more
            await self._finish(list(self._parts.values()), self._stop_timeout)
        await self._commit(consumer, asynchronous=False)

    async def _commit(self, consumer: Any, *, asynchronous: bool, parts: list[Partition] | None = None) -> None:
        if plan := self._commit_plan(parts):
            try:
                await consumer.commit(offsets=plan.offsets, asynchronous=asynchronous)
            except confluent_kafka().KafkaException as exc:
                plan.failed(exc)
            else:
                plan.done()

    async def _refresh_lag(self, consumer: Any) -> None:
        kafka = confluent_kafka()
        for part in list(self._parts.values()):
            where = kafka.TopicPartition(part.topic, part.partition)
            with contextlib.suppress(kafka.KafkaException):
                self._note_high_watermark(part, (await consumer.get_watermark_offsets(where, cached=True))[1])

    async def _finish(self, parts: list[Partition], timeout: float) -> None:
        """Let the tasks on ``parts`` finish their current record; cancel them after ``timeout``."""
        tasks = [task for part in parts if (task := self._tasks.pop((part.topic, part.partition), None)) is not None]
        tasks = [task for task in tasks if not task.done()]
        if not tasks:
            return
        _done, late = await asyncio.wait(tasks, timeout=timeout)
        for task in late:
            _log.warning("Abandoned a record in progress after %g s: not committed", timeout)
            task.cancel()
        if late:
            await asyncio.wait(late)

    async def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        self._assigned(partitions)

    async def _on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        parts = self._take_revoked(partitions)
        await self._finish(parts, self._revoke_timeout)
        await self._commit(consumer, asynchronous=False, parts=parts)
        _log.info("Revoked %s", partition_names(partitions))

    async def _on_lost(self, consumer: Any, partitions: list[Any]) -> None:
        for part in self._take_revoked(partitions):
            task = self._tasks.pop((part.topic, part.partition), None)
            if task is not None:
                task.cancel()
        _log.warning("Lost %s (not committed: another consumer owns them now)", partition_names(partitions))

    async def _drain(self, part: Partition, handler: _Call) -> None:
        """Handle the waiting records of ``part``, then those of any other partition waiting for a task
        (taking it over here is quicker than waiting for the poll loop to hand it out)."""
        current: Partition | None = part
        try:
            while current is not None:
                while chunk := self._next_chunk(current):
                    if not await self._perform(current, self._chunk_steps(current, chunk), handler):
                        break
                current = self._take_over(current)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._fail(exc)
        finally:
            if current is not None:
                current.running = False
            self._took()

    def _take_over(self, part: Partition) -> Partition | None:
        """:meth:`_next_part`, with this task filed under the partition it takes (revocation and loss find it there)."""
        other = self._next_part(part)
        if other is not None:
            task = self._tasks.pop((part.topic, part.partition), None)
            if task is not None:
                self._tasks[(other.topic, other.partition)] = task
        return other

    async def _wait(self, part: Partition, seconds: float) -> bool:
        for pause in self._pauses(part, seconds):
            await asyncio.sleep(pause)
        return self._wanted(part)

    async def _perform(self, part: Partition, steps: Generator[Step, Any, T], handler: _Call) -> T:
        """Perform ``steps`` (see ``ConsumerBase._steps``) and return what they return; a cancellation
        on the way releases the claims."""
        with Driven(steps) as run:
            while (step := run.step) is not None:
                if isinstance(step, Handle):
                    try:
                        await handler(step.delivery)
                    except Exception as exc:  # a BaseException leaves the block: Driven throws it into the steps
                        run.send(exc)
                    else:
                        run.send(None)
                elif isinstance(step, Wait):
                    run.send(await self._wait(part, step.seconds))
                else:
                    run.send(await self._dead_letter(step))
        return run.value

    async def _dead_letter(self, step: DeadLetter) -> bool:
        target = self._dead_letter_target(step)
        if target is None:
            return False
        pump, message = target
        try:
            await asyncio.wait_for(pump.asend(*message), timeout=self._dead_letter_timeout)
        except Exception as exc:
            return self._dead_lettered(step, exc)
        return self._dead_lettered(step)


_Call = Callable[[KafkaDelivery], Awaitable[Any]]


def _caller(handler: Callable[[KafkaDelivery], Any]) -> _Call:
    """``handler`` as a coroutine function: an ``async`` one as it is, a plain one in a worker thread."""
    if is_async_callable(handler):
        return handler

    async def in_a_thread(delivery: KafkaDelivery) -> None:
        result = await asyncio.to_thread(handler, delivery)
        if inspect.isawaitable(result):
            await result

    return in_a_thread


class _LoopSignals:
    """SIGINT/SIGTERM call ``stop`` through the running loop (main thread, Unix); removed afterwards."""

    def __init__(self, stop: Callable[[], None]) -> None:
        self._stop = stop
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)
            try:
                loop.add_signal_handler(sig, self._stop)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
                continue
            self._previous[sig] = previous

    def __exit__(self, *exc_info: object) -> None:
        loop = asyncio.get_running_loop()
        for sig, previous in self._previous.items():
            loop.remove_signal_handler(sig)
            signal.signal(sig, previous)
        self._previous.clear()
