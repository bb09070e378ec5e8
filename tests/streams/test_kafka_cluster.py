"""``kafka_cluster``: librdkafka's mock cluster serves real clients, topics, consumer groups and commits."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from ordercloud_tracking.testing import KafkaCluster, kafka_cluster
from ordercloud_tracking.testing.kafka import oc_kafka


def test_topic_has_the_partitions_asked_for_and_round_trips_records() -> None:
    with kafka_cluster(partitions=3) as cluster:
        cluster.create_topic("six", partitions=6)
        cluster.create_topic("default")
        producer = Producer({"bootstrap.servers": cluster.bootstrap_servers})
        for n in range(12):
            producer.produce("six", str(n).encode(), key=f"k{n}".encode(), partition=n % 6, headers={"type": b"x"})
        assert producer.flush(10) == 0
        consumer = Consumer(
            {
                "bootstrap.servers": cluster.bootstrap_servers,
                "group.id": "g",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        try:
            topics = consumer.list_topics(timeout=10).topics
            assert len(topics["six"].partitions) == 6
            assert len(topics["default"].partitions) == 3
            consumer.subscribe(["six"])
            values: list[bytes] = []
            while len(values) < 12:
                message = consumer.poll(1.0)
                if message is None or message.error():
                    continue
                values.append(message.value() or b"")
                assert message.headers() == [("type", b"x")]
            consumer.commit(asynchronous=False)
            committed = consumer.committed([TopicPartition("six", p) for p in range(6)], timeout=10)
            assert sorted(values, key=int) == [str(n).encode() for n in range(12)]
            assert [tp.offset for tp in committed] == [2] * 6
        finally:
            consumer.close()


def test_create_topic_twice_and_after_close_are_errors() -> None:
    cluster = KafkaCluster()
    cluster.create_topic("t")
    with pytest.raises(ValueError, match="'t'"):
        cluster.create_topic("t")
    with pytest.raises(ValueError, match="at least 1"):
        cluster.create_topic("u", partitions=0)
    cluster.close()
    with pytest.raises(RuntimeError, match="closed"):
        cluster.create_topic("v")
    assert "closed" in repr(cluster)


def test_stopped_brokers_refuse_clients_until_started() -> None:
    with kafka_cluster() as cluster:
        cluster.create_topic("t", partitions=1)
        cluster.stop_brokers()
        producer = Producer({"bootstrap.servers": cluster.bootstrap_servers, "message.timeout.ms": 1000})
        failures: list[object] = []
        producer.produce("t", b"lost", on_delivery=lambda err, msg: failures.append(err))
        producer.flush(10)
        assert len(failures) == 1
        assert failures[0] is not None
        cluster.start_brokers()
        delivered: list[object] = []
        producer.produce("t", b"kept", on_delivery=lambda err, msg: delivered.append(err))
        producer.flush(10)
        assert delivered == [None]


def test_oc_kafka_fixture_function_yields_a_live_cluster_and_closes_it() -> None:
    generator = oc_kafka()
    cluster = next(generator)
    cluster.create_topic("t")
    with pytest.raises(StopIteration):
        next(generator)
    with pytest.raises(RuntimeError, match="closed"):
        cluster.create_topic("u")


def test_the_plugin_registers_oc_kafka(oc_kafka: KafkaCluster) -> None:
    oc_kafka.create_topic("from-the-plugin", partitions=2)
    producer = Producer({"bootstrap.servers": oc_kafka.bootstrap_servers})
    topics = producer.list_topics(timeout=10).topics
    assert len(topics["from-the-plugin"].partitions) == 2


def test_without_the_extra_the_error_names_it_and_importing_stays_light() -> None:
    script = textwrap.dedent(
        """
        import sys
        import ordercloud_tracking.streams, ordercloud_tracking.testing
        print("loaded" if "confluent_kafka" in sys.modules else "lazy")
        sys.modules["confluent_kafka"] = None  # what an environment without the extra looks like
        from ordercloud_tracking.streams import KafkaForwarder, KafkaSettings, TrackingConsumer
        from ordercloud_tracking.testing import kafka_cluster
        settings = KafkaSettings("localhost:9092", "t", group_id="g")
        for attempt in (kafka_cluster, lambda: TrackingConsumer(settings), lambda: KafkaForwarder(settings)):
            try:
                with attempt():
                    pass
            except ImportError as exc:
                print(exc)
        """
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "lazy"
    assert len(lines) == 4
    assert all("pip install 'ordercloud-tracking[kafka]'" in line for line in lines[1:])
