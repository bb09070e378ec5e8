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

    bootstrap_servers: str = Field(validation_alias="BootstrapServers", serialization_alias="BootstrapServers")
    sasl_username: str = Field(validation_alias="SaslUsername", serialization_alias="SaslUsername")
    sasl_password: Secret | None = Field(validation_alias="SaslPassword", serialization_alias="SaslPassword")
    topic: str = Field(validation_alias="Topic", serialization_alias="Topic")


class HttpConfig(OCModel):
    """Target ``Http``: POST each message to an endpoint, signed with ``Secret`` (``x-oc-hash``)."""

    endpoint: str = Field(validation_alias="Endpoint", serialization_alias="Endpoint")
    secret: Annotated[Secret | None, caller_max_length(50)] = Field(
        validation_alias="Secret", serialization_alias="Secret"
    )
    custom_auth_header_name: str | None = Field(
        default=None, validation_alias="CustomAuthHeaderName", serialization_alias="CustomAuthHeaderName"
    )
    custom_auth_header_value: Annotated[Secret | None, caller_max_length(50)] = Field(
        default=None, validation_alias="CustomAuthHeaderValue", serialization_alias="CustomAuthHeaderValue"
    )

    @model_validator(mode="after")
    def _header_pair(self, info: ValidationInfo) -> Self:
        _check_header_pair(self, self.custom_auth_header_name, self.custom_auth_header_value, info)
        return self


class SearchIngestionHttpContent(OCModel):
    """``SearchIngestion.Content.Http``: where to fetch content, with an optional custom auth header."""

    endpoint: str = Field(validation_alias="Endpoint", serialization_alias="Endpoint")
    custom_auth_header_name: str | None = Field(
        default=None, validation_alias="CustomAuthHeaderName", serialization_alias="CustomAuthHeaderName"
    )
    custom_auth_header_value: Secret | None = Field(
        default=None, validation_alias="CustomAuthHeaderValue", serialization_alias="CustomAuthHeaderValue"
    )

    @model_validator(mode="after")
    def _header_pair(self, info: ValidationInfo) -> Self:
        _check_header_pair(self, self.custom_auth_header_name, self.custom_auth_header_value, info)
        return self


class SearchIngestionContent(OCModel):
    """``SearchIngestion.Content``: supported locales and an optional HTTP content source."""

    locales: list[str] = Field(validation_alias="Locales", serialization_alias="Locales")
    http: SearchIngestionHttpContent | None = Field(default=None, validation_alias="Http", serialization_alias="Http")


class SearchIngestionConfig(OCModel):
    """Target ``SearchIngestion`` (product sync only): Sitecore Search ingestion."""

    domain: str = Field(validation_alias="Domain", serialization_alias="Domain")
    source: str = Field(validation_alias="Source", serialization_alias="Source")
    endpoint: str = Field(validation_alias="Endpoint", serialization_alias="Endpoint")
    entity: str = Field(validation_alias="Entity", serialization_alias="Entity")
    api_key: Secret | None = Field(validation_alias="ApiKey", serialization_alias="ApiKey")
    content: SearchIngestionContent | None = Field(
        default=None, validation_alias="Content", serialization_alias="Content"
    )


class SendEventConfig(OCModel):
    """Target ``SendEvent`` (tracking events only): Sitecore Send."""

    site_id: str = Field(validation_alias="SiteID", serialization_alias="SiteID")
    service_endpoint: str | None = Field(validation_alias="ServiceEndpoint", serialization_alias="ServiceEndpoint")


class DiscoverEventConfig(OCModel):
    """Target ``DiscoverEvent`` (tracking events only): Sitecore Discover."""

    client_id: str = Field(validation_alias="ClientID", serialization_alias="ClientID")
    api_key: Secret | None = Field(validation_alias="ApiKey", serialization_alias="ApiKey")
    service_endpoint: str = Field(validation_alias="ServiceEndpoint", serialization_alias="ServiceEndpoint")


class EventHubConfig(OCModel):
    """Target ``EventHub``: an Azure Event Hub."""

    event_hub_name: str = Field(validation_alias="EventHubName", serialization_alias="EventHubName")
    connection_string: Secret | None = Field(
        validation_alias="ConnectionString", serialization_alias="ConnectionString"
    )


class AzureBlobConfig(OCModel):
    """Target ``AzureBlob``: an Azure storage account (blob container)."""

    connection_string: Secret | None = Field(
        validation_alias="ConnectionString", serialization_alias="ConnectionString"
    )
    override_container_name: str | None = Field(
        default=None, validation_alias="OverrideContainerName", serialization_alias="OverrideContainerName"
    )


class AzureTableConfig(OCModel):
    """Target ``AzureTable``: an Azure storage account (table)."""

    connection_string: Secret | None = Field(
        validation_alias="ConnectionString", serialization_alias="ConnectionString"
    )
    override_table_name: str | None = Field(
        default=None, validation_alias="OverrideTableName", serialization_alias="OverrideTableName"
    )


class CosmosDbConfig(OCModel):
    """Target ``CosmosDb``: an Azure Cosmos DB account."""

    connection_string: Secret | None = Field(
        validation_alias="ConnectionString", serialization_alias="ConnectionString"
    )
    override_database_name: str | None = Field(
        default=None, validation_alias="OverrideDatabaseName", serialization_alias="OverrideDatabaseName"
    )


class MandrillConfig(OCModel):
    """Target ``Mandrill`` (API up to v1.0.432; renamed ``Mailchimp`` later, see :class:`MailchimpConfig`)."""

    api_key: Annotated[Secret | None, caller_max_length(50)] = Field(
        validation_alias="ApiKey", serialization_alias="ApiKey"
    )


class MailchimpConfig(OCModel):
    """Target ``Mailchimp`` (spec 1.0.445 and later; formerly ``Mandrill``, see :class:`MandrillConfig`)."""

    api_key: Secret | None = Field(default=None, validation_alias="ApiKey", serialization_alias="ApiKey")


class MessageSenderConfig(OCModel):
    """Target ``MessageSender``. ``EndPoint`` (a KB sample's spelling) is read too; ``Endpoint`` is written."""

    secret: Annotated[Secret | None, caller_max_length(50)] = Field(
        validation_alias="Secret", serialization_alias="Secret"
    )
    endpoint: str = Field(validation_alias="Endpoint", serialization_alias="Endpoint")

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

    api_key: Annotated[Secret | None, caller_max_length(50)] = Field(
        validation_alias="ApiKey", serialization_alias="ApiKey"
    )
    endpoint: str = Field(validation_alias="Endpoint", serialization_alias="Endpoint")
    target_schema_name: str = Field(validation_alias="TargetSchemaName", serialization_alias="TargetSchemaName")
    config_data: dict[str, Any] | None = Field(
        default=None, validation_alias="ConfigData", serialization_alias="ConfigData"
    )


# --------------------------------------------------------------------------------------------------
# Targets and the configuration
# --------------------------------------------------------------------------------------------------


class DeliveryTargets(OCModel):
    """Where messages go: every key is optional; unknown (newer) targets are kept and written back."""

    kafka: KafkaConfig | None = Field(default=None, validation_alias="Kafka", serialization_alias="Kafka")
    http: HttpConfig | None = Field(default=None, validation_alias="Http", serialization_alias="Http")
    search_ingestion: SearchIngestionConfig | None = Field(
        default=None, validation_alias="SearchIngestion", serialization_alias="SearchIngestion"
    )
    send_event: SendEventConfig | None = Field(
        default=None, validation_alias="SendEvent", serialization_alias="SendEvent"
    )
    discover_event: DiscoverEventConfig | None = Field(
        default=None, validation_alias="DiscoverEvent", serialization_alias="DiscoverEvent"
    )
    event_hub: EventHubConfig | None = Field(default=None, validation_alias="EventHub", serialization_alias="EventHub")
    azure_blob: AzureBlobConfig | None = Field(
        default=None, validation_alias="AzureBlob", serialization_alias="AzureBlob"
    )
    azure_table: AzureTableConfig | None = Field(
        default=None, validation_alias="AzureTable", serialization_alias="AzureTable"
    )
    cosmos_db: CosmosDbConfig | None = Field(default=None, validation_alias="CosmosDb", serialization_alias="CosmosDb")
    mandrill: MandrillConfig | None = Field(default=None, validation_alias="Mandrill", serialization_alias="Mandrill")
    mailchimp: MailchimpConfig | None = Field(
        default=None, validation_alias="Mailchimp", serialization_alias="Mailchimp"
    )
    message_sender: MessageSenderConfig | None = Field(
        default=None, validation_alias="MessageSender", serialization_alias="MessageSender"
    )
    content_hub: ContentHubConfig | None = Field(
        default=None, validation_alias="ContentHub", serialization_alias="ContentHub"
    )

    def configured(self) -> list[str]:
        """JSON keys of the targets that are set (not null): known ones in field order, then unknown ones."""
        known = [
            json_name(name, field) for name, field in type(self).model_fields.items() if getattr(self, name) is not None
        ]
        extra = [key for key, value in (self.model_extra or {}).items() if value is not None]
        return known + extra


class DeliveryConfig(OCModel):
    """A delivery configuration (``/v1/integrations/deliveryconfig``)."""

    id: str | None = Field(default=None, validation_alias="ID", serialization_alias="ID")
    name: Annotated[str, caller_max_length(128)] = Field(validation_alias="Name", serialization_alias="Name")
    enabled: bool | None = Field(default=None, validation_alias="Enabled", serialization_alias="Enabled")
    delivery_targets: DeliveryTargets = Field(validation_alias="DeliveryTargets", serialization_alias="DeliveryTargets")


class DeliveryConfigPatch(OCModel):
    """A partial :class:`DeliveryConfig` for PATCH: only the fields you give are sent (``None`` as null)."""

    id: str | None = Field(default=None, validation_alias="ID", serialization_alias="ID")
    name: Annotated[str | None, caller_max_length(128)] = Field(
        default=None, validation_alias="Name", serialization_alias="Name"
    )
    enabled: bool | None = Field(default=None, validation_alias="Enabled", serialization_alias="Enabled")
    # dict first, left to right: a dict is always kept as written (never half-converted to a model).
    delivery_targets: dict[str, Any] | DeliveryTargets | None = Field(
        default=None,
        validation_alias="DeliveryTargets",
        serialization_alias="DeliveryTargets",
        union_mode="left_to_right",
    )

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
