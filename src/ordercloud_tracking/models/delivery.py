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

from ._base import OCModel, Secret, caller_max_length, from_api_context, mask_secrets, reveals_secrets

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
    """Target ``Kafka``: a Kafka topic reached with SASL credentials.

    >>> from pydantic import SecretStr
    >>> KafkaConfig(bootstrap_servers="kafka:9092", sasl_username="oc", sasl_password=SecretStr("pw"),
    ...             topic="commerce").to_request()["SaslPassword"]
    'pw'
    """

    bootstrap_servers: str = Field(alias="BootstrapServers")
    sasl_username: str = Field(alias="SaslUsername")
    sasl_password: Secret | None = Field(alias="SaslPassword")
    topic: str = Field(alias="Topic")


class HttpConfig(OCModel):
    """Target ``Http``: POST each message to an endpoint, signed with ``Secret`` (``x-oc-hash``).

    ``CustomAuthHeaderName`` and ``CustomAuthHeaderValue`` must be given together.

    >>> from pydantic import SecretStr
    >>> http = HttpConfig(endpoint="https://hooks.example.com/oc", secret=SecretStr("s3cret"))
    >>> http  # doctest: +ELLIPSIS
    HttpConfig(endpoint='https://hooks.example.com/oc', secret=SecretStr('**********'), ...)
    >>> http.to_request()
    {'Endpoint': 'https://hooks.example.com/oc', 'Secret': 's3cret'}
    """

    endpoint: str = Field(alias="Endpoint")
    secret: Annotated[Secret | None, caller_max_length(50)] = Field(alias="Secret")
    custom_auth_header_name: str | None = Field(default=None, alias="CustomAuthHeaderName")
    custom_auth_header_value: Annotated[Secret | None, caller_max_length(50)] = Field(
        default=None, alias="CustomAuthHeaderValue"
    )

    @model_validator(mode="after")
    def _header_pair(self, info: ValidationInfo) -> Self:
        _check_header_pair(self, self.custom_auth_header_name, self.custom_auth_header_value, info)
        return self


class SearchIngestionHttpContent(OCModel):
    """``SearchIngestion.Content.Http``: where to fetch content, with an optional custom auth header.

    >>> SearchIngestionHttpContent(endpoint="https://cms.example.com/feed").to_request()
    {'Endpoint': 'https://cms.example.com/feed'}
    """

    endpoint: str = Field(alias="Endpoint")
    custom_auth_header_name: str | None = Field(default=None, alias="CustomAuthHeaderName")
    custom_auth_header_value: Secret | None = Field(default=None, alias="CustomAuthHeaderValue")

    @model_validator(mode="after")
    def _header_pair(self, info: ValidationInfo) -> Self:
        _check_header_pair(self, self.custom_auth_header_name, self.custom_auth_header_value, info)
        return self


class SearchIngestionContent(OCModel):
    """``SearchIngestion.Content``: supported locales and an optional HTTP content source.

    >>> SearchIngestionContent(locales=["en-US", "fr-FR"]).to_request()
    {'Locales': ['en-US', 'fr-FR']}
    """

    locales: list[str] = Field(alias="Locales")
    http: SearchIngestionHttpContent | None = Field(default=None, alias="Http")


class SearchIngestionConfig(OCModel):
    """Target ``SearchIngestion`` (product sync only): Sitecore Search ingestion.

    >>> from pydantic import SecretStr
    >>> SearchIngestionConfig(domain="d", source="s", endpoint="https://ingest.example.com", entity="product",
    ...                       api_key=SecretStr("k")).to_request()["ApiKey"]
    'k'
    """

    domain: str = Field(alias="Domain")
    source: str = Field(alias="Source")
    endpoint: str = Field(alias="Endpoint")
    entity: str = Field(alias="Entity")
    api_key: Secret | None = Field(alias="ApiKey")
    content: SearchIngestionContent | None = Field(default=None, alias="Content")


class SendEventConfig(OCModel):
    """Target ``SendEvent`` (tracking events only): Sitecore Send.

    ``ServiceEndpoint`` is required here (as in the .NET SDK) but tolerated absent on read, since
    other descriptions call it optional.

    >>> SendEventConfig(site_id="0f8fad5b-d9cb-469f-a165-70867728950e",
    ...                 service_endpoint="https://example.invalid/send").to_request()
    {'SiteID': '0f8fad5b-d9cb-469f-a165-70867728950e', 'ServiceEndpoint': 'https://example.invalid/send'}
    """

    site_id: str = Field(alias="SiteID")
    service_endpoint: str | None = Field(alias="ServiceEndpoint")


class DiscoverEventConfig(OCModel):
    """Target ``DiscoverEvent`` (tracking events only): Sitecore Discover.

    >>> from pydantic import SecretStr
    >>> DiscoverEventConfig(client_id="ck-123", api_key=SecretStr("k"), service_endpoint="https://d.invalid")
    DiscoverEventConfig(client_id='ck-123', api_key=SecretStr('**********'), service_endpoint='https://d.invalid')
    """

    client_id: str = Field(alias="ClientID")
    api_key: Secret | None = Field(alias="ApiKey")
    service_endpoint: str = Field(alias="ServiceEndpoint")


class EventHubConfig(OCModel):
    """Target ``EventHub``: an Azure Event Hub.

    >>> from pydantic import SecretStr
    >>> EventHubConfig(event_hub_name="commerce", connection_string=SecretStr("Endpoint=sb://...")).event_hub_name
    'commerce'
    """

    event_hub_name: str = Field(alias="EventHubName")
    connection_string: Secret | None = Field(alias="ConnectionString")


class AzureBlobConfig(OCModel):
    """Target ``AzureBlob``: an Azure storage account (blob container).

    >>> from pydantic import SecretStr
    >>> AzureBlobConfig(connection_string=SecretStr("DefaultEndpointsProtocol=https;..."),
    ...                 override_container_name="events").to_request()["OverrideContainerName"]
    'events'
    """

    connection_string: Secret | None = Field(alias="ConnectionString")
    override_container_name: str | None = Field(default=None, alias="OverrideContainerName")


class AzureTableConfig(OCModel):
    """Target ``AzureTable``: an Azure storage account (table).

    >>> from pydantic import SecretStr
    >>> AzureTableConfig(connection_string=SecretStr("..."), override_table_name="events").override_table_name
    'events'
    """

    connection_string: Secret | None = Field(alias="ConnectionString")
    override_table_name: str | None = Field(default=None, alias="OverrideTableName")


class CosmosDbConfig(OCModel):
    """Target ``CosmosDb``: an Azure Cosmos DB account.

    >>> from pydantic import SecretStr
    >>> CosmosDbConfig(connection_string=SecretStr("..."), override_database_name="oc").override_database_name
    'oc'
    """

    connection_string: Secret | None = Field(alias="ConnectionString")
    override_database_name: str | None = Field(default=None, alias="OverrideDatabaseName")


class MandrillConfig(OCModel):
    """Target ``Mandrill`` (API up to v1.0.432; renamed ``Mailchimp`` later, see :class:`MailchimpConfig`).

    >>> from pydantic import SecretStr
    >>> MandrillConfig(api_key=SecretStr("md-key")).to_request()
    {'ApiKey': 'md-key'}
    """

    api_key: Annotated[Secret | None, caller_max_length(50)] = Field(alias="ApiKey")


class MailchimpConfig(OCModel):
    """Target ``Mailchimp`` (spec 1.0.445 and later; formerly ``Mandrill``, see :class:`MandrillConfig`).

    Without ``ApiKey`` OrderCloud's default Mailchimp instance (for tests only) is used.

    >>> MailchimpConfig().to_request()
    {}
    """

    api_key: Secret | None = Field(default=None, alias="ApiKey")


class MessageSenderConfig(OCModel):
    """Target ``MessageSender``. ``EndPoint`` (a KB sample's spelling) is read too; ``Endpoint`` is written.

    >>> MessageSenderConfig.from_api({"EndPoint": "https://mail.example.com"}).to_request()
    {'Endpoint': 'https://mail.example.com'}
    """

    secret: Annotated[Secret | None, caller_max_length(50)] = Field(alias="Secret")
    endpoint: str = Field(alias="Endpoint")

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
    """Target ``ContentHub`` (product sync only): Sitecore Content Hub.

    >>> from pydantic import SecretStr
    >>> hub = ContentHubConfig(api_key=SecretStr("k"), endpoint="https://ch.example.com",
    ...                        target_schema_name="Product", config_data={"Color": "xp.Color"})
    >>> hub.to_request()["ConfigData"]
    {'Color': 'xp.Color'}
    """

    api_key: Annotated[Secret | None, caller_max_length(50)] = Field(alias="ApiKey")
    endpoint: str = Field(alias="Endpoint")
    target_schema_name: str = Field(alias="TargetSchemaName")
    config_data: dict[str, Any] | None = Field(default=None, alias="ConfigData")


# --------------------------------------------------------------------------------------------------
# Targets and the configuration
# --------------------------------------------------------------------------------------------------


class DeliveryTargets(OCModel):
    """Where messages go: every key is optional; unknown (newer) targets are kept and written back.

    >>> from pydantic import SecretStr
    >>> targets = DeliveryTargets(
    ...     send_event=SendEventConfig(site_id="site-1", service_endpoint="https://example.invalid/send"),
    ...     http=HttpConfig(endpoint="https://hooks.example.com/oc", secret=SecretStr("s3cret")),
    ... )
    >>> targets.configured()
    ['Http', 'SendEvent']
    >>> DeliveryTargets.from_api({"FutureTarget": {"Url": "x"}}).configured()
    ['FutureTarget']
    """

    kafka: KafkaConfig | None = Field(default=None, alias="Kafka")
    http: HttpConfig | None = Field(default=None, alias="Http")
    search_ingestion: SearchIngestionConfig | None = Field(default=None, alias="SearchIngestion")
    send_event: SendEventConfig | None = Field(default=None, alias="SendEvent")
    discover_event: DiscoverEventConfig | None = Field(default=None, alias="DiscoverEvent")
    event_hub: EventHubConfig | None = Field(default=None, alias="EventHub")
    azure_blob: AzureBlobConfig | None = Field(default=None, alias="AzureBlob")
    azure_table: AzureTableConfig | None = Field(default=None, alias="AzureTable")
    cosmos_db: CosmosDbConfig | None = Field(default=None, alias="CosmosDb")
    mandrill: MandrillConfig | None = Field(default=None, alias="Mandrill")
    mailchimp: MailchimpConfig | None = Field(default=None, alias="Mailchimp")
    message_sender: MessageSenderConfig | None = Field(default=None, alias="MessageSender")
    content_hub: ContentHubConfig | None = Field(default=None, alias="ContentHub")

    def configured(self) -> list[str]:
        """JSON keys of the targets that are set (not null): known ones in field order, then unknown ones."""
        known = [
            field.alias or name for name, field in type(self).model_fields.items() if getattr(self, name) is not None
        ]
        extra = [key for key, value in (self.model_extra or {}).items() if value is not None]
        return known + extra


class DeliveryConfig(OCModel):
    """A delivery configuration (``/v1/integrations/deliveryconfig``).

    >>> config = DeliveryConfig(
    ...     id="dc-send", name="Send", enabled=True,
    ...     delivery_targets=DeliveryTargets(
    ...         send_event=SendEventConfig(site_id="site-1", service_endpoint="https://example.invalid/send")),
    ... )
    >>> config.to_request()["DeliveryTargets"]
    {'SendEvent': {'SiteID': 'site-1', 'ServiceEndpoint': 'https://example.invalid/send'}}
    """

    id: str | None = Field(default=None, alias="ID")
    name: Annotated[str, caller_max_length(128)] = Field(alias="Name")
    enabled: bool | None = Field(default=None, alias="Enabled")
    delivery_targets: DeliveryTargets = Field(alias="DeliveryTargets")


class DeliveryConfigPatch(OCModel):
    """A partial :class:`DeliveryConfig` for PATCH: only the fields you give are sent (``None`` as null).

    ``delivery_targets`` may be a :class:`DeliveryTargets` or a plain ``dict`` (JSON names), which is
    kept and sent exactly as written; use a dict to change part of one target. Credential values in
    such a dict are masked everywhere except in the request body.

    >>> patch = DeliveryConfigPatch(enabled=False, delivery_targets={"Http": {"Secret": "new-secret"}})
    >>> patch.delivery_targets
    {'Http': {'Secret': 'new-secret'}}
    >>> patch  # doctest: +ELLIPSIS
    DeliveryConfigPatch(..., delivery_targets={'Http': {'Secret': '**********'}})
    >>> patch.to_request()
    {'Enabled': False, 'DeliveryTargets': {'Http': {'Secret': 'new-secret'}}}
    """

    id: str | None = Field(default=None, alias="ID")
    name: Annotated[str | None, caller_max_length(128)] = Field(default=None, alias="Name")
    enabled: bool | None = Field(default=None, alias="Enabled")
    # dict first, left to right: a dict is always kept as written (never half-converted to a model).
    delivery_targets: dict[str, Any] | DeliveryTargets | None = Field(
        default=None, alias="DeliveryTargets", union_mode="left_to_right"
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
