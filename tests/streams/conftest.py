"""Helpers for the Kafka tests: a mock cluster per test, producing records and reading topics back."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from ordercloud_tracking.streams import AsyncTrackingConsumer, KafkaDelivery, KafkaSettings, TrackingConsumer
from ordercloud_tracking.testing import KafkaCluster, kafka_cluster

LINE_UPDATED = "sitecore.ordercloud.messages.orders.lines.updated"
ORDER_SUBMITTED = "sitecore.ordercloud.messages.orders.submitted"


# The mock cluster ends a member's session only when it times out, even after the member left: consumers
# that follow each other in one group wait for it, so keep it short.
FAST_GROUP = {"session.timeout.ms": 2000, "heartbeat.interval.ms": 400}


@pytest.fixture
def cluster() -> Iterator[KafkaCluster]:
    with kafka_cluster() as running:
        yield running


def order_body(order_id: str, total: int = 10) -> bytes:
    return json.dumps({"OrderID": order_id, "OrderTotal": total, "LineItems": []}).encode()


def produce(
    servers: str,
    topic: str,
    values: Sequence[bytes | None],
    *,
    keys: Sequence[bytes | None] | None = None,
    headers: Sequence[list[tuple[str, bytes]]] | None = None,
    partition: int | None = None,
) -> None:
    producer = Producer({"bootstrap.servers": servers, "linger.ms": 5})
    for n, value in enumerate(values):
        extra: dict[str, Any] = {}
        if partition is not None:
            extra["partition"] = partition
        if headers is not None:
            extra["headers"] = headers[n]
        producer.produce(topic, value, key=keys[n] if keys is not None else None, **extra)
        if n % 1000 == 999:
            producer.poll(0)
    assert producer.flush(30) == 0


def read_topic(servers: str, topic: str, count: int, *, timeout: float = 20.0) -> list[Any]:
    """The first ``count`` records of ``topic`` (all partitions), read without a consumer group commit."""
    consumer = Consumer(
        {
            "bootstrap.servers": servers,
            "group.id": f"reader-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.subscribe([topic])
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(records) < count and time.monotonic() < deadline:
            for record in consumer.consume(500, 0.2):
                if record.error() is None:
                    records.append(record)
        return records
    finally:
        consumer.close()


def committed(servers: str, group: str, topic: str, partitions: int) -> list[int]:
    consumer = Consumer({"bootstrap.servers": servers, "group.id": group})
    try:
        found = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return [tp.offset for tp in found]
    finally:
        consumer.close()


class Running:
    """A consumer whose ``run()`` goes on in a thread (sync) or in its own event loop (async) until stopped."""

    def __init__(self, consumer: TrackingConsumer | AsyncTrackingConsumer, handler: Callable[[KafkaDelivery], Any]):
        self.consumer = consumer
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(handler,), daemon=True)
        self._thread.start()

    def _run(self, handler: Callable[[KafkaDelivery], Any]) -> None:
        try:
            if isinstance(self.consumer, AsyncTrackingConsumer):
                asyncio.run(self.consumer.run(handler))
            else:
                self.consumer.run(handler)
        except BaseException as exc:
            self.error = exc

    def wait_for(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if not self._thread.is_alive():
                raise AssertionError(f"the consumer stopped early: {self.error!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout} s; stats: {self.consumer.stats}")
            time.sleep(0.02)

    def stop(self) -> None:
        self.consumer.stop()
        self._thread.join(60)
        assert not self._thread.is_alive()

    def finished(self, timeout: float = 30.0) -> BaseException | None:
        self._thread.join(timeout)
        assert not self._thread.is_alive()
        return self.error


def start(kind: str, settings: KafkaSettings, handler: Callable[[KafkaDelivery], Any], **options: Any) -> Running:
    options.setdefault("retry_backoff", 0.01)
    options.setdefault("commit_interval", 0.2)
    options.setdefault("config", FAST_GROUP)
    consumer: TrackingConsumer | AsyncTrackingConsumer = (
        AsyncTrackingConsumer(settings, **options) if kind == "async" else TrackingConsumer(settings, **options)
    )
    return Running(consumer, handler)


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)
