"""Delivery configurations: where OrderCloud sends the messages of tracking events (and other sources).

A :class:`DeliveryConfig` names one or more :class:`DeliveryTargets` (one known integration such as
Sitecore Send or Discover, plus any number of custom targets such as an HTTP endpoint). Every target
has its own sub-config model below; JSON names are exactly OrderCloud's.

Write-only credentials (``Secret``, ``ApiKey``, ``SaslPassword``, ``ConnectionString``,
``CustomAuthHeaderValue``) are :data:`~ordercloud_tracking.models._base.Secret` values. Where the API
requires them they are *required but nullable*: a caller must give them, while a body returned by the
API (which never contains them) still parses through :meth:`~OCModel.from_api` and is written back
without sending them as ``null``.

Client-side checks (maximum lengths, the custom-auth-header pairing) run only when the caller builds
a model, never on bodies parsed with :meth:`~OCModel.from_api`, so a server-side change can never
make a response unreadable.

Both ``Mandrill`` (API up to v1.0.432) and ``Mailchimp`` (spec 1.0.445 and later) are modelled: either
is read, and only the one the caller set is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import (
    Field,
    FieldSerializationInfo,
    SecretStr,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_serializer,
    model_validator,
)
from typing_extensions import Self

from ._base import OCModel, Secret, caller_max_length, from_api_context, json_name, mask_secrets, reveals_secrets

__all__ = [
    "AzureBlobConfig",
    "AzureTableConfig",
    "ContentHubConfig",
    "CosmosDbConfig",
    "DeliveryConfig",
    "DeliveryConfigPatch",
    "DeliveryTargets",
    "DiscoverEventConfig",
    "EventHubConfig",
    "HttpConfig",
    "KafkaConfig",
    "MailchimpConfig",
    "MandrillConfig",
    "MessageSenderConfig",
    "SearchIngestionConfig",
    "SearchIngestionContent",
    "SearchIngestionHttpContent",
    "SendEventConfig",
]


def _check_header_pair(model: OCModel, name: str | None, value: SecretStr | None, info: ValidationInfo) -> None:
    # Integration.CustomAuthHeaderNameRequired / Integration.CustomAuthHeaderValueRequired, caught early.
    # API bodies never carry the (write-only) value, so they are not checked.
    if from_api_context(info) or (name is None) == (value is None):
        return
    given, missing = "CustomAuthHeaderName", "CustomAuthHeaderValue"
    if name is None:
        given, missing = missing, given
    raise ValueError(
        f"{type(model).__name__}: {given} was given without {missing}; "
        "CustomAuthHeaderName and CustomAuthHeaderValue must be set together"
    )


def _revealed(value: Any) -> Any:
    """A copy of a plain JSON-like value with any SecretStr written in clear (request bodies only)."""
    if isinstance(value, dict):
        return {key: _revealed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_revealed(item) for item in value]
    return value.get_secret_value() if isinstance(value, SecretStr) else value


# --------------------------------------------------------------------------------------------------
# Sub-configs (one per target)
# --------------------------------------------------------------------------------------------------


class KafkaConfig(OCModel):
    """Target ``Kafka``: a Kafka topic reached with SASL credentials."""

    bootstrap_servers: str
    sasl_username: str
    sasl_password: Secret | None
    topic: str


class HttpConfig(OCModel):
    """Target ``Http``: POST each message to an endpoint, signed with ``Secret`` (``x-oc-hash``)."""

    endpoint: str
    secret: Annotated[Secret | None, caller_max_length(50)]
    custom_auth_header_name: str | None = None
    custom_auth_header_value: Annotated[Secret | None, caller_max_length(50)] = None

    @model_validator(mode="after")
    def _header_pair(self, info: ValidationInfo) -> Self:
        _check_header_pair(self, self.custom_auth_header_name, self.custom_auth_header_value, info)
        return self


class SearchIngestionHttpContent(OCModel):
    """``SearchIngestion.Content.Http``: where to fetch content, with an optional custom auth header."""

    endpoint: str
    custom_auth_header_name: str | None = None
    custom_auth_header_value: Secret | None = None

    @model_validator(mode="after")
    def _header_pair(self, info: ValidationInfo) -> Self:
        _check_header_pair(self, self.custom_auth_header_name, self.custom_auth_header_value, info)
        return self


class SearchIngestionContent(OCModel):
    """``SearchIngestion.Content``: supported locales and an optional HTTP content source."""

    locales: list[str]
    http: SearchIngestionHttpContent | None = None


class SearchIngestionConfig(OCModel):
    """Target ``SearchIngestion`` (product sync only): Sitecore Search ingestion."""

    domain: str
    source: str
    endpoint: str
    entity: str
    api_key: Secret | None
    content: SearchIngestionContent | None = None


class SendEventConfig(OCModel):
    """Target ``SendEvent`` (tracking events only): Sitecore Send."""

    site_id: str
    service_endpoint: str | None


class DiscoverEventConfig(OCModel):
    """Target ``DiscoverEvent`` (tracking events only): Sitecore Discover."""

    client_id: str
    api_key: Secret | None
    service_endpoint: str


class EventHubConfig(OCModel):
    """Target ``EventHub``: an Azure Event Hub."""

    event_hub_name: str
    connection_string: Secret | None


class AzureBlobConfig(OCModel):
    """Target ``AzureBlob``: an Azure storage account (blob container)."""

    connection_string: Secret | None
    override_container_name: str | None = None


class AzureTableConfig(OCModel):
    """Target ``AzureTable``: an Azure storage account (table)."""

    connection_string: Secret | None
    override_table_name: str | None = None


class CosmosDbConfig(OCModel):
    """Target ``CosmosDb``: an Azure Cosmos DB account."""

    connection_string: Secret | None
    override_database_name: str | None = None


class MandrillConfig(OCModel):
    """Target ``Mandrill`` (API up to v1.0.432; renamed ``Mailchimp`` later, see :class:`MailchimpConfig`)."""

    api_key: Annotated[Secret | None, caller_max_length(50)]


class MailchimpConfig(OCModel):
    """Target ``Mailchimp`` (spec 1.0.445 and later; formerly ``Mandrill``, see :class:`MandrillConfig`)."""

    api_key: Secret | None = None


class MessageSenderConfig(OCModel):
    """Target ``MessageSender``. ``EndPoint`` (a KB sample's spelling) is read too; ``Endpoint`` is written."""

    secret: Annotated[Secret | None, caller_max_length(50)]
    endpoint: str

    @model_validator(mode="before")
    @classmethod
    def _accept_endpoint_spelling(cls, data: Any) -> Any:
        if isinstance(data, dict) and "EndPoint" in data:
            data = dict(data)
            spelled = data.pop("EndPoint")
            if "Endpoint" not in data and "endpoint" not in data:
                data["Endpoint"] = spelled
        return data


class ContentHubConfig(OCModel):
    """Target ``ContentHub`` (product sync only): Sitecore Content Hub."""

    api_key: Annotated[Secret | None, caller_max_length(50)]
    endpoint: str
    target_schema_name: str
    config_data: dict[str, Any] | None = None


# --------------------------------------------------------------------------------------------------
# Targets and the configuration
# --------------------------------------------------------------------------------------------------


class DeliveryTargets(OCModel):
    """Where messages go: every key is optional; unknown (newer) targets are kept and written back."""

    kafka: KafkaConfig | None = None
    http: HttpConfig | None = None
    search_ingestion: SearchIngestionConfig | None = None
    send_event: SendEventConfig | None = None
    discover_event: DiscoverEventConfig | None = None
    event_hub: EventHubConfig | None = None
    azure_blob: AzureBlobConfig | None = None
    azure_table: AzureTableConfig | None = None
    cosmos_db: CosmosDbConfig | None = None
    mandrill: MandrillConfig | None = None
    mailchimp: MailchimpConfig | None = None
    message_sender: MessageSenderConfig | None = None
    content_hub: ContentHubConfig | None = None

    def configured(self) -> list[str]:
        """JSON keys of the targets that are set (not null): known ones in field order, then unknown ones."""
        known = [
            json_name(name, field) for name, field in type(self).model_fields.items() if getattr(self, name) is not None
        ]
        extra = [key for key, value in (self.model_extra or {}).items() if value is not None]
        return known + extra


class DeliveryConfig(OCModel):
    """A delivery configuration (``/v1/integrations/deliveryconfig``)."""

    id: str | None = None
    name: Annotated[str, caller_max_length(128)]
    enabled: bool | None = None
    delivery_targets: DeliveryTargets


class DeliveryConfigPatch(OCModel):
    """A partial :class:`DeliveryConfig` for PATCH: only the fields you give are sent (``None`` as null)."""

    id: str | None = None
    name: Annotated[str | None, caller_max_length(128)] = None
    enabled: bool | None = None
    # dict first, left to right: a dict is always kept as written (never half-converted to a model).
    delivery_targets: dict[str, Any] | DeliveryTargets | None = Field(default=None, union_mode="left_to_right")

    @field_serializer("delivery_targets", mode="wrap")
    def _mask_plain_targets(
        self, value: Any, handler: SerializerFunctionWrapHandler, info: FieldSerializationInfo
    ) -> Any:
        if isinstance(value, dict):
            value = _revealed(value) if reveals_secrets(info.context) else mask_secrets(value)
        return handler(value)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, (mask_secrets(value) if name == "delivery_targets" else value)
