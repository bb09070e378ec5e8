"""Integration routes: tracking events, delivery configs and API clients, with OrderCloud's validation."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, NoReturn

from ._lists import list_page
from ._state import State
from ._wire import JSON, FakeRequest, FakeResponse, fail, found, not_found, require_id

__all__ = [
    "TRACKING_EVENT_TYPES",
    "api_client_get",
    "api_client_list",
    "api_client_patch",
    "dc_create",
    "dc_delete",
    "dc_get",
    "dc_list",
    "dc_patch",
    "dc_save",
    "te_create",
    "te_delete",
    "te_get",
    "te_list",
    "te_patch",
    "te_save",
]

WRITE_ONLY = {
    "Kafka": ("SaslPassword",),
    "Http": ("Secret", "CustomAuthHeaderValue"),
    "SearchIngestion": ("ApiKey",),
    "DiscoverEvent": ("ApiKey",),
    "EventHub": ("ConnectionString",),
    "AzureBlob": ("ConnectionString",),
    "AzureTable": ("ConnectionString",),
    "CosmosDb": ("ConnectionString",),
    "Mandrill": ("ApiKey",),
    "Mailchimp": ("ApiKey",),
    "MessageSender": ("Secret",),
    "ContentHub": ("ApiKey",),
}
REQUIRED_TARGET_FIELDS = {
    "Kafka": ("BootstrapServers", "SaslUsername", "SaslPassword", "Topic"),
    "Http": ("Endpoint", "Secret"),
    "SearchIngestion": ("Domain", "Source", "Endpoint", "Entity", "ApiKey"),
    "SendEvent": ("SiteID", "ServiceEndpoint"),
    "DiscoverEvent": ("ClientID", "ApiKey", "ServiceEndpoint"),
    "EventHub": ("EventHubName", "ConnectionString"),
    "AzureBlob": ("ConnectionString",),
    "AzureTable": ("ConnectionString",),
    "CosmosDb": ("ConnectionString",),
    "Mandrill": ("ApiKey",),
    "Mailchimp": (),
    "MessageSender": ("Endpoint", "Secret"),
    "ContentHub": ("ApiKey", "Endpoint", "TargetSchemaName"),
}
MAX_LENGTHS = {("Http", "Secret"): 50, ("Http", "CustomAuthHeaderValue"): 50, ("MessageSender", "Secret"): 50}
TRACKING_EVENT_TYPES = ("UserLoggedIn", "LineItemAdded", "LineItemUpdated", "OrderSubmitted")


READ_TE = ("FullAccess", "TrackingEventAdmin", "TrackingEventReader")
WRITE_TE = ("FullAccess", "TrackingEventAdmin")
DELIVERY = ("FullAccess", "DeliveryConfigAdmin")
READ_API_CLIENTS = ("FullAccess", "ApiClientAdmin", "ApiClientReader")
WRITE_API_CLIENTS = ("FullAccess", "ApiClientAdmin")
API_CLIENT_FIELDS = ("ID", "AppName", "Active", "DefaultContextUserName", "IsAnonBuyer", "xp")


# -------------------------------------------------------------------------------- tracking events
def te_list(state: State, request: FakeRequest) -> FakeResponse:
    state.authorize(request, READ_TE)
    body = list_page(
        state.tracking_events.values(),
        request,
        searchable=("ID", "EventType"),
        sortable=("ID", "EventType"),
        filterable=("ID", "EventType", "ClientID", "Name", "DeliveryConfigID", "ConfigData"),
    )
    return FakeResponse(200, body)


def te_get(state: State, request: FakeRequest, event_id: str) -> FakeResponse:
    state.authorize(request, READ_TE)
    event = found(state.tracking_events, "TrackingEvent", event_id)
    return FakeResponse(200, event)


def _te_validate(state: State, body: Any, *, existing: JSON | None, event_id: str | None) -> JSON:
    if not isinstance(body, dict):
        fail(400, "Request.InvalidRequestBody", "A TrackingEvent body is required.")
    for field in ("EventType", "ClientID", "Name", "DeliveryConfigID"):
        if body.get(field) in (None, ""):
            fail(400, "ValidationFailure", f"{field} is required", {"Property": field})
        if not isinstance(body[field], str):
            fail(400, "ValidationFailure", f"{field} must be text", {"Property": field})
    new_id = body.get("ID") or event_id or state.ids.next("trackingevent")
    require_id(new_id)
    if body["EventType"] not in TRACKING_EVENT_TYPES:
        fail(
            400,
            "ValidationFailure",
            f"{body['EventType']} is not a valid TrackingEventType",
            {"Property": "EventType"},
        )
    if existing is not None:
        for field in ("ClientID", "EventType"):
            if body[field] != existing[field]:
                fail(400, "TrackingEvent.CannotUpdateProperty", f"{field} cannot be changed", {"Property": field})
    if body["ClientID"] not in state.api_clients:
        fail(400, "TrackingEvent.InvalidClientID", f"API client {body['ClientID']} does not exist")
    if body["DeliveryConfigID"] not in state.delivery_configs:
        fail(
            400,
            "TrackingEvent.InvalidDeliveryConfigID",
            f"Delivery config {body['DeliveryConfigID']} does not exist",
        )
    for other_id, other in state.tracking_events.items():
        if existing is not None and other_id == existing["ID"]:
            continue
        if other["ClientID"] == body["ClientID"] and other["EventType"] == body["EventType"]:
            fail(
                400,
                "TrackingEvent.CannotCreateMultipleEventsOfSameType",
                f"API client {body['ClientID']} already has a {body['EventType']} tracking event ({other_id}).",
            )
    config_data = body.get("ConfigData")
    return {
        "ID": new_id,
        "EventType": body["EventType"],
        "ClientID": body["ClientID"],
        "Name": body["Name"],
        "ConfigData": config_data,
        "DeliveryConfigID": body["DeliveryConfigID"],
    }


def _id_exists(object_type: str, object_id: str) -> NoReturn:
    fail(
        409, "IdExists", f"{object_type} {object_id} already exists", {"ObjectType": object_type, "ObjectID": object_id}
    )


def _refuse_taken_id(body: Any, store: Mapping[str, Any], object_type: str) -> None:
    """A 409 when the ``ID`` a create body asks for is already taken."""
    wanted = body.get("ID") if isinstance(body, dict) else None
    if isinstance(wanted, str) and wanted in store:
        _id_exists(object_type, wanted)


def _patch_body(body: Any, object_type: str) -> JSON:
    if not isinstance(body, dict):
        fail(400, "Request.InvalidRequestBody", f"A {object_type} body is required.")
    return body


def _store_event(state: State, event: JSON, old_id: str) -> FakeResponse:
    """Store a saved or patched tracking event, which may have a new ``ID`` (200)."""
    if event["ID"] != old_id:
        if event["ID"] in state.tracking_events:
            _id_exists("TrackingEvent", event["ID"])
        state.tracking_events.pop(old_id, None)
    state.tracking_events[event["ID"]] = event
    return FakeResponse(200, event)


def te_create(state: State, request: FakeRequest) -> FakeResponse:
    state.authorize(request, WRITE_TE)
    body = request.json()
    _refuse_taken_id(body, state.tracking_events, "TrackingEvent")
    event = _te_validate(state, body, existing=None, event_id=None)
    state.tracking_events[event["ID"]] = event
    return FakeResponse(201, event)


def te_save(state: State, request: FakeRequest, event_id: str) -> FakeResponse:
    state.authorize(request, WRITE_TE)
    existing = state.tracking_events.get(event_id)
    event = _te_validate(state, request.json(), existing=existing, event_id=event_id)
    return _store_event(state, event, event_id)


def te_patch(state: State, request: FakeRequest, event_id: str) -> FakeResponse:
    state.authorize(request, WRITE_TE)
    existing = found(state.tracking_events, "TrackingEvent", event_id)
    body = _patch_body(request.json(), "TrackingEvent")
    event = _te_validate(state, {**existing, **body}, existing=existing, event_id=event_id)
    return _store_event(state, event, event_id)


def te_delete(state: State, request: FakeRequest, event_id: str) -> FakeResponse:
    state.authorize(request, WRITE_TE)
    if state.tracking_events.pop(event_id, None) is None:
        not_found("TrackingEvent", event_id)
    return FakeResponse(204)


# -------------------------------------------------------------------------------- delivery configs
def _public_config(config: JSON) -> JSON:
    public = copy.deepcopy(config)
    targets = public.get("DeliveryTargets") or {}
    for key, fields in WRITE_ONLY.items():
        target = targets.get(key)
        if isinstance(target, dict):
            for field in fields:
                if field in target:
                    target[field] = None
    ingestion_http = ((targets.get("SearchIngestion") or {}).get("Content") or {}).get("Http")
    if isinstance(ingestion_http, dict) and "CustomAuthHeaderValue" in ingestion_http:
        ingestion_http["CustomAuthHeaderValue"] = None
    return public


def _dc_validate(state: State, body: Any, *, config_id: str | None) -> JSON:
    if not isinstance(body, dict):
        fail(400, "Request.InvalidRequestBody", "A DeliveryConfig body is required.")
    name = body.get("Name")
    if not name:
        fail(400, "ValidationFailure", "Name is required", {"Property": "Name"})
    if not isinstance(name, str):
        fail(400, "ValidationFailure", "Name must be text", {"Property": "Name"})
    if len(name) > 128:
        fail(400, "ValidationFailure", "Name can be at most 128 characters", {"Property": "Name"})
    targets = body.get("DeliveryTargets")
    if not isinstance(targets, dict):
        fail(400, "ValidationFailure", "DeliveryTargets is required", {"Property": "DeliveryTargets"})
    for key, target in targets.items():
        if target is None:
            continue
        if not isinstance(target, dict):
            fail(
                400,
                "ValidationFailure",
                f"DeliveryTargets.{key} must be an object",
                {"Property": f"DeliveryTargets.{key}"},
            )
        if key == "MessageSender" and "Endpoint" not in target and "EndPoint" in target:
            target["Endpoint"] = target.pop("EndPoint")
        for field in REQUIRED_TARGET_FIELDS.get(key, ()):
            if target.get(field) in (None, ""):
                fail(
                    400,
                    "ValidationFailure",
                    f"DeliveryTargets.{key}.{field} is required",
                    {"Property": f"DeliveryTargets.{key}.{field}"},
                )
        for (target_key, field), limit in MAX_LENGTHS.items():
            if target_key == key and isinstance(target.get(field), str) and len(target[field]) > limit:
                fail(
                    400,
                    "ValidationFailure",
                    f"DeliveryTargets.{key}.{field} can be at most {limit} characters",
                    {"Property": f"DeliveryTargets.{key}.{field}"},
                )
        if key == "Http":
            has_name, has_value = (
                bool(target.get("CustomAuthHeaderName")),
                bool(target.get("CustomAuthHeaderValue")),
            )
            if has_value and not has_name:
                fail(400, "Integration.CustomAuthHeaderNameRequired", "CustomAuthHeaderName is required with a value")
            if has_name and not has_value:
                fail(
                    400,
                    "Integration.CustomAuthHeaderValueRequired",
                    "CustomAuthHeaderValue is required with a name",
                )
    new_id = body.get("ID") or config_id or state.ids.next("deliveryconfig")
    require_id(new_id)
    return {**body, "ID": new_id, "Name": name, "Enabled": body.get("Enabled", True), "DeliveryTargets": targets}


def dc_list(state: State, request: FakeRequest) -> FakeResponse:
    state.authorize(request, DELIVERY)
    body = list_page(  # filtered as read: a write-only secret is not a filter oracle either
        [_public_config(config) for config in state.delivery_configs.values()],
        request,
        searchable=("ID", "Name"),
        sortable=("ID", "Name"),
        filterable=("ID", "Name", "Enabled", "DeliveryTargets"),
    )
    return FakeResponse(200, body)


def dc_get(state: State, request: FakeRequest, config_id: str) -> FakeResponse:
    state.authorize(request, DELIVERY)
    config = found(state.delivery_configs, "DeliveryConfig", config_id)
    return FakeResponse(200, _public_config(config))


def dc_create(state: State, request: FakeRequest) -> FakeResponse:
    state.authorize(request, DELIVERY)
    body = request.json()
    _refuse_taken_id(body, state.delivery_configs, "DeliveryConfig")
    config = _dc_validate(state, body, config_id=None)
    state.delivery_configs[config["ID"]] = config
    return FakeResponse(201, _public_config(config))


def dc_save(state: State, request: FakeRequest, config_id: str) -> FakeResponse:
    state.authorize(request, DELIVERY)
    config = _dc_validate(state, request.json(), config_id=config_id)
    return _store_config(state, config, config_id)


def _store_config(state: State, config: JSON, old_id: str) -> FakeResponse:
    """Store a saved or patched delivery config; a new ``ID`` moves its tracking events along (200)."""
    if config["ID"] != old_id:
        if config["ID"] in state.delivery_configs:
            _id_exists("DeliveryConfig", config["ID"])
        if state.delivery_configs.pop(old_id, None) is not None:
            for event in state.tracking_events.values():
                if event["DeliveryConfigID"] == old_id:
                    event["DeliveryConfigID"] = config["ID"]
    state.delivery_configs[config["ID"]] = config
    return FakeResponse(200, _public_config(config))


def dc_patch(state: State, request: FakeRequest, config_id: str) -> FakeResponse:
    state.authorize(request, DELIVERY)
    existing = found(state.delivery_configs, "DeliveryConfig", config_id)
    body = _patch_body(request.json(), "DeliveryConfig")
    config = _dc_validate(state, _deep_merge(existing, body), config_id=config_id)
    return _store_config(state, config, config_id)


def dc_delete(state: State, request: FakeRequest, config_id: str) -> FakeResponse:
    state.authorize(request, DELIVERY)
    if config_id not in state.delivery_configs:
        not_found("DeliveryConfig", config_id)
    users = [e["ID"] for e in state.tracking_events.values() if e["DeliveryConfigID"] == config_id]
    if users:
        fail(
            400,
            "DeliveryConfig.CannotDeleteConfigInUse",
            f"Delivery config {config_id} is used by {', '.join(sorted(users))}",
            {"TrackingEventIDs": users},
        )
    del state.delivery_configs[config_id]
    return FakeResponse(204)


def _deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> JSON:
    merged = copy.deepcopy(dict(base))
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


# ------------------------------------------------------------------------------------------ API clients

#: The writable ApiClient fields the fake checks, with their type and range (OrderCloud's, reference §3).
_INT_RANGES = {
    "AccessTokenDuration": (10, 600),
    "RefreshTokenDuration": (0, 524160),
    "AnonymousTokenDuration": (1, 2**31 - 1),
}
_BOOLS = ("Active", "IsAnonBuyer", "AllowAnyBuyer", "AllowAnySupplier", "AllowSeller")
_TEXTS = ("AppName", "DefaultContextUserName", "ClientSecret")


def _api_client_validate(body: Mapping[str, Any]) -> None:
    for field, (low, high) in _INT_RANGES.items():
        value = body.get(field)
        if field in body and (not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high):
            fail(400, "ValidationFailure", f"{field} must be a whole number from {low} to {high}", {"Property": field})
    for field in _BOOLS:
        if field in body and not isinstance(body[field], bool):
            fail(400, "ValidationFailure", f"{field} must be true or false", {"Property": field})
    for field in _TEXTS:
        if body.get(field) is not None and not isinstance(body[field], str):
            fail(400, "ValidationFailure", f"{field} must be text", {"Property": field})
    if "AppName" in body and not body["AppName"]:
        fail(400, "ValidationFailure", "AppName is required", {"Property": "AppName"})
    if "xp" in body and body["xp"] is not None and not isinstance(body["xp"], dict):
        fail(400, "ValidationFailure", "xp must be an object", {"Property": "xp"})


def api_client_list(state: State, request: FakeRequest) -> FakeResponse:
    state.authorize(request, READ_API_CLIENTS)
    body = list_page(
        state.api_clients.values(),
        request,
        searchable=("ID", "AppName", "DefaultContextUserName"),
        sortable=("ID", "AppName"),
        filterable=API_CLIENT_FIELDS,
    )
    return FakeResponse(200, body)


def api_client_get(state: State, request: FakeRequest, client_id: str) -> FakeResponse:
    state.authorize(request, READ_API_CLIENTS)
    client = found(state.api_clients, "ApiClient", client_id)
    return FakeResponse(200, client)


def api_client_patch(state: State, request: FakeRequest, client_id: str) -> FakeResponse:
    state.authorize(request, WRITE_API_CLIENTS)
    client = found(state.api_clients, "ApiClient", client_id)
    body = _patch_body(request.json(), "ApiClient")
    _api_client_validate(body)
    updated = {**client, **{k: v for k, v in body.items() if k not in ("ID", "ClientSecret")}}
    if updated.get("IsAnonBuyer"):
        template = state.user_by_name(updated.get("DefaultContextUserName") or "")
        if template is None or state.user_types[template["ID"]] != "buyer":
            fail(400, "ApiClient.RequiredNotAnonBuyer", "IsAnonBuyer needs a buyer user as DefaultContextUserName.")
    if "ClientSecret" in body:
        if body["ClientSecret"]:
            state.client_secrets[client_id] = body["ClientSecret"]
        else:
            state.client_secrets.pop(client_id, None)
    state.api_clients[client_id] = updated
    return FakeResponse(200, updated)
