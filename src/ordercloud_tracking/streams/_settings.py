"""Where a Kafka (or Event Hubs) stream is and how to log in: :class:`KafkaSettings`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
from pydantic import SecretStr

if TYPE_CHECKING:
    from ..models.delivery import KafkaConfig

__all__ = ["KafkaSettings"]

ConfigValue = str | int | float | bool
EVENT_HUBS_PORT = 9093
EVENT_HUBS_USERNAME = "$ConnectionString"
ENV_PREFIX = "ORDERCLOUD_KAFKA_"
_SECRET_WORDS = ("password", "secret", "token", "key", "jaas")


def _secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(value)


def _frozen_config(value: Mapping[str, ConfigValue] | None) -> Mapping[str, ConfigValue]:
    return dict(value or {})


def _config_repr(config: Mapping[str, ConfigValue]) -> str:
    shown = {k: ("***" if any(word in k.lower() for word in _SECRET_WORDS) else v) for k, v in config.items()}
    return repr(shown)


@attrs.frozen
class KafkaSettings:
    """How to reach a topic: brokers, topic, consumer group and credentials.

    ``sasl_password`` is a secret: it is never in ``repr``, logs or error messages (nor are values of
    ``config`` keys that look secret). ``config`` holds extra librdkafka settings, applied last.
    ``security_protocol`` defaults to ``SASL_SSL`` when a SASL user is given, ``PLAINTEXT`` otherwise;
    ``sasl_mechanism`` to ``PLAIN``.

    >>> settings = KafkaSettings("kafka:9092", "tracking", group_id="shop", sasl_username="oc", sasl_password="pw")
    >>> settings
    KafkaSettings(bootstrap_servers='kafka:9092', topic='tracking', group_id='shop', sasl_username='oc', security_protocol='SASL_SSL', sasl_mechanism='PLAIN', config={})
    >>> settings.client_config()["sasl.password"]
    'pw'
    """

    bootstrap_servers: str
    topic: str
    group_id: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = attrs.field(default=None, converter=_secret, repr=False)
    security_protocol: str = attrs.field(default=attrs.Factory(lambda self: _default_protocol(self), takes_self=True))
    sasl_mechanism: str = "PLAIN"
    config: Mapping[str, ConfigValue] = attrs.field(factory=dict, converter=_frozen_config, repr=_config_repr)

    def __attrs_post_init__(self) -> None:
        if not self.bootstrap_servers.strip():
            raise ValueError("bootstrap_servers is empty")
        if not self.topic.strip():
            raise ValueError("topic is empty")

    def client_config(self, **overrides: ConfigValue) -> dict[str, Any]:
        """The librdkafka configuration for a client of these settings (``overrides`` win over all).

        >>> KafkaSettings("localhost:9092", "t", group_id="g").client_config()
        {'bootstrap.servers': 'localhost:9092', 'security.protocol': 'PLAINTEXT', 'group.id': 'g'}
        """
        conf: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
        }
        if self.group_id:
            conf["group.id"] = self.group_id
        if self.sasl_username is not None:
            conf["sasl.mechanism"] = self.sasl_mechanism
            conf["sasl.username"] = self.sasl_username
            if self.sasl_password is not None:
                conf["sasl.password"] = self.sasl_password.get_secret_value()
        conf.update(self.config)
        conf.update(overrides)
        return conf

    def secrets(self) -> tuple[str, ...]:
        """The secret strings these settings hold, to scrub from any text shown to people.

        >>> KafkaSettings("k:9092", "t", sasl_username="u", sasl_password="pw").secrets()
        ('pw',)
        """
        found = [self.sasl_password.get_secret_value()] if self.sasl_password is not None else []
        found += [str(v) for k, v in self.config.items() if any(w in k.lower() for w in _SECRET_WORDS)]
        return tuple(s for s in found if s)

    @classmethod
    def from_target(
        cls,
        kafka_config: KafkaConfig,
        *,
        group_id: str | None = None,
        sasl_password: str | SecretStr | None = None,
        security_protocol: str = "SASL_SSL",
        sasl_mechanism: str = "PLAIN",
        config: Mapping[str, ConfigValue] | None = None,
    ) -> KafkaSettings:
        """Settings for the topic a delivery config's ``Kafka`` target writes to.

        OrderCloud never returns ``SaslPassword`` (it is write-only), so pass it as ``sasl_password``;
        a password still present on ``kafka_config`` (one you built yourself) is used otherwise.

        >>> from ordercloud_tracking.models.delivery import KafkaConfig
        >>> target = KafkaConfig(bootstrap_servers="kafka:9092", sasl_username="oc", sasl_password=None, topic="commerce")
        >>> KafkaSettings.from_target(target, group_id="shop", sasl_password="pw").client_config()["sasl.username"]
        'oc'
        """
        password = _secret(sasl_password) if sasl_password is not None else kafka_config.sasl_password
        return cls(
            bootstrap_servers=kafka_config.bootstrap_servers,
            topic=kafka_config.topic,
            group_id=group_id,
            sasl_username=kafka_config.sasl_username or None,
            sasl_password=password,
            security_protocol=security_protocol,
            sasl_mechanism=sasl_mechanism,
            config=config,
        )

    @classmethod
    def from_event_hub(
        cls,
        connection_string: str | SecretStr,
        event_hub_name: str,
        *,
        group_id: str | None = None,
        config: Mapping[str, ConfigValue] | None = None,
    ) -> KafkaSettings:
        """Settings for an Azure Event Hub through its Kafka endpoint (Standard tier and above).

        The broker is ``<namespace>.servicebus.windows.net:9093`` over ``SASL_SSL`` with mechanism
        ``PLAIN``; the user name is the literal ``$ConnectionString`` and the password the namespace
        (or hub) connection string; the event hub is the topic.

        >>> settings = KafkaSettings.from_event_hub(
        ...     "Endpoint=sb://shop.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=abc=",
        ...     "commerce", group_id="shop")
        >>> settings.bootstrap_servers, settings.topic, settings.sasl_username, settings.security_protocol
        ('shop.servicebus.windows.net:9093', 'commerce', '$ConnectionString', 'SASL_SSL')
        >>> "abc=" in repr(settings)
        False
        """
        secret = connection_string if isinstance(connection_string, SecretStr) else SecretStr(connection_string)
        host = _event_hub_host(secret.get_secret_value())
        return cls(
            bootstrap_servers=f"{host}:{EVENT_HUBS_PORT}",
            topic=event_hub_name,
            group_id=group_id,
            sasl_username=EVENT_HUBS_USERNAME,
            sasl_password=secret,
            security_protocol="SASL_SSL",
            sasl_mechanism="PLAIN",
            config=config,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, prefix: str = ENV_PREFIX) -> KafkaSettings:
        """Settings from ``ORDERCLOUD_KAFKA_*`` environment variables.

        Either ``EVENT_HUB_CONNECTION_STRING`` and ``EVENT_HUB_NAME`` (Event Hubs), or
        ``BOOTSTRAP_SERVERS`` and ``TOPIC`` with optional ``SASL_USERNAME``, ``SASL_PASSWORD``,
        ``SECURITY_PROTOCOL`` and ``SASL_MECHANISM``; ``GROUP_ID`` in both cases. A missing variable is
        a :class:`ValueError` naming it.

        >>> KafkaSettings.from_env({"ORDERCLOUD_KAFKA_BOOTSTRAP_SERVERS": "localhost:9092",
        ...                         "ORDERCLOUD_KAFKA_TOPIC": "tracking", "ORDERCLOUD_KAFKA_GROUP_ID": "shop"})
        KafkaSettings(bootstrap_servers='localhost:9092', topic='tracking', group_id='shop', sasl_username=None, security_protocol='PLAINTEXT', sasl_mechanism='PLAIN', config={})
        """
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(prefix + name)
            return value if value and value.strip() else None

        def need(name: str) -> str:
            value = get(name)
            if value is None:
                raise ValueError(f"{prefix}{name} is not set")
            return value

        group_id = get("GROUP_ID")
        if get("EVENT_HUB_CONNECTION_STRING") is not None:
            return cls.from_event_hub(need("EVENT_HUB_CONNECTION_STRING"), need("EVENT_HUB_NAME"), group_id=group_id)
        username = get("SASL_USERNAME")
        protocol = get("SECURITY_PROTOCOL") or ("SASL_SSL" if username else "PLAINTEXT")
        return cls(
            bootstrap_servers=need("BOOTSTRAP_SERVERS"),
            topic=need("TOPIC"),
            group_id=group_id,
            sasl_username=username,
            sasl_password=get("SASL_PASSWORD"),
            security_protocol=protocol,
            sasl_mechanism=get("SASL_MECHANISM") or "PLAIN",
        )


def _default_protocol(settings: KafkaSettings) -> str:
    return "SASL_SSL" if settings.sasl_username else "PLAINTEXT"


def _event_hub_host(connection_string: str) -> str:
    """The namespace host of an Event Hubs connection string (the string itself is never in the error)."""
    for part in connection_string.split(";"):
        name, _, value = part.partition("=")
        if name.strip().lower() == "endpoint":
            host = value.strip().split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
            if host:
                return host
    raise ValueError("The Event Hubs connection string has no Endpoint=sb://<namespace>.servicebus.windows.net/ part")
