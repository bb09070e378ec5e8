"""The demo's Kafka leg: the fake delivers to a 6-partition topic that three consumers of one group share.

On librdkafka's mock cluster (:func:`~ordercloud_tracking.testing.kafka_cluster`, in this process): a
delivery config with a ``Kafka`` target; three :class:`~ordercloud_tracking.streams.TrackingConsumer` in
group ``demo-shop``; half the shoppers; one consumer stopped, the other two take over its partitions;
the other half. Then per-consumer counts and ``N events, N handled once, 0 lost``. Needs the ``kafka``
extra; without it the leg is skipped with a line saying so.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from .streams import KafkaDelivery, TrackingConsumer
    from .testing import FakeOrderCloud

__all__ = ["KafkaLeg", "run_kafka_leg"]

TOPIC = "tracking"
PARTITIONS = 6
GROUP = "demo-shop"
SHOPPERS = 12  # each adds two lines and updates one: three events, keyed by the order
CONSUMERS = ("consumer-1", "consumer-2", "consumer-3")
STOPPED = "consumer-3"
WAIT = 30.0  # seconds any one step may take before the leg gives up
# The mock cluster ends a member's session only when it times out, even after a graceful leave: keep it short
# so the others take over the stopped consumer's partitions within a couple of seconds.
GROUP_CONFIG = {"session.timeout.ms": 2000, "heartbeat.interval.ms": 300}
SETTLED = 0.5  # seconds an assignment must hold before the leg goes on (a forming group rebalances in bursts)


@attrs.frozen
class KafkaLeg:
    """What the Kafka leg did: events produced, who handled what, and whether anything was lost or repeated."""

    events: int
    per_consumer: dict[str, int]
    partitions_before: dict[str, tuple[int, ...]]  # each consumer's partitions before the stop
    taken_over: dict[int, str]  # the stopped consumer's partitions -> who took each over
    handled_once: int
    duplicates: int
    lost: int
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.events > 0 and self.lost == 0 and self.duplicates == 0

    def to_json(self) -> dict[str, Any]:
        return {
            **attrs.asdict(self),
            "taken_over": {str(partition): who for partition, who in self.taken_over.items()},
            "ok": self.ok,
        }


class _Member:
    """One consumer of the group, running in its own thread, recording what its handler got."""

    def __init__(self, name: str, servers: str, dedupe: Any, handled: list[tuple[str, int, int]]) -> None:
        from .streams import KafkaSettings, TrackingConsumer

        self.name = name
        settings = KafkaSettings(servers, TOPIC, group_id=GROUP)
        self.consumer: TrackingConsumer = TrackingConsumer(
            settings, dedupe=dedupe, commit_interval=0.2, stats_interval=None, config=GROUP_CONFIG
        )
        self._handled = handled
        self._lock = threading.Lock()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"demo-{name}", daemon=True)
        self._thread.start()

    def _handle(self, delivery: KafkaDelivery) -> None:
        with self._lock:
            self._handled.append((self.name, delivery.partition, delivery.offset))

    def _run(self) -> None:
        try:
            self.consumer.run(self._handle)
        except BaseException as exc:  # reported in the summary
            self.error = exc

    @property
    def partitions(self) -> tuple[int, ...]:
        return tuple(sorted(lag.partition for lag in self.consumer.stats.partitions))

    def stop(self) -> None:
        self.consumer.stop()
        self._thread.join(WAIT)


def _wait(condition: Callable[[], bool], what: str, members: list[_Member]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        failed = next((m for m in members if m.error is not None), None)
        if failed is not None:
            raise RuntimeError(f"{failed.name} stopped: {type(failed.error).__name__}: {failed.error}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _covered(members: list[_Member]) -> bool:
    """Every partition assigned, to exactly one of ``members``, and each member has some."""
    owned = [p for m in members for p in m.partitions]
    return sorted(owned) == list(range(PARTITIONS)) and all(m.partitions for m in members)


def _settled(members: list[_Member]) -> Callable[[], bool]:
    """A condition: ``members`` cover the topic with the same assignment for ``SETTLED`` seconds."""
    last: tuple[tuple[int, ...], ...] | None = None
    since = 0.0

    def check() -> bool:
        nonlocal last, since
        assignment = tuple(m.partitions for m in members) if _covered(members) else None
        if assignment is None or assignment != last:
            last, since = assignment, time.monotonic()
            return False
        return time.monotonic() - since >= SETTLED

    return check


@contextlib.contextmanager
def _quiet_group_forming() -> Iterator[None]:
    """Drop the consumers' "Lost tracking[n]" warnings while the demo runs: on the mock cluster a group that
    is still forming takes a new member's partitions back that way, before any record is read. The leg counts
    what was produced and handled itself, so its verdict does not rest on these lines."""

    def keep(record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Lost ")

    logger = logging.getLogger("ordercloud_tracking.streams")
    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def _committed(servers: str) -> int:
    """How many records of the topic the group has committed (the sum of its committed offsets)."""
    from confluent_kafka import Consumer, TopicPartition

    reader = Consumer({"bootstrap.servers": servers, "group.id": GROUP})  # asks, never joins the group
    try:
        found = reader.committed([TopicPartition(TOPIC, p) for p in range(PARTITIONS)], timeout=WAIT)
        return sum(max(0, tp.offset) for tp in found)
    finally:
        reader.close()


def _shop(fake: FakeOrderCloud, first: int, count: int) -> None:
    from .models.commerce import LineItem

    for n in range(first, first + count):
        shopper = fake.shopper(anon_user_id=f"beacon-{n:02d}")
        mug = shopper.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=1))
        shopper.client.cart.add_line_item(LineItem(product_id="SKU-TEE", quantity=1))
        shopper.client.cart.patch_line_item(str(mug.id), {"Quantity": 2})
        shopper.client.close()


def _provision(fake: FakeOrderCloud, servers: str) -> None:
    from .provisioning import ensure_tracking
    from .testing import STOREFRONT_CLIENT_ID

    with fake.client() as admin:
        ensure_tracking(
            admin,
            client_id=STOREFRONT_CLIENT_ID,
            events=["LineItemAdded", "LineItemUpdated"],
            delivery_config={
                "ID": "dc-demo-kafka",
                "Name": "Demo: Kafka",
                "DeliveryTargets": {
                    "Kafka": {
                        "BootstrapServers": servers,
                        "Topic": TOPIC,
                        "SaslUsername": "demo",  # OrderCloud requires the login; the mock cluster has no SASL
                        "SaslPassword": "demo-kafka-password",
                    }
                },
            },
        )


def run_kafka_leg(out: IO[str] | None) -> KafkaLeg | None:
    """Run the leg, printing its steps to ``out`` (``None``: quiet). ``None`` when the kafka extra is missing."""
    try:
        import confluent_kafka  # noqa: F401 - only whether it is there
    except ImportError:
        if out is not None:
            out.write("\n▶ Kafka: skipped (needs the kafka extra: pip install 'ordercloud-tracking[kafka]')\n")
        return None
    from .stores import MemoryDedupeStore
    from .testing import FakeOrderCloud, kafka_cluster

    def say(text: str) -> None:
        if out is not None:
            out.write(text + "\n")

    started = time.perf_counter()
    handled: list[tuple[str, int, int]] = []
    members: list[_Member] = []
    before: dict[str, tuple[int, ...]] = {}
    taken: dict[int, str] = {}
    fake = FakeOrderCloud()
    error: str | None = None
    with kafka_cluster() as cluster, _quiet_group_forming():
        try:
            cluster.create_topic(TOPIC, partitions=PARTITIONS)
            _provision(fake, cluster.bootstrap_servers)
            say(f"\n▶ Kafka: the fake delivers to topic {TOPIC!r} ({PARTITIONS} partitions) on a mock cluster")
            say(f"  three consumers in group {GROUP!r} share it; each order's events keep their order (key order:<id>)")
            dedupe = MemoryDedupeStore()  # shared: a redelivery after the rebalance is recognised by anyone
            members = [_Member(name, cluster.bootstrap_servers, dedupe, handled) for name in CONSUMERS]
            _wait(_settled(members), "the group's first assignment", members)
            before = {m.name: m.partitions for m in members}
            for m in members:
                say(f"  {m.name} is assigned partitions {', '.join(map(str, m.partitions))}")

            half = SHOPPERS // 2
            _shop(fake, 1, half)
            produced = len(fake.deliveries_for(target="Kafka"))
            say(f"  {half} shoppers add two lines and update one: {produced} events produced")
            _wait(lambda: len({(p, o) for _, p, o in handled}) >= produced, "the first events", members)
            # at least once: a record handled but not yet committed when its partition moves is handled again
            _wait(lambda: _committed(cluster.bootstrap_servers) >= produced, "the group's commits", members)

            stopped = next(m for m in members if m.name == STOPPED)
            stopped.stop()
            rest = [m for m in members if m is not stopped]
            _wait(_settled(rest), "the others to take over", rest)
            taken = {p: m.name for m in rest for p in m.partitions if p in before[STOPPED]}
            moves = ", ".join(f"{p} → {who}" for p, who in sorted(taken.items()))
            now = "; ".join(f"{m.name} {', '.join(map(str, m.partitions))}" for m in rest)
            say(f"  {STOPPED} stops (what it handled is committed); the others take over its partitions: {moves}")
            say(f"  (the group rebalanced: {now})")

            _shop(fake, half + 1, SHOPPERS - half)
            produced = len(fake.deliveries_for(target="Kafka"))
            say(f"  {SHOPPERS - half} more shoppers: {produced} events produced in all")
            _wait(lambda: len({(p, o) for _, p, o in handled}) >= produced, "every event", rest)
        except RuntimeError as exc:
            error = str(exc)
        finally:
            for m in members:
                m.stop()
            fake.close()
    kafka = fake.deliveries_for(target="Kafka")
    events = sum(1 for d in kafka if d.ok)
    error = error or next((f"a delivery failed: {d.error}" for d in kafka if not d.ok), None)
    times = Counter((p, o) for _, p, o in handled)
    leg = KafkaLeg(
        events=events,
        per_consumer={name: sum(1 for who, _, _ in handled if who == name) for name in CONSUMERS},
        partitions_before=before,
        taken_over=taken,
        handled_once=sum(1 for n in times.values() if n == 1),
        duplicates=sum(n - 1 for n in times.values()),
        lost=max(0, events - len(times)),
        seconds=round(time.perf_counter() - started, 3),
        error=error,
    )
    counts = ", ".join(
        f"{name} {n}{' (stopped midway)' if name == STOPPED else ''}" for name, n in leg.per_consumer.items()
    )
    say(f"  handled per consumer: {counts}")
    verdict = "" if leg.ok else f" — FAILED{': ' + error if error else ''}"
    say(f"  {leg.events} events, {leg.handled_once} handled once, {leg.lost} lost in {leg.seconds:.2f} s{verdict}")
    return leg
