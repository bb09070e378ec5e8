"""A Kafka cluster for tests: librdkafka's built-in mock cluster, on loopback, in this process.

The mock cluster is a real implementation of the Kafka protocol (produce, fetch, consumer groups,
offset commits) that ships inside ``confluent-kafka``'s librdkafka: no JVM, no Docker, no network.
Any Kafka client connects to :attr:`KafkaCluster.bootstrap_servers`.

Needs the ``kafka`` extra: ``pip install 'ordercloud-tracking[kafka]'``.

>>> with kafka_cluster() as cluster:
...     cluster.create_topic("tracking", partitions=6)
...     cluster.bootstrap_servers.startswith("127.0.0.1:")
True
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import glob
import os
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["KafkaCluster", "kafka_cluster", "oc_kafka"]

_KAFKA_EXTRA_HINT = "Kafka support needs the 'kafka' extra: pip install 'ordercloud-tracking[kafka]'"


def _require_confluent_kafka() -> Any:
    try:
        import confluent_kafka
    except ImportError as exc:  # pragma: no cover - the dev extra installs it
        raise ImportError(_KAFKA_EXTRA_HINT) from exc
    return confluent_kafka


def _librdkafka_candidates(package_dir: str) -> list[str]:
    """Where the librdkafka that confluent-kafka uses lives: the loaded copy first, then the wheel's."""
    found: list[str] = []
    maps = "/proc/self/maps"
    if os.path.exists(maps):
        with open(maps, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                path = line.rsplit(" ", 1)[-1].strip()
                if "librdkafka" in os.path.basename(path) and path not in found:
                    found.append(path)
    # auditwheel (Linux) and delvewheel (Windows) put it beside the package, delocate (macOS) inside it.
    found.extend(sorted(glob.glob(os.path.join(os.path.dirname(package_dir), "confluent_kafka.libs", "librdkafka*"))))
    found.extend(sorted(glob.glob(os.path.join(package_dir, ".dylibs", "librdkafka*"))))
    system = ctypes.util.find_library("rdkafka")
    if system:
        found.append(system)
    return found


class _Lib:
    """The few librdkafka C functions the mock cluster needs (``rd_kafka_mock_*``)."""

    def __init__(self, path: str) -> None:
        lib = ctypes.CDLL(path)
        vp, cp, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
        lib.rd_kafka_conf_new.restype = vp
        lib.rd_kafka_conf_set.argtypes = [vp, cp, cp, cp, ctypes.c_size_t]
        lib.rd_kafka_conf_set.restype = i
        lib.rd_kafka_new.argtypes = [i, vp, cp, ctypes.c_size_t]
        lib.rd_kafka_new.restype = vp
        lib.rd_kafka_destroy.argtypes = [vp]
        lib.rd_kafka_mock_cluster_new.argtypes = [vp, i]
        lib.rd_kafka_mock_cluster_new.restype = vp
        lib.rd_kafka_mock_cluster_bootstraps.argtypes = [vp]
        lib.rd_kafka_mock_cluster_bootstraps.restype = cp
        lib.rd_kafka_mock_cluster_destroy.argtypes = [vp]
        lib.rd_kafka_mock_topic_create.argtypes = [vp, cp, i, i]
        lib.rd_kafka_mock_topic_create.restype = i
        lib.rd_kafka_mock_broker_set_down.argtypes = [vp, ctypes.c_int32]
        lib.rd_kafka_mock_broker_set_down.restype = i
        lib.rd_kafka_mock_broker_set_up.argtypes = [vp, ctypes.c_int32]
        lib.rd_kafka_mock_broker_set_up.restype = i
        lib.rd_kafka_mock_group_initial_rebalance_delay_ms.argtypes = [vp, ctypes.c_int32]
        lib.rd_kafka_mock_group_initial_rebalance_delay_ms.restype = None
        self.c = lib


def _load_lib() -> _Lib:
    confluent_kafka = _require_confluent_kafka()
    errors: list[str] = []
    for path in _librdkafka_candidates(os.path.dirname(confluent_kafka.__file__)):
        try:
            return _Lib(path)
        except (OSError, AttributeError) as exc:
            errors.append(f"{path}: {exc}")
    raise RuntimeError("librdkafka's mock cluster API was not found: " + ("; ".join(errors) or "no librdkafka"))


class KafkaCluster:
    """A running mock Kafka cluster (made by :func:`kafka_cluster`).

    ``bootstrap_servers`` is what clients connect to. :meth:`create_topic` makes a topic with a given
    number of partitions; a topic a client uses without creating it is created on first use with the
    mock's own default of 4 partitions. :meth:`stop_brokers` / :meth:`start_brokers` make the brokers
    refuse service and come back, to test what a client does when Kafka is down.

    >>> with kafka_cluster(brokers=2) as cluster:
    ...     cluster.brokers, len(cluster.bootstrap_servers.split(","))
    (2, 2)
    """

    def __init__(self, brokers: int = 1, partitions: int = 4, *, rebalance_delay: float = 0.1) -> None:
        if brokers < 1:
            raise ValueError("brokers must be at least 1")
        if partitions < 1:
            raise ValueError("partitions must be at least 1")
        self._lib = _load_lib().c
        self._brokers = brokers
        self._partitions = partitions
        self._lock = threading.Lock()
        error = ctypes.create_string_buffer(512)
        conf = self._lib.rd_kafka_conf_new()
        self._lib.rd_kafka_conf_set(conf, b"log_level", b"3", error, len(error))
        handle = self._lib.rd_kafka_new(0, conf, error, len(error))  # 0: RD_KAFKA_PRODUCER, the mock's owner
        if not handle:
            raise RuntimeError(f"Could not start the Kafka mock cluster: {error.value.decode(errors='replace')}")
        self._handle: int | None = handle
        self._cluster: int | None = self._lib.rd_kafka_mock_cluster_new(handle, brokers)
        if not self._cluster:
            self._lib.rd_kafka_destroy(handle)
            self._handle = None
            raise RuntimeError("Could not start the Kafka mock cluster (see librdkafka's log)")
        self._bootstrap = (self._lib.rd_kafka_mock_cluster_bootstraps(self._cluster) or b"").decode()
        # Kafka waits 3 s for more members before a new group's first assignment; tests need not.
        self._lib.rd_kafka_mock_group_initial_rebalance_delay_ms(self._cluster, int(rebalance_delay * 1000))

    @property
    def bootstrap_servers(self) -> str:
        """``host:port[,host:port…]`` of the brokers, on 127.0.0.1.

        >>> with kafka_cluster() as cluster:
        ...     cluster.bootstrap_servers.count(":")
        1
        """
        return self._bootstrap

    @property
    def brokers(self) -> int:
        """How many brokers the cluster has (IDs ``1`` … ``brokers``).

        >>> with kafka_cluster() as cluster:
        ...     cluster.brokers
        1
        """
        return self._brokers

    def _live(self) -> int:
        if self._cluster is None:
            raise RuntimeError("The Kafka mock cluster is closed")
        return self._cluster

    def create_topic(self, name: str, partitions: int | None = None) -> None:
        """Create topic ``name`` with ``partitions`` partitions (default: the cluster's ``partitions``).

        Creating a topic that exists is an error (:class:`ValueError`).

        >>> with kafka_cluster(partitions=3) as cluster:
        ...     cluster.create_topic("tracking")
        ...     cluster.create_topic("tracking")
        Traceback (most recent call last):
        ...
        ValueError: Could not create topic 'tracking' (librdkafka error 36)
        """
        count = self._partitions if partitions is None else partitions
        if count < 1:
            raise ValueError("partitions must be at least 1")
        with self._lock:
            code = self._lib.rd_kafka_mock_topic_create(self._live(), name.encode(), count, min(3, self._brokers))
        if code:
            raise ValueError(f"Could not create topic {name!r} (librdkafka error {code})")

    def stop_brokers(self) -> None:
        """Take every broker down: connections are closed and new ones refused until :meth:`start_brokers`.

        >>> with kafka_cluster() as cluster:
        ...     cluster.stop_brokers(); cluster.start_brokers()
        """
        with self._lock:
            for broker in range(1, self._brokers + 1):
                self._lib.rd_kafka_mock_broker_set_down(self._live(), broker)

    def start_brokers(self) -> None:
        """Bring every broker back up after :meth:`stop_brokers`.

        >>> with kafka_cluster() as cluster:
        ...     cluster.start_brokers()
        """
        with self._lock:
            for broker in range(1, self._brokers + 1):
                self._lib.rd_kafka_mock_broker_set_up(self._live(), broker)

    def close(self) -> None:
        """Stop the cluster (idempotent); clients still connected see the brokers disappear.

        >>> cluster = KafkaCluster()
        >>> cluster.close(); cluster.close()
        """
        with self._lock:
            cluster, handle = self._cluster, self._handle
            self._cluster = self._handle = None
        if cluster is not None:
            self._lib.rd_kafka_mock_cluster_destroy(cluster)
        if handle is not None:
            self._lib.rd_kafka_destroy(handle)

    def __enter__(self) -> KafkaCluster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._cluster is None else self._bootstrap
        return f"KafkaCluster(brokers={self._brokers}, {state})"


@contextlib.contextmanager
def kafka_cluster(brokers: int = 1, partitions: int = 4, *, rebalance_delay: float = 0.1) -> Iterator[KafkaCluster]:
    """Start librdkafka's mock Kafka cluster on loopback for the ``with`` block; stop it afterwards.

    ``partitions`` is the default partition count of :meth:`KafkaCluster.create_topic`;
    ``rebalance_delay`` how long (seconds) a new consumer group waits for more members before its
    first assignment (Kafka's ``group.initial.rebalance.delay.ms``, 3 s on real brokers). Without the
    ``kafka`` extra this raises an :class:`ImportError` naming ``ordercloud-tracking[kafka]``.

    >>> from confluent_kafka import Consumer, Producer
    >>> with kafka_cluster() as cluster:
    ...     cluster.create_topic("events", partitions=2)
    ...     producer = Producer({"bootstrap.servers": cluster.bootstrap_servers})
    ...     producer.produce("events", b'{"OrderID": "o-1"}', key=b"order:o-1")
    ...     producer.flush(10)
    0
    """
    cluster = KafkaCluster(brokers=brokers, partitions=partitions, rebalance_delay=rebalance_delay)
    try:
        yield cluster
    finally:
        cluster.close()


def oc_kafka() -> Iterator[KafkaCluster]:
    """The ``oc_kafka`` pytest fixture: a fresh mock Kafka cluster (one broker) for the test.

    Registered by the plugin as ``oc_kafka = pytest.fixture(kafka.oc_kafka)``; use it by name::

        def test_consumes(oc_kafka):
            oc_kafka.create_topic("tracking", partitions=4)
    """
    with kafka_cluster() as cluster:
        yield cluster
