"""The consumers take a partition's records a chunk at a time (claims in one store batch): the semantics stay
those of one record at a time — completions per record with a durable store, unused claims released,
order kept through a retry — and the poll loop keeps only a few fetched records as Python objects."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ordercloud_tracking import stores
from ordercloud_tracking.streams import KafkaDelivery, KafkaSettings, TrackingConsumer
from ordercloud_tracking.streams._base import BATCH, BUFFER
from ordercloud_tracking.testing import KafkaCluster

from .conftest import FAST_GROUP, committed, order_body, produce, start


def pausing(kind: str, gate: Callable[[KafkaDelivery], threading.Event | None]) -> Callable[[KafkaDelivery], Any]:
    """A handler for a consumer of ``kind`` that calls ``gate`` and waits until the event it returns is set:
    a plain handler blocks its worker thread; the async one awaits it (the event loop goes on meanwhile)."""
    if kind == "sync":

        def plain(delivery: KafkaDelivery) -> None:
            event = gate(delivery)
            if event is not None:
                event.wait(60)

        return plain

    async def on_the_loop(delivery: KafkaDelivery) -> None:
        event = gate(delivery)
        if event is not None:
            await asyncio.to_thread(event.wait, 60)

    return on_the_loop


def settings_for(cluster: KafkaCluster) -> KafkaSettings:
    return KafkaSettings(cluster.bootstrap_servers, "tracking", group_id="shop")


def make_store(kind: str, tmp_path: Path) -> stores.MemoryDedupeStore | stores.SQLiteDedupeStore:
    return stores.MemoryDedupeStore() if kind == "memory" else stores.SQLiteDedupeStore(tmp_path / "dedupe.db")


def test_a_durable_store_has_each_completion_before_the_next_record_is_handled(
    cluster: KafkaCluster, tmp_path: Path, kind: str
) -> None:
    # A SIGKILL then repeats at most the record in progress: the records before it are completed, durably.
    cluster.create_topic("tracking", partitions=1)
    produce(cluster.bootstrap_servers, "tracking", [order_body(f"o-{n}") for n in range(60)], partition=0)
    store = stores.SQLiteDedupeStore(tmp_path / "dedupe.db")
    earlier: list[KafkaDelivery] = []
    seen_by_next: list[str] = []

    def handle(delivery: KafkaDelivery) -> None:
        if earlier:  # what another process sharing the file sees for the record handled just before
            previous = earlier[-1]
            seen_by_next.append(store.claim(previous.delivery_key, previous.fingerprint))
        earlier.append(delivery)

    running = start(kind, settings_for(cluster), handle, dedupe=store)
    running.wait_for(lambda: running.consumer.stats.processed == 60)
    running.stop()
    store.close()
    assert running.error is None
    assert seen_by_next == ["duplicate"] * 59


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
def test_stop_midway_completes_what_was_handled_and_releases_the_other_claims(
    cluster: KafkaCluster, tmp_path: Path, store_kind: str
) -> None:
    cluster.create_topic("tracking", partitions=1)
    produce(cluster.bootstrap_servers, "tracking", [order_body(f"o-{n}") for n in range(20)], partition=0)
    store = make_store(store_kind, tmp_path)
    handled: list[KafkaDelivery] = []
    consumer = TrackingConsumer(settings_for(cluster), dedupe=store, config=FAST_GROUP)

    def handle(delivery: KafkaDelivery) -> None:
        handled.append(delivery)
        if delivery.offset == 6:
            consumer.stop()

    consumer.run(handle)
    assert [d.offset for d in handled] == list(range(7))
    assert committed(cluster.bootstrap_servers, "shop", "tracking", 1) == [7]
    assert [store.claim(d.delivery_key, d.fingerprint) for d in handled] == ["duplicate"] * 7
    # The records fetched with them but not handled were claimed in the same batch: released at stop, so the
    # next consumer of the partition handles them at once instead of waiting for the claims to expire.
    assert [store.claim(f"order:o-{n}", fingerprint) for n, fingerprint in _fingerprints(7, 20)] == ["new"] * 13


def _fingerprints(first: int, end: int) -> list[tuple[int, str]]:
    from ordercloud_tracking.messages import decode_delivery

    return [(n, decode_delivery(order_body(f"o-{n}")).fingerprint) for n in range(first, end)]


def test_a_failure_inside_a_chunk_is_retried_before_the_next_record(cluster: KafkaCluster, kind: str) -> None:
    cluster.create_topic("tracking", partitions=1)
    produce(cluster.bootstrap_servers, "tracking", [order_body(f"o-{n}") for n in range(12)], partition=0)
    calls: list[int] = []

    def handle(delivery: KafkaDelivery) -> None:
        calls.append(delivery.offset)
        if delivery.offset in (4, 9) and calls.count(delivery.offset) < 3:
            raise ValueError("not yet")

    running = start(kind, settings_for(cluster), handle)
    running.wait_for(lambda: running.consumer.stats.processed == 12)
    running.stop()
    assert running.error is None
    assert calls == [0, 1, 2, 3, 4, 4, 4, 5, 6, 7, 8, 9, 9, 9, 10, 11]
    stats = running.consumer.stats
    assert (stats.processed, stats.retried, stats.dead_lettered, stats.duplicates) == (12, 4, 0, 0)
    assert committed(cluster.bootstrap_servers, "shop", "tracking", 1) == [12]


def test_a_record_after_an_undecodable_one_in_the_same_chunk_is_handled(cluster: KafkaCluster, kind: str) -> None:
    cluster.create_topic("tracking", partitions=1)
    values = [order_body("o-0"), b"not json", order_body("o-2"), order_body("o-0", total=11), b"[]", order_body("o-5")]
    produce(cluster.bootstrap_servers, "tracking", values, partition=0)
    handled: list[int] = []
    running = start(kind, settings_for(cluster), lambda d: handled.append(d.offset))
    running.wait_for(lambda: running.consumer.stats.processed + running.consumer.stats.dead_lettered == 6)
    running.stop()
    assert handled == [0, 2, 3, 5]
    assert running.consumer.stats.dead_lettered == 2


def test_the_poll_loop_keeps_only_a_few_fetched_records_waiting(cluster: KafkaCluster, kind: str) -> None:
    # Records wait in librdkafka's queue, not as Python objects: 5,000 of them in Python made the garbage
    # collector's passes cost more than decoding the records. The async poll loop waits for room without
    # blocking the event loop (the handler below sleeps on it).
    cluster.create_topic("tracking", partitions=1)
    produce(cluster.bootstrap_servers, "tracking", [order_body(f"o-{n}") for n in range(3000)], partition=0)
    blocked, release = threading.Event(), threading.Event()
    waiting: list[int] = []

    def gate(delivery: KafkaDelivery) -> threading.Event | None:
        if delivery.offset == 0:
            blocked.set()
            return release
        return None

    running = start(kind, settings_for(cluster), pausing(kind, gate))
    consumer = running.consumer
    running.wait_for(blocked.is_set)
    for _ in range(50):  # while the only worker is blocked, the poll loop goes round many times
        waiting.append(consumer._buffered())
        time.sleep(0.01)
    release.set()
    running.wait_for(lambda: consumer.stats.processed == 3000)
    running.stop()
    assert 0 < max(waiting) <= BUFFER + BATCH
    assert committed(cluster.bootstrap_servers, "shop", "tracking", 1) == [3000]


def test_memory_store_batch_holds_the_store_for_other_threads() -> None:
    store = stores.MemoryDedupeStore()
    outcome: list[str] = []
    with store.batch():
        assert store.claim("order:o-1", "a") == "new"  # the same thread goes on inside its batch
        other = threading.Thread(target=lambda: outcome.append(store.claim("order:o-1", "a")))
        other.start()
        other.join(0.2)
        assert other.is_alive()  # waits for the batch
        assert outcome == []
        store.complete("order:o-1", "a")
    other.join(10)
    assert outcome == ["duplicate"]


def test_metrics_without_tracing_count_each_record_of_a_chunk(cluster: KafkaCluster) -> None:
    # A meter provider without a tracer provider: records keep the chunked path, and each is still counted.
    from ordercloud_tracking import configure_telemetry
    from tests.test_telemetry import Telemetry

    otel = Telemetry()
    configure_telemetry(meter_provider=otel.meter_provider)
    try:
        cluster.create_topic("tracking", partitions=1)
        three, two = order_body("o-1", total=3), order_body("o-1", total=2)
        produce(cluster.bootstrap_servers, "tracking", [three, three, two, order_body("o-2")], partition=0)
        running = start("sync", settings_for(cluster), lambda _delivery: None)
        running.wait_for(lambda: running.consumer.stats.processed + running.consumer.stats.duplicates == 4)
        running.stop()
        outcomes = {
            str(dict(point.attributes)["ordercloud.outcome"]): point.value
            for point in otel.metric_points("ordercloud_tracking.records")
        }
        durations = sum(point.count for point in otel.metric_points("ordercloud_tracking.handler.duration"))
    finally:
        configure_telemetry()
        otel.meter_provider.shutdown()
    assert outcomes == {"processed": 3, "duplicate": 1}
    assert durations == 3


def test_a_partition_stuck_in_a_slow_handler_does_not_hold_up_the_others(cluster: KafkaCluster, kind: str) -> None:
    # Partition 0's first record blocks until partition 1 is done: with the records fetched into Python
    # bounded, partition 1 must still get its records while partition 0's wait for a worker.
    cluster.create_topic("tracking", partitions=2)
    servers = cluster.bootstrap_servers
    produce(servers, "tracking", [order_body(f"a-{n}") for n in range(600)], partition=0)
    produce(servers, "tracking", [order_body(f"b-{n}") for n in range(400)], partition=1)
    second_done = threading.Event()
    handled = [0, 0]
    order: dict[int, list[int]] = {0: [], 1: []}

    def gate(delivery: KafkaDelivery) -> threading.Event | None:
        handled[delivery.partition] += 1
        order[delivery.partition].append(delivery.offset)
        if delivery.partition == 0 and delivery.offset == 0:
            return second_done
        if delivery.partition == 1 and handled[1] == 400:
            second_done.set()
        return None

    running = start(kind, settings_for(cluster), pausing(kind, gate), max_in_flight=2)
    running.wait_for(second_done.is_set, timeout=20)
    running.wait_for(lambda: running.consumer.stats.processed == 1000)
    running.stop()
    assert handled == [600, 400]
    assert order == {0: list(range(600)), 1: list(range(400))}


def test_without_a_dedupe_store_every_record_is_handled_even_a_repeat(cluster: KafkaCluster, kind: str) -> None:
    cluster.create_topic("tracking", partitions=1)
    three = order_body("o-1", total=3)
    produce(cluster.bootstrap_servers, "tracking", [three, three, order_body("o-2"), three], partition=0)
    handled: list[int] = []
    running = start(kind, settings_for(cluster), lambda d: handled.append(d.offset), dedupe=None)
    running.wait_for(lambda: running.consumer.stats.processed == 4)
    running.stop()
    assert handled == [0, 1, 2, 3]
    assert running.consumer.stats.duplicates == 0
    assert committed(cluster.bootstrap_servers, "shop", "tracking", 1) == [4]
