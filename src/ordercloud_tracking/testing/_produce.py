"""``Kafka`` and ``EventHub`` deliveries of the fake: the record each target gets, and real producers.

A ``Kafka`` target's record goes to its ``BootstrapServers``/``Topic``; an ``EventHub`` target's goes
to the Kafka endpoint the test supplies (``FakeOrderCloud(event_hub_kafka=...)``), topic = the hub's
name, as Event Hubs' own Kafka endpoint would carry it. Records are produced with ``confluent-kafka``
(the ``kafka`` extra, imported on first use) and waited for up to a bounded timeout; every problem —
the extra missing, a broker down, a refused login — is returned as the error of the delivery.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, Literal

import attrs

__all__ = [
    "KAFKA_RECORD_FORMS",
    "KafkaOptions",
    "KafkaProducers",
    "KafkaRecord",
    "KafkaRecordForm",
    "kafka_record",
    "producer_config",
]

#: The record forms of reference §15 the fake can produce for a ``Kafka`` target: the value is OrderCloud's
#: envelope (with or without a ``type`` header) or the bare message (its type in a ``type`` or ``ce_type``
#: header).
KafkaRecordForm = Literal["envelope+header", "envelope", "bare+type", "bare+ce_type"]
KAFKA_RECORD_FORMS: tuple[KafkaRecordForm, ...] = ("envelope+header", "envelope", "bare+type", "bare+ce_type")

_EXTRA_HINT = "not sent: Kafka delivery needs the 'kafka' extra: pip install 'ordercloud-tracking[kafka]'"
_LOOPBACK_NAMES = ("localhost",)
_LOG = logging.getLogger("ordercloud_tracking.testing.kafka")


@attrs.frozen
class KafkaOptions:
    """The fake's Kafka settings: the record form of ``Kafka`` targets, where ``EventHub`` targets go, overrides."""

    record: KafkaRecordForm = "envelope+header"
    event_hub_kafka: str | None = None
    config: Mapping[str, Any] = attrs.field(factory=dict, repr=False)  # librdkafka settings applied last

    def __attrs_post_init__(self) -> None:
        if self.record not in KAFKA_RECORD_FORMS:
            raise ValueError(f"kafka_record must be one of {', '.join(KAFKA_RECORD_FORMS)}, not {self.record!r}")


@attrs.frozen
class KafkaRecord:
    """One record to produce: where (the producer's librdkafka settings and the topic) and what."""

    config: dict[str, Any] = attrs.field(repr=False)  # may hold the SASL password
    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def kafka_record(
    form: KafkaRecordForm, envelope: bytes, bare: bytes, namespace: str
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The value and headers of a record in ``form``, from the message's envelope and bare JSON."""
    type_header = namespace.encode("utf-8")
    if form == "envelope+header":
        return envelope, [("type", type_header)]
    if form == "envelope":
        return envelope, []
    if form == "bare+type":
        return bare, [("type", type_header)]
    return bare, [("ce_type", type_header)]


def _loopback(servers: str) -> bool:
    """Whether every broker of ``host:port[,host:port…]`` is on this machine (a test cluster)."""
    for server in servers.split(","):
        host = server.strip().rsplit(":", 1)[0].strip("[]")
        if host in _LOOPBACK_NAMES:
            continue
        try:
            if not ipaddress.ip_address(host).is_loopback:
                return False
        except ValueError:
            return False
    return True


def producer_config(
    servers: str, username: str | None, password: str | None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """librdkafka settings for a target: SASL PLAIN with the target's credentials when it has any.

    With credentials the connection is ``SASL_SSL``, except to brokers on loopback: a test cluster there
    (:func:`~ordercloud_tracking.testing.kafka_cluster`, librdkafka's mock, has neither SASL nor TLS) is
    reached with ``PLAINTEXT``. ``overrides`` (``FakeOrderCloud(kafka_config=...)``) win, e.g.
    ``{"security.protocol": "SASL_PLAINTEXT"}`` for a local broker that does require the login.
    """
    config: dict[str, Any] = {"bootstrap.servers": servers, "client.id": "FakeOrderCloud"}
    if username:
        config["security.protocol"] = "PLAINTEXT" if _loopback(servers) else "SASL_SSL"
    config.update(overrides or {})
    if username and str(config.get("security.protocol", "")).upper().startswith("SASL"):
        config.setdefault("sasl.mechanism", "PLAIN")
        config.setdefault("sasl.username", username)
        config.setdefault("sasl.password", password or "")
    return config


class KafkaProducers:
    """One ``confluent_kafka.Producer`` per distinct target configuration, made on first use."""

    def __init__(self, timeout: float) -> None:
        if timeout <= 0:
            raise ValueError("kafka_timeout must be positive")
        self.timeout = timeout
        self._producers: dict[tuple[tuple[str, str], ...], Any] = {}
        self._lock = threading.Lock()

    def _producer(self, config: dict[str, Any]) -> Any:
        import confluent_kafka

        key = tuple(sorted((name, str(value)) for name, value in config.items()))
        with self._lock:
            producer = self._producers.get(key)
            if producer is None:
                timeout_ms = max(1, int(self.timeout * 1000))
                producer = confluent_kafka.Producer(
                    {
                        **config,
                        "message.timeout.ms": timeout_ms,
                        "socket.connection.setup.timeout.ms": max(1000, timeout_ms),
                        "logger": _LOG,
                    }
                )
                self._producers[key] = producer
            return producer

    def send(self, record: KafkaRecord) -> str | None:
        """Produce ``record`` and wait for the broker's acknowledgement: ``None``, or why it failed."""
        try:
            producer = self._producer(record.config)
        except ImportError:
            return _EXTRA_HINT
        except Exception as exc:  # a setting librdkafka refuses: the target is broken, not the request
            return f"bad Kafka target: {type(exc).__name__}: {_scrub(str(exc), record.config)}"
        done = threading.Event()
        outcome: list[str | None] = []

        def report(error: Any, _message: Any) -> None:
            outcome.append(None if error is None else _scrub(str(error), record.config))
            done.set()

        try:
            producer.produce(
                record.topic, value=record.value, key=record.key, headers=list(record.headers), on_delivery=report
            )
        except BufferError:
            return "not sent: the producer's queue is full (the broker is not keeping up)"
        except Exception as exc:
            return f"{type(exc).__name__}: {_scrub(str(exc), record.config)}"
        deadline = time.monotonic() + self.timeout + 1.0
        while not done.is_set() and time.monotonic() < deadline:
            producer.flush(min(0.1, max(0.0, deadline - time.monotonic())))
        if not done.is_set():
            return f"no acknowledgement within {self.timeout:g} s"
        return outcome[0]

    def close(self) -> None:
        """Flush briefly and drop the producers."""
        with self._lock:
            producers, self._producers = list(self._producers.values()), {}
        for producer in producers:
            producer.flush(0)


def _scrub(text: str, config: dict[str, Any]) -> str:
    password = config.get("sasl.password")
    return text.replace(password, "***") if password else text
