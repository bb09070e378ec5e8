"""KafkaSettings: Kafka targets, Event Hubs' Kafka endpoint, the environment; the password never shows."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from ordercloud_tracking.models.delivery import KafkaConfig
from ordercloud_tracking.streams import KafkaSettings, TrackingConsumer

CONNECTION = "Endpoint=sb://shop-ns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=S3cr3tKey="


def test_from_target_uses_the_target_and_the_password_given() -> None:
    target = KafkaConfig(bootstrap_servers="b1:9092,b2:9092", sasl_username="oc", sasl_password=None, topic="commerce")
    settings = KafkaSettings.from_target(target, group_id="shop", sasl_password="pw-123")
    conf = settings.client_config()
    assert conf == {
        "bootstrap.servers": "b1:9092,b2:9092",
        "security.protocol": "SASL_SSL",
        "group.id": "shop",
        "sasl.mechanism": "PLAIN",
        "sasl.username": "oc",
        "sasl.password": "pw-123",
    }
    assert settings.topic == "commerce"
    assert "pw-123" not in repr(settings)
    assert "pw-123" not in str(settings)


def test_from_target_falls_back_to_a_password_on_the_model() -> None:
    target = KafkaConfig(bootstrap_servers="b:9092", sasl_username="oc", sasl_password=SecretStr("x"), topic="t")
    assert KafkaSettings.from_target(target).client_config()["sasl.password"] == "x"


def test_from_event_hub_is_the_documented_kafka_endpoint() -> None:
    settings = KafkaSettings.from_event_hub(CONNECTION, "commerce", group_id="shop")
    conf = settings.client_config()
    assert conf["bootstrap.servers"] == "shop-ns.servicebus.windows.net:9093"
    assert conf["security.protocol"] == "SASL_SSL"
    assert conf["sasl.mechanism"] == "PLAIN"
    assert conf["sasl.username"] == "$ConnectionString"
    assert conf["sasl.password"] == CONNECTION
    assert settings.topic == "commerce"
    assert "S3cr3tKey" not in repr(settings)


def test_a_malformed_connection_string_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="Endpoint") as info:
        KafkaSettings.from_event_hub("SharedAccessKey=S3cr3tKey=", "commerce")
    assert "S3cr3tKey" not in str(info.value)


def test_from_env_plain_kafka_and_event_hubs() -> None:
    env = {
        "ORDERCLOUD_KAFKA_BOOTSTRAP_SERVERS": "k:9092",
        "ORDERCLOUD_KAFKA_TOPIC": "tracking",
        "ORDERCLOUD_KAFKA_GROUP_ID": "g",
        "ORDERCLOUD_KAFKA_SASL_USERNAME": "u",
        "ORDERCLOUD_KAFKA_SASL_PASSWORD": "pw-env",
        "ORDERCLOUD_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    }
    settings = KafkaSettings.from_env(env)
    assert settings.client_config()["sasl.mechanism"] == "SCRAM-SHA-512"
    assert settings.security_protocol == "SASL_SSL"
    assert settings.group_id == "g"
    assert "pw-env" not in repr(settings)
    hub = KafkaSettings.from_env(
        {"ORDERCLOUD_KAFKA_EVENT_HUB_CONNECTION_STRING": CONNECTION, "ORDERCLOUD_KAFKA_EVENT_HUB_NAME": "commerce"}
    )
    assert hub.bootstrap_servers == "shop-ns.servicebus.windows.net:9093"


def test_from_env_names_the_missing_variable() -> None:
    with pytest.raises(ValueError, match="ORDERCLOUD_KAFKA_TOPIC"):
        KafkaSettings.from_env({"ORDERCLOUD_KAFKA_BOOTSTRAP_SERVERS": "k:9092"})


def test_secret_looking_config_values_are_hidden_but_used() -> None:
    settings = KafkaSettings("k:9092", "t", config={"ssl.key.password": "kp", "linger.ms": 5})
    assert "kp" not in repr(settings)
    assert "5" in repr(settings)
    assert settings.client_config()["ssl.key.password"] == "kp"
    assert settings.secrets() == ("kp",)


def test_empty_servers_or_topic_are_refused() -> None:
    with pytest.raises(ValueError, match="bootstrap_servers"):
        KafkaSettings(" ", "t")
    with pytest.raises(ValueError, match="topic"):
        KafkaSettings("k:9092", "")


def test_a_consumer_needs_a_group() -> None:
    with pytest.raises(ValueError, match="group_id"):
        TrackingConsumer(KafkaSettings("k:9092", "t"))


def test_unreachable_broker_is_a_typed_error_naming_servers_not_password(caplog: pytest.LogCaptureFixture) -> None:
    from ordercloud_tracking.streams import KafkaConnectionError

    caplog.set_level(logging.DEBUG)
    settings = KafkaSettings(
        "127.0.0.1:1",
        "t",
        group_id="g",
        sasl_username="u",
        sasl_password="pw-never-shown",
        security_protocol="SASL_PLAINTEXT",
    )
    consumer = TrackingConsumer(settings, connect_timeout=0.5)
    with pytest.raises(KafkaConnectionError) as info:
        consumer.run(lambda delivery: None)
    assert "127.0.0.1:1" in str(info.value)
    assert "pw-never-shown" not in str(info.value)
    assert "pw-never-shown" not in repr(consumer)
    assert "pw-never-shown" not in caplog.text
