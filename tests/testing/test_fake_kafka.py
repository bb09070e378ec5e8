"""The fake delivers ``Kafka`` and ``EventHub`` targets for real (issue 13 §3): records produced to the mock
cluster, read back with :class:`TrackingConsumer`; failures recorded, never raised into the shopper's request."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from ordercloud_tracking.messages import TrackingMessage
from ordercloud_tracking.models.commerce import LineItem
from ordercloud_tracking.streams import KafkaDelivery, KafkaSettings, TrackingConsumer
from ordercloud_tracking.testing import STOREFRONT_CLIENT_ID, FakeOrderCloud, KafkaCluster, kafka_cluster
from ordercloud_tracking.testing._produce import KafkaRecordForm
from tests.testing.support import EVENT_TYPES

LINE_ADDED = "sitecore.ordercloud.messages.orders.lines.added"
LINE_UPDATED = "sitecore.ordercloud.messages.orders.lines.updated"
SASL_PASSWORD = "kafka-pw-never-shown"
BEACON = "beacon-kafka"


@pytest.fixture
def cluster() -> Iterator[KafkaCluster]:
    with kafka_cluster() as running:
        running.create_topic("tracking", partitions=3)
        yield running


def provision(fake: FakeOrderCloud, targets: dict[str, Any]) -> None:
    with fake.client() as admin:
        admin.delivery_configs.create({"ID": "dc-k", "Name": "Kafka", "DeliveryTargets": targets})
        for event_type in EVENT_TYPES:
            admin.tracking_events.create(
                {
                    "ID": f"te-{event_type}",
                    "EventType": event_type,
                    "ClientID": STOREFRONT_CLIENT_ID,
                    "Name": event_type,
                    "DeliveryConfigID": "dc-k",
                }
            )


def kafka_target(servers: str) -> dict[str, Any]:
    """A ``Kafka`` target (OrderCloud requires the SASL login on every one)."""
    login = {"SaslUsername": "oc-user", "SaslPassword": SASL_PASSWORD}
    return {"Kafka": {"BootstrapServers": servers, "Topic": "tracking", **login}}


def shop(fake: FakeOrderCloud) -> str:
    """Add a line, raise its quantity, log in and submit: four events. Returns the order ID."""
    shopper = fake.shopper(anon_user_id=BEACON)
    line = shopper.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=2))
    assert line.id is not None
    shopper.client.cart.patch_line_item(line.id, {"Quantity": 3})
    order_id = shopper.login("jane", "jane-password")
    assert order_id is not None
    shopper.client.cart.submit(order_id=order_id)
    return order_id


def consume(servers: str, topic: str, count: int) -> list[KafkaDelivery]:
    """The first ``count`` deliveries of ``topic``, read by a TrackingConsumer in a fresh group."""
    got: list[KafkaDelivery] = []
    settings = KafkaSettings(servers, topic, group_id=f"g-{uuid.uuid4()}")
    with TrackingConsumer(settings, config={"session.timeout.ms": 2000}) as consumer:

        def handle(delivery: KafkaDelivery) -> None:
            got.append(delivery)
            if len(got) >= count:
                consumer.stop()

        runner = threading.Thread(target=consumer.run, args=(handle,), daemon=True)
        runner.start()
        runner.join(60)
        consumer.stop()
        runner.join(10)
    assert len(got) == count, f"consumed {len(got)} of {count}"
    return got


def by_entity(deliveries: list[KafkaDelivery]) -> dict[str, list[str]]:
    """Event types per record key, in the order consumed (order is kept per partition, so per key)."""
    seen: dict[str, list[str]] = {}
    for delivery in sorted(deliveries, key=lambda d: (d.partition, d.offset)):
        assert delivery.key is not None
        assert delivery.event_type is not None
        seen.setdefault(delivery.key.decode(), []).append(delivery.event_type.value)
    return seen


@pytest.mark.parametrize("form", ["envelope+header", "envelope", "bare+type", "bare+ce_type"])
def test_each_record_form_reaches_a_consumer_with_added_and_updated_told_apart(
    cluster: KafkaCluster, form: KafkaRecordForm
) -> None:
    fake = FakeOrderCloud(kafka_record=form)
    provision(fake, kafka_target(cluster.bootstrap_servers))

    order_id = shop(fake)

    kafka = fake.deliveries_for(target="Kafka")
    assert [(d.event_type, d.error) for d in kafka] == [
        ("LineItemAdded", None),
        ("LineItemUpdated", None),
        ("UserLoggedIn", None),
        ("OrderSubmitted", None),
    ]
    assert {d.url for d in kafka} == {f"kafka://{cluster.bootstrap_servers}/tracking"}
    deliveries = consume(cluster.bootstrap_servers, "tracking", 4)
    assert by_entity(deliveries) == {
        f"order:{order_id}": ["LineItemAdded", "LineItemUpdated", "OrderSubmitted"],
        "user:buyer-jane": ["UserLoggedIn"],
    }
    # the type came with the record, not from the shape of the body
    assert all(isinstance(d.message, TrackingMessage) and not d.message.type_inferred for d in deliveries)
    value = json.loads(kafka[1].raw)
    if form.startswith("envelope"):
        assert value["Headers"] == {"type": LINE_UPDATED}
    else:
        assert "Headers" not in value
        assert value["OrderId"] == order_id
    expected_headers = {
        "envelope+header": {"type": LINE_UPDATED},
        "envelope": {},
        "bare+type": {"type": LINE_UPDATED},
        "bare+ce_type": {"ce_type": LINE_UPDATED},
    }[form]
    assert kafka[1].headers == expected_headers
    fake.close()


def test_the_default_record_is_the_envelope_with_a_type_header_keyed_like_the_forwarder(cluster: KafkaCluster) -> None:
    from ordercloud_tracking.streams import decode_record, forward_record

    fake = FakeOrderCloud()
    provision(fake, kafka_target(cluster.bootstrap_servers))
    shop(fake)

    added = fake.deliveries_for(target="Kafka")[0]
    key, value, headers = forward_record(
        decode_record("t", 0, 0, None, added.raw, [(k, v.encode()) for k, v in added.headers.items()])
    )
    assert (added.key, added.raw, added.headers) == (key.decode(), value, {"type": LINE_ADDED})
    assert dict(headers) == {"type": LINE_ADDED.encode()}
    fake.close()


def test_an_event_hub_target_gets_the_bare_message_with_a_type_header_on_the_given_endpoint(
    cluster: KafkaCluster,
) -> None:
    fake = FakeOrderCloud(event_hub_kafka=cluster.bootstrap_servers)
    # the connection string is Event Hubs' SASL password: unused on the mock cluster, which has no SASL
    hub = {"EventHubName": "tracking", "ConnectionString": f"Endpoint=sb://x/;SharedAccessKey={SASL_PASSWORD}"}
    provision(fake, {"EventHub": hub})

    order_id = shop(fake)

    hubs = fake.deliveries_for(target="EventHub")
    assert [d.error for d in hubs] == [None] * 4
    assert hubs[0].headers == {"type": LINE_ADDED}
    assert "Headers" not in json.loads(hubs[0].raw)
    assert by_entity(consume(cluster.bootstrap_servers, "tracking", 4))[f"order:{order_id}"] == [
        "LineItemAdded",
        "LineItemUpdated",
        "OrderSubmitted",
    ]
    fake.close()


def test_an_event_hub_target_without_a_kafka_endpoint_is_recorded_as_not_sent() -> None:
    fake = FakeOrderCloud()
    provision(fake, {"EventHub": {"EventHubName": "tracking", "ConnectionString": "Endpoint=sb://x/"}})

    shop(fake)

    errors = {d.error for d in fake.deliveries_for(target="EventHub")}
    assert errors == {
        "not sent: EventHub targets go through a Kafka endpoint you supply: FakeOrderCloud(event_hub_kafka=...)"
    }


def test_a_broker_that_is_down_fails_the_delivery_not_the_shoppers_request(cluster: KafkaCluster) -> None:
    fake = FakeOrderCloud(kafka_timeout=0.5)
    provision(fake, kafka_target(cluster.bootstrap_servers))
    cluster.stop_brokers()

    shop(fake)  # every call answered, the order submitted

    kafka = fake.deliveries_for(target="Kafka")
    assert len(kafka) == 4
    assert not any(d.ok for d in kafka)
    assert all(d.error and ("timed out" in d.error or "no acknowledgement" in d.error) for d in kafka), kafka
    fake.close()


def test_sasl_is_used_when_the_cluster_is_said_to_need_it_and_the_password_never_shows(
    cluster: KafkaCluster,
) -> None:
    # On loopback the fake connects without SASL (the mock cluster has none): the target's login is not used.
    plain = FakeOrderCloud()
    provision(plain, kafka_target(cluster.bootstrap_servers))
    shop(plain)
    assert [d.error for d in plain.deliveries_for(target="Kafka")] == [None] * 4
    plain.close()
    # Told the broker needs SASL, the fake logs in with the target's credentials — which the mock refuses.
    strict = FakeOrderCloud(kafka_config={"security.protocol": "SASL_PLAINTEXT"}, kafka_timeout=0.5)
    provision(strict, kafka_target(cluster.bootstrap_servers))
    shop(strict)
    kafka = strict.deliveries_for(target="Kafka")
    assert len(kafka) == 4
    assert not any(d.ok for d in kafka)
    shown = repr(kafka) + "".join(d.error or "" for d in kafka) + "".join(str(d.headers) for d in kafka)
    assert SASL_PASSWORD not in shown
    strict.close()


def test_without_the_kafka_extra_the_delivery_is_recorded_naming_the_extra(
    cluster: KafkaCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)  # what `import confluent_kafka` sees without it
    fake = FakeOrderCloud()
    provision(fake, kafka_target(cluster.bootstrap_servers))

    shop(fake)

    errors = {d.error for d in fake.deliveries_for(target="Kafka")}
    assert errors == {"not sent: Kafka delivery needs the 'kafka' extra: pip install 'ordercloud-tracking[kafka]'"}


def test_a_kafka_target_without_a_topic_is_recorded_as_broken() -> None:
    fake = FakeOrderCloud()
    provision(fake, kafka_target("127.0.0.1:1"))
    fake.api.delivery_configs["dc-k"]["DeliveryTargets"]["Kafka"]["Topic"] = ""  # stored broken

    shop(fake)

    assert {d.error for d in fake.deliveries_for(target="Kafka")} == {"bad Kafka target: no bootstrap servers or topic"}


def test_an_async_client_delivers_to_kafka_too(cluster: KafkaCluster) -> None:
    fake = FakeOrderCloud()
    provision(fake, kafka_target(cluster.bootstrap_servers))

    async def add_a_line() -> None:
        shopper = await fake.async_shopper(anon_user_id=BEACON)
        async with shopper.client:
            await shopper.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=1))

    asyncio.run(add_a_line())

    assert [(d.event_type, d.error) for d in fake.deliveries_for(target="Kafka")] == [("LineItemAdded", None)]
    assert [d.event_type and d.event_type.value for d in consume(cluster.bootstrap_servers, "tracking", 1)] == [
        "LineItemAdded"
    ]
    fake.close()


def test_an_unknown_record_form_is_refused() -> None:
    with pytest.raises(ValueError, match="kafka_record must be one of"):
        FakeOrderCloud(kafka_record="json")  # type: ignore[arg-type]  # the check a typo meets at run time
