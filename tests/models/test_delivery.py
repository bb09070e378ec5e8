"""DeliveryConfig, DeliveryTargets, every sub-config and DeliveryConfigPatch: what a caller relies on."""

from __future__ import annotations

import copy
import doctest
import json
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from ordercloud_tracking.models import delivery
from ordercloud_tracking.models._base import OCModel
from ordercloud_tracking.models.delivery import (
    AzureBlobConfig,
    AzureTableConfig,
    ContentHubConfig,
    CosmosDbConfig,
    DeliveryConfig,
    DeliveryConfigPatch,
    DeliveryTargets,
    DiscoverEventConfig,
    EventHubConfig,
    HttpConfig,
    KafkaConfig,
    MailchimpConfig,
    MandrillConfig,
    MessageSenderConfig,
    SearchIngestionConfig,
    SearchIngestionContent,
    SearchIngestionHttpContent,
    SendEventConfig,
)

# Every target, every field, with distinctive secret values (so a leak is easy to spot).
TARGETS: dict[str, Any] = {
    "Kafka": {
        "BootstrapServers": "kafka-1:9092,kafka-2:9092",
        "SaslUsername": "oc-user",
        "SaslPassword": "SECRET-kafka-password",
        "Topic": "commerce-events",
    },
    "Http": {
        "Endpoint": "https://hooks.example.com/oc",
        "Secret": "SECRET-http-hmac",
        "CustomAuthHeaderName": "X-Api-Key",
        "CustomAuthHeaderValue": "SECRET-http-header",
    },
    "SearchIngestion": {
        "Domain": "domain-1",
        "Source": "source-1",
        "Endpoint": "https://ingest.example.com",
        "Entity": "product",
        "ApiKey": "SECRET-search-key",
        "Content": {
            "Locales": ["en-US", "fr-FR"],
            "Http": {
                "Endpoint": "https://cms.example.com/feed",
                "CustomAuthHeaderName": "Authorization",
                "CustomAuthHeaderValue": "SECRET-content-header",
            },
        },
    },
    "SendEvent": {
        "SiteID": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "ServiceEndpoint": "https://send.invalid",
    },
    "DiscoverEvent": {
        "ClientID": "ck-123",
        "ApiKey": "SECRET-discover-key",
        "ServiceEndpoint": "https://discover.invalid",
    },
    "EventHub": {"EventHubName": "commerce", "ConnectionString": "SECRET-eventhub-conn"},
    "AzureBlob": {"ConnectionString": "SECRET-blob-conn", "OverrideContainerName": "events"},
    "AzureTable": {"ConnectionString": "SECRET-table-conn", "OverrideTableName": "events"},
    "CosmosDb": {"ConnectionString": "SECRET-cosmos-conn", "OverrideDatabaseName": "oc"},
    "Mandrill": {"ApiKey": "SECRET-mandrill-key"},
    "Mailchimp": {"ApiKey": "SECRET-mailchimp-key"},
    "MessageSender": {"Secret": "SECRET-sender", "Endpoint": "https://mail.example.com"},
    "ContentHub": {
        "ApiKey": "SECRET-contenthub-key",
        "Endpoint": "https://ch.example.com",
        "TargetSchemaName": "Product",
        "ConfigData": {"Color": "xp.Color"},
    },
}
FULL_BODY: dict[str, Any] = {
    "ID": "dc-all",
    "Name": "Everything",
    "Enabled": True,
    "DeliveryTargets": TARGETS,
}
SECRET_VALUES = sorted(part for part in json.dumps(FULL_BODY).split('"') if part.startswith("SECRET-"))
WRITE_ONLY = {"Secret", "ApiKey", "SaslPassword", "ConnectionString", "CustomAuthHeaderValue"}

JS_SDK_ORDER = [
    "Kafka",
    "Http",
    "SearchIngestion",
    "SendEvent",
    "DiscoverEvent",
    "EventHub",
    "AzureBlob",
    "AzureTable",
    "CosmosDb",
    "Mandrill",
    "MessageSender",
    "ContentHub",
]
TARGET_NAMES = {field.serialization_alias or name for name, field in DeliveryTargets.model_fields.items()} | set(
    DeliveryTargets.model_fields
)

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
json_scalars = st.none() | st.booleans() | st.integers() | finite_floats | text
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)


def without_write_only(value: Any) -> Any:
    """The body as the API returns it: write-only fields left out (recursively)."""
    if isinstance(value, dict):
        return {key: without_write_only(item) for key, item in value.items() if key not in WRITE_ONLY}
    if isinstance(value, list):
        return [without_write_only(item) for item in value]
    return value


def http(**extra: Any) -> HttpConfig:
    return HttpConfig(endpoint="https://hooks.example.com/oc", secret=SecretStr("SECRET-http-hmac"), **extra)


def test_module_docstring_examples_run() -> None:
    result = doctest.testmod(delivery, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_all_is_sorted_and_exported() -> None:
    assert delivery.__all__ == sorted(delivery.__all__)
    assert all(hasattr(delivery, name) for name in delivery.__all__)


def test_secret_fixture_is_complete() -> None:
    assert len(SECRET_VALUES) == 14  # one per write-only field above


# --- names in and out ---------------------------------------------------------------------------------


def test_targets_keys_follow_js_sdk_order_plus_mailchimp() -> None:
    aliases = [field.serialization_alias for field in DeliveryTargets.model_fields.values()]
    assert [alias for alias in aliases if alias != "Mailchimp"] == JS_SDK_ORDER
    assert "Mailchimp" in aliases


def test_full_body_round_trips_exactly() -> None:
    config = DeliveryConfig.model_validate(copy.deepcopy(FULL_BODY))
    assert config.to_request() == FULL_BODY
    assert DeliveryConfig.model_validate_json(json.dumps(FULL_BODY)).to_request() == FULL_BODY
    assert config.delivery_targets.configured() == [*JS_SDK_ORDER[:10], "Mailchimp", *JS_SDK_ORDER[10:]]


def test_built_with_snake_names_writes_exact_json_names() -> None:
    config = DeliveryConfig(
        id="dc-send-and-http",
        name="Send + storefront receiver",
        enabled=True,
        delivery_targets=DeliveryTargets(
            send_event=SendEventConfig(
                site_id="0f8fad5b-d9cb-469f-a165-70867728950e",
                service_endpoint="https://example.invalid/send",
            ),
            http=HttpConfig(endpoint="https://hooks.example.com/oc", secret=SecretStr("example-secret")),
        ),
    )
    assert config.to_request() == {
        "ID": "dc-send-and-http",
        "Name": "Send + storefront receiver",
        "Enabled": True,
        "DeliveryTargets": {
            "Http": {"Endpoint": "https://hooks.example.com/oc", "Secret": "example-secret"},
            "SendEvent": {
                "SiteID": "0f8fad5b-d9cb-469f-a165-70867728950e",
                "ServiceEndpoint": "https://example.invalid/send",
            },
        },
    }


def test_snake_names_accepted_in_nested_dicts() -> None:
    config = DeliveryConfig.model_validate(
        {
            "name": "n",
            "delivery_targets": {
                "kafka": {"bootstrap_servers": "b", "sasl_username": "u", "sasl_password": "p", "topic": "t"},
                "SearchIngestion": {
                    "domain": "d",
                    "Source": "s",
                    "endpoint": "e",
                    "Entity": "x",
                    "api_key": "k",
                    "content": {"locales": ["en"], "http": {"endpoint": "h"}},
                },
            },
        }
    )
    assert config.to_request() == {
        "Name": "n",
        "DeliveryTargets": {
            "Kafka": {"BootstrapServers": "b", "SaslUsername": "u", "SaslPassword": "p", "Topic": "t"},
            "SearchIngestion": {
                "Domain": "d",
                "Source": "s",
                "Endpoint": "e",
                "Entity": "x",
                "ApiKey": "k",
                "Content": {"Locales": ["en"], "Http": {"Endpoint": "h"}},
            },
        },
    }


def test_every_sub_config_builds_from_snake_names() -> None:
    targets = DeliveryTargets(
        kafka=KafkaConfig(
            bootstrap_servers="kafka-1:9092,kafka-2:9092",
            sasl_username="oc-user",
            sasl_password=SecretStr("SECRET-kafka-password"),
            topic="commerce-events",
        ),
        http=http(custom_auth_header_name="X-Api-Key", custom_auth_header_value=SecretStr("SECRET-http-header")),
        search_ingestion=SearchIngestionConfig(
            domain="domain-1",
            source="source-1",
            endpoint="https://ingest.example.com",
            entity="product",
            api_key=SecretStr("SECRET-search-key"),
            content=SearchIngestionContent(
                locales=["en-US", "fr-FR"],
                http=SearchIngestionHttpContent(
                    endpoint="https://cms.example.com/feed",
                    custom_auth_header_name="Authorization",
                    custom_auth_header_value=SecretStr("SECRET-content-header"),
                ),
            ),
        ),
        send_event=SendEventConfig(
            site_id="0f8fad5b-d9cb-469f-a165-70867728950e", service_endpoint="https://send.invalid"
        ),
        discover_event=DiscoverEventConfig(
            client_id="ck-123",
            api_key=SecretStr("SECRET-discover-key"),
            service_endpoint="https://discover.invalid",
        ),
        event_hub=EventHubConfig(event_hub_name="commerce", connection_string=SecretStr("SECRET-eventhub-conn")),
        azure_blob=AzureBlobConfig(connection_string=SecretStr("SECRET-blob-conn"), override_container_name="events"),
        azure_table=AzureTableConfig(connection_string=SecretStr("SECRET-table-conn"), override_table_name="events"),
        cosmos_db=CosmosDbConfig(connection_string=SecretStr("SECRET-cosmos-conn"), override_database_name="oc"),
        mandrill=MandrillConfig(api_key=SecretStr("SECRET-mandrill-key")),
        mailchimp=MailchimpConfig(api_key=SecretStr("SECRET-mailchimp-key")),
        message_sender=MessageSenderConfig(secret=SecretStr("SECRET-sender"), endpoint="https://mail.example.com"),
        content_hub=ContentHubConfig(
            api_key=SecretStr("SECRET-contenthub-key"),
            endpoint="https://ch.example.com",
            target_schema_name="Product",
            config_data={"Color": "xp.Color"},
        ),
    )
    assert targets.to_request() == TARGETS


# --- write-only secrets -------------------------------------------------------------------------------


def test_secrets_are_masked_everywhere_but_the_request_body() -> None:
    config = DeliveryConfig.model_validate(copy.deepcopy(FULL_BODY))
    shown = [repr(config), str(config), str(config.model_dump()), config.model_dump_json()]
    shown += [repr(config.delivery_targets.http), str(config.delivery_targets.model_dump(mode="json"))]
    for secret in SECRET_VALUES:
        for text_form in shown:
            assert secret not in text_form
    assert "**********" in config.model_dump_json()
    body = json.dumps(config.to_request())
    for secret in SECRET_VALUES:
        assert secret in body
    assert json.loads(config.to_request_json()) == FULL_BODY


def test_secret_attributes_are_secret_str() -> None:
    config = DeliveryConfig.model_validate(copy.deepcopy(FULL_BODY))
    assert config.delivery_targets.http is not None
    secret = config.delivery_targets.http.secret
    assert isinstance(secret, SecretStr)
    assert secret.get_secret_value() == "SECRET-http-hmac"
    dumped = config.model_dump()["DeliveryTargets"]["Http"]["Secret"]
    assert isinstance(dumped, SecretStr)


def test_api_body_without_write_only_fields_parses_and_sends_no_nulls() -> None:
    api_body = without_write_only(FULL_BODY)
    assert "Secret" not in api_body["DeliveryTargets"]["Http"]
    config = DeliveryConfig.from_api(api_body)
    targets = config.delivery_targets
    assert targets.http is not None
    assert targets.http.secret is None
    assert targets.http.custom_auth_header_name == "X-Api-Key"  # value absent: not a pairing error
    assert targets.kafka is not None
    assert targets.kafka.sasl_password is None
    assert config.to_request() == api_body
    assert DeliveryConfig.from_api_json(json.dumps(api_body)).to_request() == api_body


def test_api_body_with_null_write_only_fields_parses() -> None:
    api_body = copy.deepcopy(FULL_BODY)
    api_body["DeliveryTargets"]["Http"]["Secret"] = None
    api_body["DeliveryTargets"]["Http"]["CustomAuthHeaderValue"] = None
    config = DeliveryConfig.from_api(api_body)
    assert config.to_request() == api_body


@pytest.mark.parametrize(
    ("target", "missing"),
    [
        ("Kafka", "SaslPassword"),
        ("Http", "Secret"),
        ("SearchIngestion", "ApiKey"),
        ("DiscoverEvent", "ApiKey"),
        ("EventHub", "ConnectionString"),
        ("AzureBlob", "ConnectionString"),
        ("AzureTable", "ConnectionString"),
        ("CosmosDb", "ConnectionString"),
        ("Mandrill", "ApiKey"),
        ("MessageSender", "Secret"),
        ("ContentHub", "ApiKey"),
    ],
)
def test_required_write_only_fields_are_required_for_callers(target: str, missing: str) -> None:
    body = copy.deepcopy(FULL_BODY)
    del body["DeliveryTargets"][target][missing]
    with pytest.raises(ValidationError) as excinfo:
        DeliveryConfig.model_validate(body)
    assert [error["loc"] for error in excinfo.value.errors()] == [("DeliveryTargets", target, missing)]
    assert "Field required" in str(excinfo.value)
    # ... but the same body from the API parses, and is written back without the field.
    assert DeliveryConfig.from_api(body).to_request() == body


# --- required fields ----------------------------------------------------------------------------------


REQUIRED: list[tuple[str, ...]] = [
    ("Name",),
    ("DeliveryTargets",),
    ("DeliveryTargets", "Kafka", "BootstrapServers"),
    ("DeliveryTargets", "Kafka", "SaslUsername"),
    ("DeliveryTargets", "Kafka", "Topic"),
    ("DeliveryTargets", "Http", "Endpoint"),
    ("DeliveryTargets", "SearchIngestion", "Domain"),
    ("DeliveryTargets", "SearchIngestion", "Source"),
    ("DeliveryTargets", "SearchIngestion", "Endpoint"),
    ("DeliveryTargets", "SearchIngestion", "Entity"),
    ("DeliveryTargets", "SearchIngestion", "Content", "Locales"),
    ("DeliveryTargets", "SearchIngestion", "Content", "Http", "Endpoint"),
    ("DeliveryTargets", "SendEvent", "SiteID"),
    ("DeliveryTargets", "SendEvent", "ServiceEndpoint"),
    ("DeliveryTargets", "DiscoverEvent", "ClientID"),
    ("DeliveryTargets", "DiscoverEvent", "ServiceEndpoint"),
    ("DeliveryTargets", "EventHub", "EventHubName"),
    ("DeliveryTargets", "MessageSender", "Endpoint"),
    ("DeliveryTargets", "ContentHub", "Endpoint"),
    ("DeliveryTargets", "ContentHub", "TargetSchemaName"),
]


def delete_path(body: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    node = body
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return body


@pytest.mark.parametrize("path", REQUIRED, ids=".".join)
def test_required_fields_are_enforced_with_the_field_named(path: tuple[str, ...]) -> None:
    body = delete_path(FULL_BODY, path)
    with pytest.raises(ValidationError) as excinfo:
        DeliveryConfig.model_validate(body)
    assert [(error["loc"], error["type"]) for error in excinfo.value.errors()] == [(path, "missing")]
    assert ".".join(path) in str(excinfo.value)


@pytest.mark.parametrize("path", [path for path in REQUIRED if path[-1] != "ServiceEndpoint"], ids=".".join)
def test_required_readable_fields_are_required_on_read_too(path: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError):
        DeliveryConfig.from_api(delete_path(without_write_only(FULL_BODY), path))


def test_send_event_without_service_endpoint_is_tolerated_on_read() -> None:
    # Only the .NET SDK marks it required; other descriptions call it optional.
    config = DeliveryConfig.from_api({"Name": "n", "DeliveryTargets": {"SendEvent": {"SiteID": "s"}}})
    assert config.delivery_targets.send_event is not None
    assert config.delivery_targets.send_event.service_endpoint is None
    assert config.to_request() == {"Name": "n", "DeliveryTargets": {"SendEvent": {"SiteID": "s"}}}


def test_discover_event_kb_sample_without_api_key_reads() -> None:
    body = {"Name": "n", "DeliveryTargets": {"DiscoverEvent": {"ClientID": "c", "ServiceEndpoint": "e"}}}
    assert DeliveryConfig.from_api(body).to_request() == body


def test_optional_fields_may_be_left_out() -> None:
    config = DeliveryConfig(name="n", delivery_targets=DeliveryTargets())
    assert config.to_request() == {"Name": "n", "DeliveryTargets": {}}
    assert config.id is None
    assert config.enabled is None
    assert config.delivery_targets.configured() == []


# --- Mandrill and Mailchimp ---------------------------------------------------------------------------


def test_mandrill_is_read_and_written_alone() -> None:
    body = {"Name": "n", "DeliveryTargets": {"Mandrill": {"ApiKey": "k"}}}
    config = DeliveryConfig.model_validate(body)
    assert config.delivery_targets.mandrill is not None
    assert config.delivery_targets.mailchimp is None
    assert config.to_request() == body
    assert DeliveryConfig.from_api({"Name": "n", "DeliveryTargets": {"Mandrill": {}}}).to_request() == {
        "Name": "n",
        "DeliveryTargets": {"Mandrill": {}},
    }


def test_mailchimp_is_read_and_written_alone() -> None:
    body = {"Name": "n", "DeliveryTargets": {"Mailchimp": {"ApiKey": "k"}}}
    config = DeliveryConfig.model_validate(body)
    assert config.delivery_targets.mailchimp is not None
    assert config.delivery_targets.mandrill is None
    assert config.to_request() == body
    assert config.delivery_targets.configured() == ["Mailchimp"]


def test_mailchimp_api_key_is_optional_mandrill_api_key_is_not() -> None:
    assert DeliveryTargets(mailchimp=MailchimpConfig()).to_request() == {"Mailchimp": {}}
    with pytest.raises(ValidationError, match=r"Mandrill\.ApiKey"):
        DeliveryTargets.model_validate({"Mandrill": {}})


def test_both_mail_targets_can_be_given() -> None:
    targets = DeliveryTargets(
        mandrill=MandrillConfig(api_key=SecretStr("a")), mailchimp=MailchimpConfig(api_key=SecretStr("b"))
    )
    assert targets.to_request() == {"Mandrill": {"ApiKey": "a"}, "Mailchimp": {"ApiKey": "b"}}


def test_mail_key_max_length() -> None:
    with pytest.raises(ValidationError, match="at most 50 characters"):
        MandrillConfig(api_key=SecretStr("k" * 51))


# --- unknown targets and fields -----------------------------------------------------------------------


def test_unknown_target_round_trips() -> None:
    future: dict[str, Any] = {"Url": "https://future.example.com", "Retries": 3, "Nested": {"A": [1, None]}}
    body = {
        "Name": "n",
        "DeliveryTargets": {"SendEvent": {"SiteID": "s", "ServiceEndpoint": "e"}, "FutureTarget": future},
    }
    config = DeliveryConfig.from_api_json(json.dumps(body))
    assert config.delivery_targets.model_extra == {"FutureTarget": future}
    assert config.delivery_targets.configured() == ["SendEvent", "FutureTarget"]
    assert config.to_request() == body
    assert DeliveryConfig.model_validate(config.to_request()).to_request() == body


def test_unknown_fields_in_sub_configs_round_trip() -> None:
    body = copy.deepcopy(FULL_BODY)
    body["NewTopLevel"] = {"x": 1}
    for name, target in body["DeliveryTargets"].items():
        target[f"New{name}Field"] = [name, 1, None]
    body["DeliveryTargets"]["SearchIngestion"]["Content"]["NewContentField"] = True
    body["DeliveryTargets"]["SearchIngestion"]["Content"]["Http"]["NewHttpField"] = "y"
    assert DeliveryConfig.model_validate(copy.deepcopy(body)).to_request() == body
    api_body = without_write_only(body)
    assert DeliveryConfig.from_api(api_body).to_request() == api_body


@given(extra=st.dictionaries(text.filter(lambda key: key not in TARGET_NAMES), json_values, max_size=4))
def test_arbitrary_unknown_targets_round_trip(extra: dict[str, Any]) -> None:
    body = {"Name": "n", "DeliveryTargets": {"Http": {"Endpoint": "e"}, **extra}}
    config = DeliveryConfig.from_api_json(json.dumps(body))
    assert config.to_request() == body
    assert config.delivery_targets.configured() == [
        "Http",
        *(key for key, value in extra.items() if value is not None),
    ]


@given(
    extra=st.dictionaries(
        text.filter(lambda key: key not in {"Endpoint", "endpoint", "Secret", "secret", "EndPoint"}),
        json_values,
        max_size=4,
    )
)
def test_arbitrary_unknown_fields_in_a_target_round_trip(extra: dict[str, Any]) -> None:
    body = {"Name": "n", "DeliveryTargets": {"MessageSender": {"Endpoint": "e", **extra}}}
    assert DeliveryConfig.from_api_json(json.dumps(body)).to_request() == body


def test_configured_skips_null_targets() -> None:
    targets = DeliveryTargets.from_api({"Http": None, "Kafka": None, "Future": None, "Other": {}})
    assert targets.configured() == ["Other"]
    assert targets.to_request() == {"Http": None, "Kafka": None, "Future": None, "Other": {}}


# --- custom auth header pairing -----------------------------------------------------------------------


@pytest.mark.parametrize("model", [HttpConfig, SearchIngestionHttpContent])
def test_header_name_without_value_is_rejected(model: type[OCModel]) -> None:
    body = {"Endpoint": "e", "Secret": "s", "CustomAuthHeaderName": "X-Key"}
    with pytest.raises(ValidationError, match="CustomAuthHeaderName was given without CustomAuthHeaderValue"):
        model.model_validate(body)


@pytest.mark.parametrize("model", [HttpConfig, SearchIngestionHttpContent])
def test_header_value_without_name_is_rejected(model: type[OCModel]) -> None:
    body = {"Endpoint": "e", "Secret": "s", "CustomAuthHeaderValue": "SECRET-value"}
    with pytest.raises(ValidationError, match="CustomAuthHeaderValue was given without CustomAuthHeaderName") as exc:
        model.model_validate(body)
    assert "SECRET-value" not in str(exc.value)


def test_header_pair_checked_in_nested_construction() -> None:
    with pytest.raises(ValidationError, match="must be set together"):
        http(custom_auth_header_name="X-Key")
    with pytest.raises(ValidationError, match="must be set together"):
        SearchIngestionContent.model_validate(
            {"Locales": ["en"], "Http": {"Endpoint": "e", "CustomAuthHeaderName": "X-Key"}}
        )


@pytest.mark.parametrize("model", [HttpConfig, SearchIngestionHttpContent])
def test_header_name_alone_is_fine_from_the_api(model: type[OCModel]) -> None:
    body = {"Endpoint": "e", "CustomAuthHeaderName": "X-Key"}
    assert model.from_api(body).to_request() == body


def test_header_pair_given_together_is_fine() -> None:
    config = http(custom_auth_header_name="X-Key", custom_auth_header_value=SecretStr("v"))
    assert config.to_request()["CustomAuthHeaderValue"] == "v"


# --- MessageSender Endpoint spelling ------------------------------------------------------------------


def test_message_sender_reads_endpoint_spelling_and_writes_endpoint() -> None:
    config = MessageSenderConfig.from_api({"EndPoint": "https://a"})
    assert config.endpoint == "https://a"
    assert config.to_request() == {"Endpoint": "https://a"}
    assert config.model_extra == {}
    built = MessageSenderConfig.model_validate({"EndPoint": "https://a", "Secret": "s"})
    assert built.to_request() == {"Secret": "s", "Endpoint": "https://a"}


def test_message_sender_endpoint_wins_over_endpoint_spelling() -> None:
    config = MessageSenderConfig.from_api({"Endpoint": "https://new", "EndPoint": "https://old"})
    assert config.to_request() == {"Endpoint": "https://new"}


# --- client-side maximum lengths ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        (("Name",), 128),
        (("DeliveryTargets", "Http", "Secret"), 50),
        (("DeliveryTargets", "Http", "CustomAuthHeaderValue"), 50),
        (("DeliveryTargets", "Mandrill", "ApiKey"), 50),
        (("DeliveryTargets", "MessageSender", "Secret"), 50),
        (("DeliveryTargets", "ContentHub", "ApiKey"), 50),
    ],
    ids=lambda value: ".".join(value) if isinstance(value, tuple) else str(value),
)
def test_max_lengths_are_checked_for_callers_only(path: tuple[str, ...], limit: int) -> None:
    def with_value(value: str) -> dict[str, Any]:
        body = copy.deepcopy(FULL_BODY)
        node = body
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return body

    DeliveryConfig.model_validate(with_value("v" * limit))
    too_long = "SECRET" + "v" * (limit - 5)
    with pytest.raises(ValidationError) as excinfo:
        DeliveryConfig.model_validate(with_value(too_long))
    assert [error["loc"] for error in excinfo.value.errors()] == [path]
    assert f"at most {limit} characters" in str(excinfo.value)
    assert too_long not in str(excinfo.value)
    # A longer value from the API (limits may change server-side) is still readable.
    assert DeliveryConfig.from_api(with_value(too_long)).to_request() == with_value(too_long)


# --- DeliveryConfigPatch ------------------------------------------------------------------------------


def test_empty_patch_sends_nothing() -> None:
    assert DeliveryConfigPatch().to_request() == {}


def test_patch_explicit_none_differs_from_not_given() -> None:
    assert DeliveryConfigPatch(name=None).to_request() == {"Name": None}
    assert DeliveryConfigPatch(enabled=False).to_request() == {"Enabled": False}
    assert DeliveryConfigPatch(delivery_targets=None).to_request() == {"DeliveryTargets": None}


def test_patch_with_a_plain_dict_sends_it_as_written() -> None:
    partial = {"Http": {"Secret": "SECRET-rotated"}, "FutureTarget": {"X": 1}}
    patch = DeliveryConfigPatch(delivery_targets=partial)
    assert isinstance(patch.delivery_targets, dict)
    assert patch.to_request() == {"DeliveryTargets": partial}


def test_patch_keeps_a_complete_dict_a_dict() -> None:
    # Even a dict that would be a valid DeliveryTargets is kept as the caller wrote it.
    whole = {"SendEvent": {"SiteID": "s", "ServiceEndpoint": "e"}}
    patch = DeliveryConfigPatch.model_validate({"DeliveryTargets": whole})
    assert patch.delivery_targets == whole
    assert patch.to_request() == {"DeliveryTargets": whole}


def test_patch_with_delivery_targets_model() -> None:
    targets = DeliveryTargets(http=http())
    patch = DeliveryConfigPatch(name="renamed", delivery_targets=targets)
    assert patch.delivery_targets is targets
    assert patch.to_request() == {
        "Name": "renamed",
        "DeliveryTargets": {"Http": {"Endpoint": "https://hooks.example.com/oc", "Secret": "SECRET-http-hmac"}},
    }
    assert "SECRET-http-hmac" not in repr(patch)
    assert "SECRET-http-hmac" not in patch.model_dump_json()


def test_patch_masks_credentials_in_a_plain_dict() -> None:
    partial = {
        "Http": {"Secret": "SECRET-a", "custom_auth_header_value": "SECRET-b", "Endpoint": "https://visible"},
        "Kafka": {"SaslPassword": "SECRET-c"},
        "EventHub": {"connectionString": "SECRET-d"},
        "Future": [{"ApiKey": "SECRET-e"}],
    }
    patch = DeliveryConfigPatch(delivery_targets=partial)
    shown = [repr(patch), str(patch), str(patch.model_dump()), patch.model_dump_json()]
    for text_form in shown:
        assert "SECRET-" not in text_form
        assert "https://visible" in text_form
    assert patch.to_request() == {"DeliveryTargets": partial}
    assert patch.delivery_targets == partial  # the caller's value itself is untouched


def test_patch_dict_may_hold_secret_str_values() -> None:
    patch = DeliveryConfigPatch(delivery_targets={"Http": {"Secret": SecretStr("SECRET-wrapped")}})
    assert patch.to_request() == {"DeliveryTargets": {"Http": {"Secret": "SECRET-wrapped"}}}
    assert json.loads(patch.to_request_json()) == patch.to_request()
    for text_form in [repr(patch), str(patch.model_dump()), patch.model_dump_json()]:
        assert "SECRET-wrapped" not in text_form


def test_patch_name_max_length_and_alias_input() -> None:
    with pytest.raises(ValidationError, match="at most 128 characters"):
        DeliveryConfigPatch(name="n" * 129)
    patch = DeliveryConfigPatch.model_validate({"ID": "dc", "enabled": True})
    assert patch.to_request() == {"ID": "dc", "Enabled": True}


@given(
    fields=st.fixed_dictionaries(
        {},
        optional={
            "ID": st.none() | st.text(alphabet="abcXYZ-_0", max_size=10),
            "Name": st.none() | text,
            "Enabled": st.none() | st.booleans(),
            "DeliveryTargets": st.none() | st.dictionaries(text, json_values, max_size=3),
        },
    )
)
def test_patch_writes_exactly_the_given_fields(fields: dict[str, Any]) -> None:
    assert DeliveryConfigPatch.model_validate(fields).to_request() == fields


# ------------------------------------------------------------------ validation errors keep no secret

LEAKY = "lk-40ff-secret-in-a-validation-error"


def _leaky_inputs() -> list[tuple[type[OCModel], Any]]:
    http = {"Endpoint": "https://hooks.example.com/oc"}
    return [
        # too long: the value is the error's input
        (DeliveryConfig, {"Name": "n", "DeliveryTargets": {"Http": {**http, "Secret": LEAKY * 3}}}),
        # the header pairing check fails on the whole sub-config, which holds the value
        (
            DeliveryConfig,
            {"Name": "n", "DeliveryTargets": {"Http": {**http, "Secret": "s", "CustomAuthHeaderValue": LEAKY}}},
        ),
        # another field is wrong; the input shown is the sub-config holding SaslPassword
        (DeliveryConfig, {"Name": "n", "DeliveryTargets": {"Kafka": {"BootstrapServers": 1, "SaslPassword": LEAKY}}}),
        # a secret of the wrong type
        (DeliveryConfig, {"Name": "n", "DeliveryTargets": {"Http": {**http, "Secret": [LEAKY]}}}),
        (DeliveryConfig, {"Name": "n", "DeliveryTargets": {"Http": {**http, "Secret": {"nested": LEAKY}}}}),
        # a SecretStr given to a model whose other field is wrong
        (HttpConfig, {"Endpoint": 5, "Secret": SecretStr(LEAKY), "CustomAuthHeaderValue": SecretStr(LEAKY)}),
        (KafkaConfig, {"BootstrapServers": [], "SaslPassword": SecretStr(LEAKY)}),
        # a valid sub-config model (holding a secret) inside input that fails as a whole
        (DeliveryTargets, {"Http": HttpConfig(endpoint="https://h.example", secret=SecretStr(LEAKY)), "Kafka": 1}),
        (
            DeliveryConfig,
            {"Name": "n", "DeliveryTargets": [HttpConfig(endpoint="https://h.example", secret=SecretStr(LEAKY))]},
        ),
        # a plain-dict patch that fails elsewhere
        (DeliveryConfigPatch, {"Enabled": "maybe", "DeliveryTargets": {"Http": {"Secret": LEAKY}}}),
    ]


@pytest.mark.parametrize(("model", "data"), _leaky_inputs())
@pytest.mark.parametrize("entry", ["init", "validate", "validate_json"])
def test_validation_errors_never_hold_a_secret(model: type[OCModel], data: Any, entry: str) -> None:
    as_json = json.dumps(data, default=lambda v: v.get_secret_value() if isinstance(v, SecretStr) else v.to_request())
    calls: dict[str, Callable[[], object]] = {
        "init": lambda: model(**data),
        "validate": lambda: model.model_validate(data),
        "validate_json": lambda: model.model_validate_json(as_json),
    }
    with pytest.raises(ValidationError) as excinfo:
        calls[entry]()
    error = excinfo.value
    assert error.error_count() >= 1
    pickled = pickle.dumps(error)  # a pickle holds the error's inputs
    for where, text in [
        ("errors()", repr(error.errors())),
        ("json()", error.json()),
        ("str()", str(error)),
        ("pickle", pickled.decode("latin-1")),
        ("unpickled errors()", repr(pickle.loads(pickled).errors())),  # noqa: S301 - bytes this test made
    ]:
        assert LEAKY not in text, f"the secret leaked into {where}"
    assert error.__context__ is None  # the raw error is not kept behind the clean one


def test_scrubbed_validation_errors_keep_locations_types_and_messages() -> None:
    data = {"Name": "n", "DeliveryTargets": {"Http": {"Endpoint": 5, "Secret": LEAKY * 3}}}
    with pytest.raises(ValidationError) as excinfo:
        DeliveryConfig.model_validate(data)
    errors = {tuple(e["loc"]): (e["type"], e["msg"], e["input"]) for e in excinfo.value.errors()}
    assert errors[("DeliveryTargets", "Http", "Endpoint")] == ("string_type", "Input should be a valid string", 5)
    kind, message, shown = errors[("DeliveryTargets", "Http", "Secret")]
    assert kind == "value_error"
    assert "at most 50 characters" in message
    assert shown == "**********"
