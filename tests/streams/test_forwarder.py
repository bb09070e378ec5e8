"""KafkaForwarder behind asgi_app/wsgi_app: 2xx only after the broker acknowledged; nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import json
from io import BytesIO
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from ordercloud_tracking.receiver import Receiver, asgi_app, sign_payload, wsgi_app
from ordercloud_tracking.streams import KafkaForwarder, KafkaForwardError, KafkaSettings, decode_record
from ordercloud_tracking.testing import KafkaCluster

from .conftest import read_topic

SECRET = "s3cret"
LINE = b'{"OrderId": "o-7", "LineItem": {"LineID": "li-1", "Quantity": 2}, "UserContext": {"ID": "u-1"}}'
ORDER = b'{"OrderID": "o-7", "OrderTotal": 20, "LineItems": []}'
LOGIN = b'{"UserContext": {"ID": "u-1"}, "FirstName": "Jane", "LastName": "Doe"}'
ENVELOPE = json.dumps(
    {
        "Headers": {"type": "sitecore.ordercloud.messages.orders.lines.updated", "x-trace": "t-1"},
        "Payload": {**json.loads(LINE), "LineItem": {"LineID": "li-1", "Quantity": 3}},  # a newer state of the line
    }
).encode()


def wsgi_post(app: Any, body: bytes, query: str = "") -> str:
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(body)),
        "QUERY_STRING": query,
        "wsgi.input": BytesIO(body),
        "HTTP_X_OC_HASH": sign_payload(body, SECRET),
    }
    app(environ, lambda status, headers: statuses.append(status))
    return statuses[0]


async def asgi_post(app: Any, body: bytes) -> int:
    return (await asgi_answer(app, body))[0]


async def asgi_answer(app: Any, body: bytes) -> tuple[int, dict[str, str]]:
    sent: list[dict[str, Any]] = []
    events = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return events.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "headers": [(b"x-oc-hash", sign_payload(body, SECRET).encode())]}
    await app(scope, receive, send)
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in sent[0]["headers"]}
    return int(sent[0]["status"]), headers


def test_wsgi_forwarding_keys_by_entity_and_keeps_the_envelope(cluster: KafkaCluster) -> None:
    cluster.create_topic("tracking", partitions=3)
    with KafkaForwarder(KafkaSettings(cluster.bootstrap_servers, "tracking")) as forwarder:
        app = wsgi_app(forwarder, Receiver(SECRET))
        statuses = [
            wsgi_post(app, LINE, "type=LineItemUpdated"),
            wsgi_post(app, ORDER),
            wsgi_post(app, LOGIN),
            wsgi_post(app, ENVELOPE),
        ]
    assert statuses == ["200 OK"] * 4
    records = sorted(read_topic(cluster.bootstrap_servers, "tracking", 4), key=lambda r: (r.partition(), r.offset()))
    by_key: dict[bytes, list[Any]] = {}
    for record in records:
        by_key.setdefault(record.key(), []).append(record)
    assert sorted(by_key) == [b"order:o-7", b"user:u-1"]
    assert len({r.partition() for r in by_key[b"order:o-7"]}) == 1  # one order's events share a partition
    decoded = [
        decode_record(r.topic(), r.partition(), r.offset(), r.key(), r.value(), r.headers())
        for r in by_key[b"order:o-7"]
    ]
    assert [d.event_type.value if d.event_type else None for d in decoded] == [
        "LineItemUpdated",
        "OrderSubmitted",
        "LineItemUpdated",
    ]
    assert [d.delivery_key for d in decoded] == ["line:o-7:li-1", "order:o-7", "line:o-7:li-1"]
    updated = "sitecore.ordercloud.messages.orders.lines.updated"
    first, _order, enveloped = (json.loads(r.value()) for r in by_key[b"order:o-7"])
    assert first == {"Headers": {"type": updated}, "Payload": json.loads(LINE)}  # a bare body is wrapped
    assert enveloped == json.loads(ENVELOPE)  # kept as it came
    assert dict(by_key[b"order:o-7"][0].headers())["type"] == updated.encode()


def test_a_bare_body_of_inferred_type_is_not_stamped_with_a_guess(cluster: KafkaCluster) -> None:
    cluster.create_topic("tracking", partitions=1)
    with KafkaForwarder(KafkaSettings(cluster.bootstrap_servers, "tracking")) as forwarder:
        assert wsgi_post(wsgi_app(forwarder, Receiver(SECRET)), LINE) == "200 OK"
    [record] = read_topic(cluster.bootstrap_servers, "tracking", 1)
    assert json.loads(record.value()) == {"Headers": {}, "Payload": json.loads(LINE)}
    assert record.headers() is None


def test_asgi_forwarding_waits_for_the_acknowledgement_on_the_loop(cluster: KafkaCluster) -> None:
    cluster.create_topic("tracking", partitions=2)

    async def main() -> list[int]:
        with KafkaForwarder(KafkaSettings(cluster.bootstrap_servers, "tracking")) as forwarder:
            app = asgi_app(forwarder.forward_async, Receiver(SECRET))
            return list(
                await asyncio.gather(*(asgi_post(app, b'{"OrderID": "o-%d", "LineItems": []}' % n) for n in range(20)))
            )

    assert asyncio.run(main()) == [200] * 20
    keys = sorted(r.key() for r in read_topic(cluster.bootstrap_servers, "tracking", 20))
    assert keys == sorted(b"order:o-%d" % n for n in range(20))


def records_in(servers: str, topic: str, partitions: int) -> int:
    """How many records ``topic`` holds: the sum of its partitions' high watermarks (no waiting for absent ones)."""
    consumer = Consumer({"bootstrap.servers": servers, "group.id": "watermarks"})
    try:
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions))
    finally:
        consumer.close()


def wsgi_answer(app: Any, body: bytes) -> tuple[str, dict[str, str]]:
    captured: list[tuple[str, dict[str, str]]] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": BytesIO(body),
        "HTTP_X_OC_HASH": sign_payload(body, SECRET),
    }
    app(environ, lambda status, headers: captured.append((status, {k.lower(): v for k, v in headers})))
    return captured[0]


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_with_the_broker_down_the_answer_is_503_and_the_retry_lands_exactly_once(
    cluster: KafkaCluster, kind: str
) -> None:
    cluster.create_topic("tracking", partitions=1)
    receiver = Receiver(SECRET)

    def post(app: Any, body: bytes) -> tuple[str, dict[str, str]]:
        if kind == "wsgi":
            return wsgi_answer(app, body)
        status, headers = asyncio.run(asgi_answer(app, body))
        return f"{status}", headers

    def until_acknowledged(app: Any, body: bytes) -> list[tuple[str, dict[str, str]]]:
        """What OrderCloud does: deliver again until the endpoint answers 2xx (bounded here)."""
        answers = [post(app, body)]
        while not answers[-1][0].startswith("200") and len(answers) < 30:
            answers.append(post(app, body))
        return answers

    with KafkaForwarder(KafkaSettings(cluster.bootstrap_servers, "tracking"), timeout=1.0) as forwarder:
        app = wsgi_app(forwarder, receiver) if kind == "wsgi" else asgi_app(forwarder.forward_async, receiver)
        first = until_acknowledged(app, ORDER)  # a loaded machine may need more than 1 s to connect
        cluster.stop_brokers()
        down_status, down_headers = post(app, LOGIN)
        cluster.start_brokers()
        retries = until_acknowledged(app, LOGIN)
    assert first[-1][0].startswith("200")
    assert down_status.startswith("503")  # KafkaForwardError is a ServiceUnavailableError
    assert down_headers["retry-after"] == "5"
    assert retries[-1][0].startswith("200")  # processed once the broker is back, not answered as a duplicate
    assert all(status.startswith("503") for status, _ in first[:-1] + retries[:-1])
    records = read_topic(cluster.bootstrap_servers, "tracking", 2)
    assert sorted(r.key() for r in records) == [b"order:o-7", b"user:u-1"]  # every 2xx is in the topic
    assert records_in(cluster.bootstrap_servers, "tracking", 1) == 2  # and exactly once: no 503 left a record


def test_forward_async_raises_a_typed_error_when_the_broker_is_down(cluster: KafkaCluster) -> None:
    cluster.create_topic("tracking", partitions=1)
    delivery = decode_record("t", 0, 0, None, ORDER, [])

    async def main() -> None:
        with KafkaForwarder(KafkaSettings(cluster.bootstrap_servers, "tracking"), timeout=0.5) as forwarder:
            cluster.stop_brokers()
            try:
                await forwarder.forward_async(delivery)
            finally:
                cluster.start_brokers()

    with pytest.raises(KafkaForwardError, match="'tracking'"):
        asyncio.run(main())
