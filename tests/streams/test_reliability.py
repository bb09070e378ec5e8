"""Reliability on the mock cluster: rebalances, a consumer group under load, a consumer killed with SIGKILL.

Each test asserts exactly which records were handled (by partition and offset).
"""

from __future__ import annotations

import collections
import contextlib
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ordercloud_tracking import stores
from ordercloud_tracking.streams import KafkaDelivery, KafkaSettings
from ordercloud_tracking.testing import KafkaCluster

from .conftest import Running, order_body, produce, start


def all_records(partitions: int, per_partition: int) -> set[tuple[int, int]]:
    return {(p, o) for p in range(partitions) for o in range(per_partition)}


def produce_evenly(cluster: KafkaCluster, topic: str, partitions: int, per_partition: int) -> None:
    for partition in range(partitions):
        values = [order_body(f"o-{partition}-{n}") for n in range(per_partition)]
        produce(cluster.bootstrap_servers, topic, values, partition=partition)


def test_a_consumer_joining_while_records_are_in_flight_loses_nothing_and_handles_nothing_twice(
    cluster: KafkaCluster, kind: str
) -> None:
    cluster.create_topic("tracking", partitions=4)
    produce_evenly(cluster, "tracking", 4, 400)
    settings = KafkaSettings(cluster.bootstrap_servers, "tracking", group_id="shop")
    handled: list[tuple[str, int, int]] = []
    lock = threading.Lock()
    joined = threading.Event()

    def handler(name: str) -> Callable[[KafkaDelivery], None]:
        def handle(delivery: KafkaDelivery) -> None:
            if name == "second":
                joined.set()
            elif not joined.is_set():
                time.sleep(0.02)  # slow until the rebalance is over, so records are in progress during it
            with lock:
                handled.append((name, delivery.partition, delivery.offset))

        return handle

    # One store for the group, as in production (SQLite on shared storage, Redis…). What was done but not
    # yet committed when the partitions moved is a duplicate for the new owner, and a record still in
    # progress is "in_flight" until its first owner completes it. (Kafka accepts the commit made on
    # revocation; the mock cluster refuses commits while the group is re-joining, so here the store is
    # what prevents double handling.)
    store = stores.MemoryDedupeStore()
    first = start(kind, settings, handler("first"), dedupe=store, max_in_flight=4)
    first.wait_for(lambda: len(handled) >= 20)
    second = start(kind, settings, handler("second"), dedupe=store, max_in_flight=4)
    second.wait_for(lambda: len(handled) >= 1600)
    first.stop()
    second.stop()
    assert first.error is None
    assert second.error is None
    counts = collections.Counter((p, o) for _name, p, o in handled)
    assert set(counts) == all_records(4, 400)
    assert [key for key, n in counts.items() if n > 1] == []
    assert joined.is_set()  # the second consumer took partitions over
    assert len(handled) == 1600


def owns(running: Running, count: int) -> Callable[[], bool]:
    return lambda: len(running.consumer.stats.partitions) == count


def test_ten_thousand_events_through_three_consumers_in_one_group(cluster: KafkaCluster) -> None:
    cluster.create_topic("tracking", partitions=6)
    settings = KafkaSettings(cluster.bootstrap_servers, "tracking", group_id="shop")
    handled: list[tuple[int, int]] = []
    lock = threading.Lock()

    def handle(delivery: KafkaDelivery) -> None:
        with lock:
            handled.append((delivery.partition, delivery.offset))

    store = stores.MemoryDedupeStore()  # one store for the group, as in production
    consumers = [start(kind, settings, handle, dedupe=store) for kind in ("sync", "async", "sync")]
    for running in consumers:  # the group has settled: each consumer owns two partitions
        running.wait_for(owns(running, 2))
    produce_evenly(cluster, "tracking", 6, 10_000 // 6 + 1)  # 1,667 per partition: 10,002 events
    total = 6 * (10_000 // 6 + 1)
    consumers[0].wait_for(lambda: len(set(handled)) >= total, timeout=60)
    for running in consumers:
        running.stop()
        assert running.error is None
    counts = collections.Counter(handled)
    assert set(counts) == all_records(6, total // 6)
    assert len(handled) == total  # each exactly once
    assert sum(running.consumer.stats.processed for running in consumers) == total
    assert all(running.consumer.stats.processed > 0 for running in consumers)


CHILD = textwrap.dedent(
    """
    import sys
    from ordercloud_tracking.stores import SQLiteDedupeStore
    from ordercloud_tracking.streams import KafkaSettings, TrackingConsumer

    servers, out, store_path = sys.argv[1], sys.argv[2], sys.argv[3]
    # A claim held by the killed process must expire soon for the restart to take over its entities.
    store = SQLiteDedupeStore(store_path, claim_ttl=5.0)
    consumer = TrackingConsumer(
        KafkaSettings(servers, "tracking", group_id="shop"),
        dedupe=store,
        max_in_flight=2,
        commit_interval=0.2,
        config={"session.timeout.ms": 2000, "heartbeat.interval.ms": 400},
    )
    handled = open(out, "a", buffering=1)

    def handle_into_a_file(delivery):
        handled.write(f"{delivery.partition} {delivery.offset}\\n")
        handled.flush()  # in the kernel now: a SIGKILL does not lose it

    def handle_into_the_store(delivery):  # the effect and the completion commit together
        with store.completing(delivery) as db:
            db.execute("INSERT INTO handled VALUES (?, ?)", (delivery.partition, delivery.offset))

    consumer.run(handle_into_a_file if sys.argv[4] == "file" else handle_into_the_store)
    print("stopped cleanly")
    """
)


def _spawn(servers: str, out: Path, store: Path, effect: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", CHILD, servers, str(out), str(store), effect],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _handled(out: Path) -> list[tuple[int, int]]:
    if not out.exists():
        return []
    lines = out.read_text().splitlines()
    return [(int(p), int(o)) for p, o in (line.split() for line in lines if line.count(" ") == 1)]


def _handled_in(store: Path) -> list[tuple[int, int]]:
    with contextlib.closing(sqlite3.connect(store)) as db:
        return [(int(p), int(o)) for p, o in db.execute("SELECT part, offset FROM handled")]


def _wait(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the consumer process"
        time.sleep(0.05)


@pytest.mark.parametrize("effect", ["file", "store"])
def test_a_consumer_killed_with_sigkill_and_restarted_loses_nothing(
    cluster: KafkaCluster, tmp_path: Path, effect: str
) -> None:
    """``file``: the handler appends to a file; ``store``: it writes to the dedupe store's database inside
    ``SQLiteDedupeStore.completing`` (its effect and the completion commit together)."""
    cluster.create_topic("tracking", partitions=4)
    produce_evenly(cluster, "tracking", 4, 250)
    out, store = tmp_path / "handled.txt", tmp_path / "dedupe.sqlite3"
    with contextlib.closing(sqlite3.connect(store)) as db:
        db.execute("CREATE TABLE handled (part INTEGER NOT NULL, offset INTEGER NOT NULL)")
        db.commit()

    def handled() -> list[tuple[int, int]]:
        return _handled(out) if effect == "file" else _handled_in(store)

    first = _spawn(cluster.bootstrap_servers, out, store, effect)
    _wait(lambda: len(handled()) >= 150 or first.poll() is not None, 60)
    assert first.poll() is None, first.communicate()
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    assert len(handled()) < 1000  # killed mid-run

    second = _spawn(cluster.bootstrap_servers, out, store, effect)
    _wait(lambda: set(handled()) >= all_records(4, 250) or second.poll() is not None, 60)
    second.send_signal(signal.SIGTERM)  # graceful: finishes and commits, exit 0
    stdout, stderr = second.communicate(timeout=30)
    assert second.returncode == 0, stderr
    assert "stopped cleanly" in stdout

    seen = handled()
    assert set(seen) == all_records(4, 250)  # none lost
    twice = [key for key, n in collections.Counter(seen).items() if n > 1]
    if effect == "store":
        assert twice == []  # none handled twice: a record's effect is kept exactly when it is completed
    else:
        # Each completion is durable before the next record of its partition is handled: only a record whose
        # handler had run when the process died (at most one per worker, max_in_flight=2) can be handled again.
        assert len(twice) <= 2
