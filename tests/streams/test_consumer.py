"""TrackingConsumer and AsyncTrackingConsumer on the mock cluster: what is handled, committed and dead-lettered."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Callable

import pytest

from ordercloud_tracking import stores
from ordercloud_tracking.messages import OrderSubmitted
from ordercloud_tracking.streams import (
    AsyncTrackingConsumer,
    ConsumerFailedError,
    KafkaDelivery,
    KafkaSettings,
    PartitionLag,
    TrackingConsumer,
)
from ordercloud_tracking.testing import KafkaCluster

from .conftest import FAST_GROUP, committed, order_body, produce, read_topic, start


def settings_for(cluster: KafkaCluster, topic: str = "tracking", group: str = "shop") -> KafkaSettings:
    return KafkaSettings(cluster.bootstrap_servers, topic, group_id=group)


def test_every_record_is_handled_once_in_partition_order_and_committed(cluster: KafkaCluster, kind: str) -> None:
    cluster.create_topic("tracking", partitions=4)
    keys = [f"o-{n % 10}".encode() for n in range(200)]
    produce(cluster.bootstrap_servers, "tracking", [order_body(f"o-{n}") for n in range(200)], keys=keys)
    seen: dict[int, list[int]] = defaultdict(list)
    lock = threading.Lock()

    def handle(delivery: KafkaDelivery) -> None:
        assert isinstance(delivery.message, OrderSubmitted)
        with lock:
            seen[delivery.partition].append(delivery.offset)

    running = start(kind, settings_for(cluster), handle)
    running.wait_for(lambda: sum(map(len, seen.values())) == 200)
    running.stop()
    assert running.error is None
    assert all(offsets == list(range(len(offsets))) for offsets in seen.values())
    assert sum(len(offsets) for offsets in seen.values()) == 200
    assert committed(cluster.bootstrap_servers, "shop", "tracking", 4) == [len(seen[p]) for p in range(4)]
    assert running.consumer.stats.processed == 200


def test_async_handler_runs_on_the_event_loop(cluster: KafkaCluster) -> None:
    cluster.create_topic("tracking", partitions=2)
    produce(cluster.bootstrap_servers, "tracking", [order_body(f"o-{n}") for n in range(10)])
    handled: list[str] = []

    async def main() -> None:
        async with AsyncTrackingConsumer(settings_for(cluster)) as consumer:
            loop = asyncio.get_running_loop()

            async def handle(delivery: KafkaDelivery) -> None:
                assert asyncio.get_running_loop() is loop
                await asyncio.sleep(0)
                handled.append(delivery.delivery_key)
                if len(handled) == 10:
                    consumer.stop()

            await consumer.run(handle)

    asyncio.run(main())
    assert sorted(handled) == sorted(f"order:o-{n}" for n in range(10))


def test_a_poison_record_goes_to_the_dead_letter_topic_and_the_loop_goes_on(cluster: KafkaCluster, kind: str) -> None:
    cluster.create_topic("tracking", partitions=1)
    values = [order_body("o-1"), b"not json at all", order_body("o-2")]
    produce(cluster.bootstrap_servers, "tracking", values, keys=[b"k1", b"poison", b"k2"], partition=0)
    handled: list[str] = []
    running = start(kind, settings_for(cluster), lambda d: handled.append(d.delivery_key))
    running.wait_for(lambda: len(handled) == 2 and running.consumer.stats.dead_lettered == 1)
    running.stop()
    assert handled == ["order:o-1", "order:o-2"]
    [dead] = read_topic(cluster.bootstrap_servers, "tracking.dlq", 1)
    headers = dict(dead.headers())
    assert dead.value() == b"not json at all"
    assert dead.key() == b"poison"
    assert headers["oc-dlq-error-type"] == b"InvalidPayloadError"
    assert b"not valid JSON" in headers["oc-dlq-error-message"]
    assert (headers["oc-dlq-topic"], headers["oc-dlq-partition"], headers["oc-dlq-offset"]) == (b"tracking", b"0", b"1")
    assert headers["oc-dlq-attempts"] == b"1"
    assert committed(cluster.bootstrap_servers, "shop", "tracking", 1) == [3]


def test_a_failing_handler_is_retried_then_dead_lettered(cluster: KafkaCluster, kind: str) -> None:
    cluster.create_topic("tracking", partitions=1)
    produce(
        cluster.bootstrap_servers,
        "tracking",
        [order_body("o-1"), order_body("o-bad"), order_body("o-2")],
        headers=[[("type", b"sitecore.ordercloud.messages.orders.submitted")]] * 3,
        partition=0,
    )
    calls: list[str] = []

    def handle(delivery: KafkaDelivery) -> None:
        calls.append(delivery.delivery_key)
        if delivery.delivery_key == "order:o-bad":
            raise ValueError("warehouse said no")

    running = start(kind, settings_for(cluster), handle, retries=2, dead_letter_topic="failed")
    running.wait_for(lambda: "order:o-2" in calls)
    running.stop()
    assert calls == ["order:o-1", "order:o-bad", "order:o-bad", "order:o-bad", "order:o-2"]
    stats = running.consumer.stats
    assert (stats.processed, stats.retried, stats.dead_lettered) == (2, 2, 1)
    [dead] = read_topic(cluster.bootstrap_servers, "failed", 1)
    headers = dict(dead.headers())
    assert headers["oc-dlq-error-type"] == b"ValueError"
    assert headers["oc-dlq-error-message"] == b"warehouse said no"
    assert headers["oc-dlq-attempts"] == b"3"
    assert headers["oc-dlq-offset"] == b"1"
    assert headers["type"] == b"sitecore.ordercloud.messages.orders.submitted"  # the record's own headers are kept
    assert committed(cluster.bootstrap_servers, "shop", "tracking", 1) == [3]


def test_a_transient_failure_succeeds_on_retry(cluster: KafkaCluster, kind: str) -> None:
    cluster.create_topic("tracking", partitions=1)
    produce(cluster.bootstrap_servers, "tracking", [order_body("o-1")])
    calls: list[int] = []

    def handle(delivery: KafkaDelivery) -> None:
        calls.append(delivery.offset)
        if len(calls) == 1:
            raise ConnectionError("flaky")

    running = start(kind, settings_for(cluster), handle)
    running.wait_for(lambda: running.consumer.stats.processed == 1)
    running.stop()
    assert calls == [0, 0]
    assert (running.consumer.stats.retried, running.consumer.stats.dead_lettered) == (1, 0)


def test_without_a_dead_letter_topic_a_failure_stops_the_consumer_and_is_not_committed(
    cluster: KafkaCluster, kind: str
) -> None:
    cluster.create_topic("tracking", partitions=1)
    produce(cluster.bootstrap_servers, "tracking", [order_body(f"o-{n}") for n in range(5)], partition=0)
    calls: list[int] = []

    def handle(delivery: KafkaDelivery) -> None:
        calls.append(delivery.offset)
        if delivery.offset == 2:
            raise RuntimeError("bug")

    running = start(kind, settings_for(cluster), handle, retries=1, dead_letter_topic=None)
    error = running.finished()
    assert isinstance(error, ConsumerFailedError)
    assert (error.topic, error.partition, error.offset, error.attempts) == ("tracking", 0, 2, 2)
    assert isinstance(error.__cause__, RuntimeError)
    assert calls == [0, 1, 2, 2]
    assert committed(cluster.bootstrap_servers, "shop", "tracking", 1) == [2]  # 0 and 1 done, 2 is not

    again: list[int] = []
    second = start(kind, settings_for(cluster), lambda d: again.append(d.offset))
    second.wait_for(lambda: len(again) == 3)
    second.stop()
    assert again == [2, 3, 4]


def test_a_repeated_state_is_a_duplicate_but_a_change_back_is_not(cluster: KafkaCluster, kind: str) -> None:
    cluster.create_topic("tracking", partitions=1)
    three, two = order_body("o-1", total=3), order_body("o-1", total=2)
    produce(cluster.bootstrap_servers, "tracking", [three, three, two, three], partition=0)
    totals: list[int] = []

    def handle(delivery: KafkaDelivery) -> None:
        assert isinstance(delivery.message, OrderSubmitted)
        totals.append(int(delivery.message.order_total or 0))

    running = start(kind, settings_for(cluster), handle)
    running.wait_for(lambda: running.consumer.stats.processed + running.consumer.stats.duplicates == 4)
    running.stop()
    assert totals == [3, 2, 3]
    assert running.consumer.stats.duplicates == 1


def test_stop_from_the_handler_commits_what_is_done(cluster: KafkaCluster) -> None:
    cluster.create_topic("tracking", partitions=1)
    produce(cluster.bootstrap_servers, "tracking", [order_body(f"o-{n}") for n in range(50)], partition=0)
    handled: list[int] = []
    consumer = TrackingConsumer(settings_for(cluster), max_pending=5, config=FAST_GROUP)

    def handle(delivery: KafkaDelivery) -> None:
        handled.append(delivery.offset)
        if delivery.offset == 9:
            consumer.stop()

    consumer.run(handle)
    assert handled == list(range(10))
    assert committed(cluster.bootstrap_servers, "shop", "tracking", 1) == [10]


def test_sigterm_stops_gracefully_and_restores_the_previous_handler(cluster: KafkaCluster, kind: str) -> None:
    cluster.create_topic("tracking", partitions=1)
    produce(cluster.bootstrap_servers, "tracking", [order_body(f"o-{n}") for n in range(3)], partition=0)
    handled: list[int] = []

    def handle(delivery: KafkaDelivery) -> None:
        handled.append(delivery.offset)
        if len(handled) == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    def on_term(signum: int, frame: object) -> None:
        raise AssertionError("the consumer's handler should be the one installed")

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        if kind == "sync":
            TrackingConsumer(settings_for(cluster), config=FAST_GROUP).run(handle)
        else:
            asyncio.run(AsyncTrackingConsumer(settings_for(cluster), config=FAST_GROUP).run(handle))
        assert signal.getsignal(signal.SIGTERM) is on_term
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert handled == [0, 1, 2]
    assert committed(cluster.bootstrap_servers, "shop", "tracking", 1) == [3]


def test_stats_report_lag_and_are_logged(cluster: KafkaCluster, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ordercloud_tracking.streams")
    cluster.create_topic("tracking", partitions=1)
    produce(cluster.bootstrap_servers, "tracking", [order_body(f"o-{n}") for n in range(20)], partition=0)
    running = start(kind, settings_for(cluster), lambda d: None, stats_interval=0.1)
    running.wait_for(lambda: running.consumer.stats.partitions == (PartitionLag("tracking", 0, 20, 20),))
    running.wait_for(lambda: "processed=20" in caplog.text)
    running.stop()
    assert running.consumer.stats.lag == 0


def test_a_consumer_runs_once_and_refuses_an_async_handler_when_sync(cluster: KafkaCluster) -> None:
    async def handler(delivery: KafkaDelivery) -> None:
        return None

    with pytest.raises(TypeError, match="AsyncTrackingConsumer"):
        TrackingConsumer(settings_for(cluster)).run(handler)
    consumer = TrackingConsumer(settings_for(cluster))
    consumer.stop()
    consumer.run(lambda d: None)
    with pytest.raises(RuntimeError, match="once"):
        consumer.run(lambda d: None)


def test_a_record_another_consumer_holds_waits_for_its_outcome(cluster: KafkaCluster, kind: str) -> None:
    cluster.create_topic("tracking", partitions=1)
    body = order_body("o-1")
    produce(cluster.bootstrap_servers, "tracking", [body, order_body("o-2")], partition=0)
    store = stores.MemoryDedupeStore()
    key, fingerprint = "order:o-1", hashlib.sha256(body).hexdigest()
    assert store.claim(key, fingerprint) == "new"  # another consumer is handling it
    handled: list[str] = []
    running = start(kind, settings_for(cluster), lambda d: handled.append(d.delivery_key), dedupe=store)
    running.wait_for(lambda: running.consumer.stats.partitions != ())
    time.sleep(0.5)  # time to fetch both records; o-2 still waits behind o-1 (order within the partition)
    assert handled == []
    store.complete(key, fingerprint)  # the other consumer succeeded
    running.wait_for(lambda: handled == ["order:o-2"])
    running.stop()
    assert running.consumer.stats.duplicates == 1
    assert committed(cluster.bootstrap_servers, "shop", "tracking", 1) == [2]


def test_dead_letter_reasons_and_logs_never_carry_the_password(
    cluster: KafkaCluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cluster.create_topic("tracking", partitions=1)
    produce(cluster.bootstrap_servers, "tracking", [order_body("o-1")])
    settings = KafkaSettings(
        cluster.bootstrap_servers,
        "tracking",
        group_id="shop",
        sasl_username="svc",
        sasl_password="pw-4f9a",
        security_protocol="PLAINTEXT",  # the mock cluster has no SASL: the credentials are carried, not used
    )

    def handle(delivery: KafkaDelivery) -> None:
        raise PermissionError("login svc:pw-4f9a refused")  # a careless error message

    running = start("sync", settings, handle, retries=1)
    running.wait_for(lambda: running.consumer.stats.dead_lettered == 1)
    running.stop()
    [dead] = read_topic(cluster.bootstrap_servers, "tracking.dlq", 1)
    assert dict(dead.headers())["oc-dlq-error-message"] == b"login svc:*** refused"
    assert "pw-4f9a" not in caplog.text
    assert "pw-4f9a" not in repr(running.consumer)


def test_a_full_buffer_pauses_the_partition_and_nothing_is_skipped(cluster: KafkaCluster, kind: str) -> None:
    cluster.create_topic("tracking", partitions=1)
    produce(cluster.bootstrap_servers, "tracking", [order_body(f"o-{n}") for n in range(300)], partition=0)
    handled: list[int] = []
    running = start(kind, settings_for(cluster), lambda d: handled.append(d.offset), max_pending=4)
    running.wait_for(lambda: len(handled) == 300)
    running.stop()
    assert handled == list(range(300))


def test_a_record_abandoned_at_stop_is_not_committed_and_not_handled_twice(cluster: KafkaCluster) -> None:
    cluster.create_topic("tracking", partitions=1)
    produce(cluster.bootstrap_servers, "tracking", [order_body("o-slow"), order_body("o-next")], partition=0)
    store = stores.MemoryDedupeStore()  # shared by both consumers, as a durable store would be
    started, release = threading.Event(), threading.Event()
    handled: list[tuple[str, str]] = []

    def handler(name: str) -> Callable[[KafkaDelivery], None]:
        def handle(delivery: KafkaDelivery) -> None:
            if delivery.delivery_key == "order:o-slow":
                started.set()
                release.wait(90)  # longer than Running.stop() waits: run() must not wait for it
            handled.append((name, delivery.delivery_key))

        return handle

    first = start("sync", settings_for(cluster), handler("first"), dedupe=store, stop_timeout=0.2)
    first.wait_for(started.is_set)
    first.stop()  # returns although the handler is still running: it is abandoned, not committed
    assert not release.is_set()
    assert first.error is None
    assert committed(cluster.bootstrap_servers, "shop", "tracking", 1) == [-1001]  # nothing committed

    second = start("sync", settings_for(cluster), handler("second"), dedupe=store)
    second.wait_for(lambda: second.consumer.stats.partitions != ())
    release.set()  # the abandoned handler completes; the second consumer was waiting on its claim
    second.wait_for(lambda: ("second", "order:o-next") in handled)
    second.stop()
    assert handled == [("first", "order:o-slow"), ("second", "order:o-next")]
    assert second.consumer.stats.duplicates == 1
    assert committed(cluster.bootstrap_servers, "shop", "tracking", 1) == [2]


class Interrupted(BaseException):
    """Not an ``Exception``: what a KeyboardInterrupt or a SystemExit is to the consumer."""


def test_a_base_exception_in_the_handler_stops_the_consumer_and_releases_the_claim(
    cluster: KafkaCluster, kind: str
) -> None:
    cluster.create_topic("tracking", partitions=1)
    produce(cluster.bootstrap_servers, "tracking", [order_body("o-1")], partition=0)
    store = stores.MemoryDedupeStore()
    delivered: list[KafkaDelivery] = []

    def handle(delivery: KafkaDelivery) -> None:
        delivered.append(delivery)
        raise Interrupted

    running = start(kind, settings_for(cluster), handle, dedupe=store)

    assert isinstance(running.finished(), Interrupted)
    assert len(delivered) == 1  # not retried, not dead-lettered
    assert store.claim(delivered[0].delivery_key, delivered[0].fingerprint) == "new"  # the next consumer handles it
    assert committed(cluster.bootstrap_servers, "shop", "tracking", 1) == [-1001]


def test_an_async_handler_cancelled_at_stop_releases_its_claim_and_is_not_committed(cluster: KafkaCluster) -> None:
    cluster.create_topic("tracking", partitions=1)
    produce(cluster.bootstrap_servers, "tracking", [order_body("o-1")], partition=0)
    store = stores.MemoryDedupeStore()
    delivered: list[KafkaDelivery] = []
    cancelled = threading.Event()

    async def handle(delivery: KafkaDelivery) -> None:
        delivered.append(delivery)
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    running = start("async", settings_for(cluster), handle, dedupe=store, stop_timeout=0.2)
    running.wait_for(lambda: bool(delivered))
    running.stop()

    assert running.error is None
    assert cancelled.is_set()
    assert store.claim(delivered[0].delivery_key, delivered[0].fingerprint) == "new"
    assert committed(cluster.bootstrap_servers, "shop", "tracking", 1) == [-1001]
