"""Issue 13 §7: consuming tracking records from Kafka, and forwarding Http deliveries onto Kafka.

(a) 50,000 ``LineItemAdded`` records (OrderCloud's envelope value plus a ``type`` header, as the fake
    produces them; keyed by order) on an 8-partition topic (the mock cluster keeps at most 5 MB a partition) of librdkafka's mock cluster
    (``ordercloud_tracking.testing.kafka_cluster``, in this process). Each round every subject reads the
    whole topic once in a fresh consumer group:

    * ``raw confluent-kafka + json.loads`` (the base): ``Consumer.consume(500)`` in a loop,
      ``json.loads`` of every value, one synchronous commit at the end;
    * ``TrackingConsumer`` (memory dedupe): decode (envelope, typed model), in-memory dedupe claim and
      completion, a no-op handler, offsets committed as it goes and at stop — target ≥ 0.5x raw's
      records/s;
    * ``TrackingConsumer`` with ``SQLiteDedupeStore`` (a new file each round) — target ≥ 0.3x;
    * ``AsyncTrackingConsumer`` (memory dedupe, an ``async`` no-op handler, the loop of ``asyncio.run``) —
      informational, the note gives records/s.

    Timed from the first record a subject receives to its last one (joining the group is the same for
    all and not what is measured); the figure is seconds per record, the ratio records/s over raw's.

    A third row splits the cost without Kafka: ``decode_record`` (what the consumer does per record
    before the dedupe claim) vs ``json.loads`` of the same values, and the typed validation alone
    (``OrderLineAdded.model_validate_json`` of the payload) — the floor of any typed consumer. The
    SQLite row's note adds what the store costs per record: a claim inside a batch of 32 (as the
    consumer claims a partition's waiting records) and a completion, one transaction each (the consumer
    writes each before it counts the record done, so a SIGKILL repeats at most the record in progress).

(b) The forwarder: signed deliveries of one ``LineItemAdded`` through ``asgi_app(KafkaForwarder)``
    (each answered only after the broker acknowledged it) vs the same ``asgi_app`` with an ``async``
    no-op handler, driven in-process (no HTTP server) with 200 deliveries in flight at a time, as a
    busy endpoint would see. Informational; the note gives deliveries/s.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import Timing, _orders, main, row, time_interleaved

RECORDS = 50_000
PARTITIONS = 8  # the mock cluster keeps 5 MB per partition: 50,000 records of ~620 bytes need 8
ROUNDS = 5
TOPIC = "tracking"
TYPE = "sitecore.ordercloud.messages.orders.lines.added"
FORWARD_CONCURRENCY = 200
FORWARD_ROUNDS = 9
SECRET = "bench-secret-value"

RAW = "raw confluent-kafka consume + json.loads"
OURS = "TrackingConsumer, memory dedupe, no-op handler"
OURS_SQLITE = "TrackingConsumer, SQLiteDedupeStore, no-op handler"
OURS_ASYNC = "AsyncTrackingConsumer, memory dedupe, async no-op handler"


def line_item_added(i: int) -> dict[str, Any]:
    """One ``LineItemAdded`` message in OrderCloud's envelope (a realistic ~0.9 KB line)."""
    order = i // 5
    return {
        "Headers": {"type": TYPE},
        "Payload": {
            "UserContext": {"ID": f"buyer{order % 97:03d}", "AnonymousId": f"{order:032x}"},
            "OrderId": f"o-bench-{order}",
            "LineItem": {
                "LineID": f"li-{i:06d}",
                "Product": {
                    "ProductID": f"SKU-{i % 5000:05d}",
                    "ProductName": f"Stoneware mug no. {i % 5000}",
                    "ProductDescription": "Hand-glazed stoneware mug, 350 ml, dishwasher safe.",
                    "Price": 12.95,
                    "Variant": {"VariantName": "Blue", "VariantDescription": "Blue glaze, 350 ml"},
                    "xp": {"Brand": "Acme", "Images": [{"Url": f"https://cdn.example.com/p/{i % 5000}.jpg"}]},
                },
                "Quantity": 1 + i % 4,
                "Price": 12.95,
                "LineTotal": round(12.95 * (1 + i % 4), 2),
                "LineSubTotal": round(12.95 * (1 + i % 4), 2),
                "xp": {"GiftWrap": i % 7 == 0},
            },
        },
    }


def _fill(servers: str) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": servers, "linger.ms": 20, "batch.num.messages": 10_000})
    for i in range(RECORDS):
        body = line_item_added(i)
        value = json.dumps(body, separators=(",", ":")).encode()
        key = body["Payload"]["OrderId"].encode()
        while True:
            try:
                producer.produce(TOPIC, value, key=b"order:" + key, headers=[("type", TYPE.encode())])
                break
            except BufferError:
                producer.poll(0.1)
    if producer.flush(60):
        raise RuntimeError("could not write the benchmark records")


def _raw(servers: str, group: str) -> float:
    """Seconds from the first record to the last, for a plain consume + json.loads loop."""
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": servers,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([TOPIC])
    seen = 0
    started = 0.0
    loads = json.loads
    try:
        while seen < RECORDS:
            records = consumer.consume(500, 0.1)
            if records and not started:
                started = time.perf_counter()
            for record in records:
                value = record.value()
                if record.error() is None and value is not None:
                    loads(value)
                    seen += 1
        elapsed = time.perf_counter() - started
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return elapsed


def _ours(servers: str, group: str, dedupe: Any, *, asynchronous: bool = False) -> float:
    """Seconds from the first record handled to the last, for ``TrackingConsumer`` with a no-op handler
    (``asynchronous``: ``AsyncTrackingConsumer`` with an ``async`` one, in ``asyncio.run``)."""
    from ordercloud_tracking.streams import AsyncTrackingConsumer, KafkaSettings, TrackingConsumer

    settings = KafkaSettings(servers, TOPIC, group_id=group)
    kind = AsyncTrackingConsumer if asynchronous else TrackingConsumer
    consumer = kind(settings, dedupe=dedupe, stats_interval=None)
    marks: list[float] = []

    def handle(_delivery: object) -> None:
        if not marks:
            marks.append(time.perf_counter())

    async def handle_async(delivery: object) -> None:
        handle(delivery)

    def watch() -> None:
        while consumer.stats.processed < RECORDS:
            time.sleep(0.002)
        marks.append(time.perf_counter())
        consumer.stop()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    if isinstance(consumer, AsyncTrackingConsumer):
        asyncio.run(consumer.run(handle_async))
    else:
        consumer.run(handle)
    watcher.join()
    stats = consumer.stats
    if stats.processed != RECORDS or stats.duplicates or stats.dead_lettered:
        raise RuntimeError(f"unexpected consumer outcome: {stats.describe()}")
    return marks[-1] - marks[0]


def consume_rows() -> list[dict[str, Any]]:
    from ordercloud_tracking.stores import SQLiteDedupeStore
    from ordercloud_tracking.testing import kafka_cluster

    with kafka_cluster(partitions=PARTITIONS) as cluster, tempfile.TemporaryDirectory() as tmp:
        servers = cluster.bootstrap_servers
        cluster.create_topic(TOPIC)
        _fill(servers)
        counter = iter(range(1_000_000))

        def sqlite_run(group: str) -> float:
            store = SQLiteDedupeStore(Path(tmp) / f"{group}.db")
            try:
                return _ours(servers, group, store)
            finally:
                store.close()

        subjects: dict[str, Callable[[str], float]] = {
            RAW: lambda group: _raw(servers, group),
            OURS: lambda group: _ours(servers, group, "memory"),
            OURS_SQLITE: sqlite_run,
            OURS_ASYNC: lambda group: _ours(servers, group, "memory", asynchronous=True),
        }
        for fn in subjects.values():  # warm-up: imports, first connections
            fn(f"warm-{next(counter)}")
        timings = {name: Timing() for name in subjects}
        for order in _orders(list(subjects), ROUNDS):
            for name in order:
                timings[name].samples.append(subjects[name](f"g-{next(counter)}") / RECORDS)
    bench = f"Kafka consumer, {RECORDS:,} LineItemAdded records, {PARTITIONS} partitions"
    rate = {name: 1 / t.median_s for name, t in timings.items()}
    return [
        row(
            bench,
            OURS,
            timings[OURS],
            RAW,
            timings[RAW],
            ">= 0.5x",
            note=f"records/s: raw {rate[RAW]:,.0f}, ours (memory) {rate[OURS]:,.0f}, "
            f"ours (SQLite) {rate[OURS_SQLITE]:,.0f}",
        ),
        row(bench, OURS_SQLITE, timings[OURS_SQLITE], RAW, timings[RAW], ">= 0.3x"),
        row(
            bench,
            OURS_ASYNC,
            timings[OURS_ASYNC],
            RAW,
            timings[RAW],
            note=f"records/s: raw {rate[RAW]:,.0f}, AsyncTrackingConsumer (memory) {rate[OURS_ASYNC]:,.0f} "
            f"({rate[OURS_ASYNC] / rate[RAW]:.2f}x raw's)",
        ),
    ]


# --- the forwarder ------------------------------------------------------------------------------------


def forward_rows() -> list[dict[str, Any]]:
    from ordercloud_tracking.receiver import Receiver, asgi_app, sign_payload
    from ordercloud_tracking.streams import KafkaForwarder, KafkaSettings
    from ordercloud_tracking.testing import kafka_cluster

    with kafka_cluster(partitions=PARTITIONS) as cluster:
        cluster.create_topic("forwarded")
        forwarder = KafkaForwarder(KafkaSettings(cluster.bootstrap_servers, "forwarded"))

        async def noop(_delivery: object) -> None:
            return None

        apps = {
            "asgi_app(KafkaForwarder.forward_async)": asgi_app(forwarder.forward_async, Receiver(SECRET, dedupe=None)),
            "asgi_app(async no-op handler)": asgi_app(noop, Receiver(SECRET, dedupe=None)),
        }
        serial = iter(range(10_000_000))

        async def deliver(app: Any) -> None:
            body = json.dumps(line_item_added(next(serial)), separators=(",", ":")).encode()
            headers = [(b"content-type", b"application/json"), (b"x-oc-hash", sign_payload(body, SECRET).encode())]
            scope = {"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}
            sent: list[dict[str, Any]] = []

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(event: Any) -> None:
                sent.append(event)

            await app(scope, receive, send)
            if sent[0]["status"] != 200:
                raise RuntimeError(f"delivery answered {sent[0]['status']}")

        async def burst(app: Any) -> None:
            await asyncio.gather(*(deliver(app) for _ in range(FORWARD_CONCURRENCY)))

        async def measure() -> dict[str, Timing]:
            for app in apps.values():
                await burst(app)
            timings = {name: Timing() for name in apps}
            for order in _orders(list(apps), FORWARD_ROUNDS):
                for name in order:
                    started = time.perf_counter()
                    await burst(apps[name])
                    timings[name].samples.append((time.perf_counter() - started) / FORWARD_CONCURRENCY)
            return timings

        try:
            t = asyncio.run(measure())
        finally:
            forwarder.close()
    names = list(apps)
    fwd, base = t[names[0]], t[names[1]]
    return [
        row(
            f"Http → Kafka forwarder, {FORWARD_CONCURRENCY} deliveries in flight",
            names[0],
            fwd,
            names[1],
            base,
            note=f"deliveries/s: forwarder {1 / fwd.median_s:,.0f} (each acknowledged by the broker, acks=all), "
            f"no-op handler {1 / base.median_s:,.0f}",
        )
    ]


def decode_costs() -> dict[str, float]:
    """Seconds per record of ``json.loads``, ``decode_record`` and the typed validation alone."""
    from ordercloud_tracking.messages import OrderLineAdded
    from ordercloud_tracking.streams import decode_record

    headers = [("type", TYPE.encode())]
    bodies = [line_item_added(i) for i in range(1000)]
    values = [json.dumps(body, separators=(",", ":")).encode() for body in bodies]
    payloads = [json.dumps(body["Payload"], separators=(",", ":")).encode() for body in bodies]
    loads, validate = json.loads, OrderLineAdded.model_validate_json

    def each(fn: Callable[[bytes], object], items: list[bytes]) -> Callable[[], None]:
        def loop() -> None:
            for item in items:
                fn(item)  # the result is dropped, as in the raw consume loop

        return loop

    subjects: dict[str, Callable[[], object]] = {
        "json.loads": each(loads, values),
        "decode_record": each(lambda value: decode_record(TOPIC, 0, 0, None, value, headers), values),
        "model_validate_json": each(validate, payloads),
    }
    t = time_interleaved(subjects, iterations=1, rounds=15, warmup=2)
    return {name: timing.median_s / len(values) for name, timing in t.items()}


def store_costs() -> dict[str, float]:
    """Seconds per record of a ``SQLiteDedupeStore`` claim (in batches of 32) and completion (one transaction)."""
    from ordercloud_tracking.stores import SQLiteDedupeStore

    with tempfile.TemporaryDirectory() as tmp, SQLiteDedupeStore(Path(tmp) / "costs.db") as store:
        serial = iter(range(10_000_000))
        per: dict[str, list[float]] = {"claim": [], "complete": []}
        for _ in range(7):
            keys = [(f"line:o-{n}:li-{n}", f"{n:064x}") for n in (next(serial) for _ in range(640))]
            started = time.perf_counter()
            for first in range(0, len(keys), 32):
                with store.batch():
                    for key, fingerprint in keys[first : first + 32]:
                        store.claim(key, fingerprint)
            claimed = time.perf_counter()
            for key, fingerprint in keys:
                store.complete(key, fingerprint)
            per["claim"].append((claimed - started) / len(keys))
            per["complete"].append((time.perf_counter() - claimed) / len(keys))
    return {name: sorted(samples)[len(samples) // 2] for name, samples in per.items()}


def decode_rows(per: dict[str, float]) -> list[dict[str, Any]]:
    return [
        row(
            "Decoding one LineItemAdded record (no Kafka)",
            "decode_record (envelope, typed model, key, fingerprint)",
            per["decode_record"],
            "json.loads",
            per["json.loads"],
            note=f"per record: json.loads {per['json.loads'] * 1e6:.1f} µs, typed validation of the payload alone "
            f"(OrderLineAdded.model_validate_json) {per['model_validate_json'] * 1e6:.1f} µs "
            f"({per['model_validate_json'] / per['json.loads']:.2f}x json.loads), decode_record "
            f"{per['decode_record'] * 1e6:.1f} µs",
        )
    ]


def run() -> list[dict[str, Any]]:
    consume, per, store = consume_rows(), decode_costs(), store_costs()
    # What bounds the ratio: a typed consumer validates every payload; at 0.5x it has twice raw's time per record.
    loads, validate, decode = per["json.loads"], per["model_validate_json"], per["decode_record"]
    consume[0]["note"] += (
        f"; raw's whole time per record is about one json.loads ({loads * 1e6:.1f} µs measured without Kafka), "
        f"and 0.5x allows twice that: the typed validation alone takes {validate / loads:.2f}x json.loads and "
        f"decode_record {decode / loads:.2f}x, so decoding alone bounds a typed consumer at about "
        f"{loads / decode:.2f}x before any dedupe, handler call or commit"
    )
    # What bounds the SQLite ratio: a durable completion per record, one transaction each.
    budget = consume[1]["base_median_s"] / 0.3  # time per record at 0.3x raw's records/s
    consume[1]["note"] = (
        f"per record, SQLiteDedupeStore: claim {store['claim'] * 1e6:.1f} µs (in batches of 32), completion "
        f"{store['complete'] * 1e6:.1f} µs (one transaction, durable before the record counts as done, so a "
        f"SIGKILL repeats at most the record in progress): the completion alone takes "
        f"{store['complete'] / budget:.0%} of the {budget * 1e6:.1f} µs per record that 0.3x allows"
    )
    return consume + decode_rows(per) + forward_rows()


if __name__ == "__main__":
    main(run)
