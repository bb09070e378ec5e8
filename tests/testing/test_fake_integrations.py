"""FakeOrderCloud's tracking events and delivery configs: CRUD, OrderCloud's rules, list semantics, 501s."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from ordercloud_tracking import (
    BadRequestError,
    ConflictError,
    DeliveryConfig,
    InternalServerError,
    NotFoundError,
    OrderCloud,
    TrackingEvent,
    TrackingEventType,
)
from ordercloud_tracking.testing import ADMIN_CLIENT_ID, STOREFRONT_CLIENT_ID, FakeOrderCloud, SeedApiClient
from tests.testing.support import (
    EVENT_TYPES,
    SECRET,
    admin_token,
    delivery_targets,
    error_code,
    raw,
)

TE_PATH = "/v1/integrations/trackingEvents"
DC_PATH = "/v1/integrations/deliveryconfig"
ALL_SECRETS = {
    "Http": {
        "Endpoint": "https://hooks.example.test/oc",
        "Secret": SECRET,
        "CustomAuthHeaderName": "X-Key",
        "CustomAuthHeaderValue": "v",
    },
    "DiscoverEvent": {"ClientID": "c", "ApiKey": "discover-key", "ServiceEndpoint": "https://discover.example.test"},
    "Kafka": {"BootstrapServers": "k:9092", "SaslUsername": "u", "SaslPassword": "kafka-password", "Topic": "t"},
    "EventHub": {"EventHubName": "hub", "ConnectionString": "Endpoint=sb://hub"},
    "AzureBlob": {"ConnectionString": "blob-conn"},
    "AzureTable": {"ConnectionString": "table-conn"},
    "CosmosDb": {"ConnectionString": "cosmos-conn"},
    "Mandrill": {"ApiKey": "mandrill-key"},
    "MessageSender": {"Endpoint": "https://ms.example.test", "Secret": "ms-secret"},
    "ContentHub": {"ApiKey": "ch-key", "Endpoint": "https://ch.example.test", "TargetSchemaName": "s"},
    "SearchIngestion": {
        "Domain": "d",
        "Source": "s",
        "Endpoint": "https://si.example.test",
        "Entity": "e",
        "ApiKey": "si-key",
        "Content": {
            "Locales": ["en-US"],
            "Http": {"Endpoint": "https://x.test", "CustomAuthHeaderName": "N", "CustomAuthHeaderValue": "si-header"},
        },
    },
}
SECRET_VALUES = {
    SECRET,
    "v",
    "discover-key",
    "kafka-password",
    "Endpoint=sb://hub",
    "blob-conn",
    "table-conn",
    "cosmos-conn",
    "mandrill-key",
    "ms-secret",
    "ch-key",
    "si-key",
    "si-header",
}


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def add_clients(fake: FakeOrderCloud, *ids: str) -> None:
    for client_id in ids:
        fake.add_api_client(SeedApiClient(client_id))


def dc_body(config_id: str = "dc-1", **extra: Any) -> dict[str, Any]:
    return {"ID": config_id, "Name": f"Config {config_id}", "DeliveryTargets": delivery_targets(), **extra}


def te_body(
    event_id: str = "te-1",
    *,
    event_type: str = "OrderSubmitted",
    client_id: str = STOREFRONT_CLIENT_ID,
    config_id: str = "dc-1",
) -> dict[str, Any]:
    return {
        "ID": event_id,
        "EventType": event_type,
        "ClientID": client_id,
        "Name": f"Event {event_id}",
        "DeliveryConfigID": config_id,
    }


# ------------------------------------------------------------------------------------- delivery configs


def test_delivery_config_crud(admin: OrderCloud, fake: FakeOrderCloud) -> None:
    created = admin.delivery_configs.create(dc_body())
    assert (created.id, created.name, created.enabled) == ("dc-1", "Config dc-1", True)
    assert fake.requests_to("POST", DC_PATH)[-1].status == 201
    assert created.delivery_targets.http is not None
    assert created.delivery_targets.http.endpoint == "https://hooks.example.test/oc"
    assert admin.delivery_configs.get("dc-1").name == "Config dc-1"
    assert [config.id for config in admin.delivery_configs.list()] == ["dc-1"]

    saved = admin.delivery_configs.save("dc-1", {**dc_body(), "Name": "Renamed", "Enabled": False})
    assert (saved.name, saved.enabled) == ("Renamed", False)
    patched = admin.delivery_configs.patch("dc-1", {"Enabled": True})
    assert (patched.name, patched.enabled) == ("Renamed", True)

    created_by_put = admin.delivery_configs.save("dc-2", dc_body("dc-2"))
    assert created_by_put.id == "dc-2"
    generated = admin.delivery_configs.create({"Name": "No ID", "DeliveryTargets": delivery_targets(["SendEvent"])})
    assert generated.id

    admin.delivery_configs.delete("dc-1")
    assert fake.requests_to("DELETE", f"{DC_PATH}/dc-1")[-1].status == 204
    with pytest.raises(NotFoundError) as caught:
        admin.delivery_configs.get("dc-1")
    assert caught.value.errors[0].data == {"ObjectType": "DeliveryConfig", "ObjectID": "dc-1"}
    with pytest.raises(NotFoundError):
        admin.delivery_configs.delete("dc-1")
    with pytest.raises(NotFoundError):
        admin.delivery_configs.patch("dc-1", {"Name": "x"})


def test_patch_merges_targets_and_keeps_write_only_secrets(admin: OrderCloud, fake: FakeOrderCloud) -> None:
    admin.delivery_configs.create(dc_body())
    patched = admin.delivery_configs.patch(
        "dc-1", {"DeliveryTargets": {"Http": {"Endpoint": "https://new.example.test"}}}
    )
    assert patched.delivery_targets.http is not None
    assert patched.delivery_targets.http.endpoint == "https://new.example.test"
    assert patched.delivery_targets.send_event is not None  # untouched targets stay
    stored = fake.api.delivery_configs["dc-1"]["DeliveryTargets"]["Http"]
    assert stored["Secret"] == SECRET  # still signing deliveries


def test_save_replaces_so_write_only_fields_must_be_sent_again(fake: FakeOrderCloud) -> None:
    token = admin_token(fake)
    assert raw(fake, "POST", DC_PATH, token=token, json_body=dc_body()).status_code == 201
    response = raw(
        fake,
        "PUT",
        f"{DC_PATH}/dc-1",
        token=token,
        json_body={"Name": "n", "DeliveryTargets": {"Http": {"Endpoint": "https://x.test"}}},
    )
    assert (response.status_code, error_code(response)) == (400, "ValidationFailure")
    assert response.json()["Errors"][0]["Data"] == {"Property": "DeliveryTargets.Http.Secret"}


def test_write_only_secrets_are_never_returned(fake: FakeOrderCloud) -> None:
    token = admin_token(fake)
    body = {"ID": "dc-secrets", "Name": "Every target", "DeliveryTargets": ALL_SECRETS}
    answers = [
        raw(fake, "POST", DC_PATH, token=token, json_body=body),
        raw(fake, "GET", f"{DC_PATH}/dc-secrets", token=token),
        raw(fake, "GET", DC_PATH, token=token),
        raw(fake, "PUT", f"{DC_PATH}/dc-secrets", token=token, json_body=body),
        raw(fake, "PATCH", f"{DC_PATH}/dc-secrets", token=token, json_body={"Name": "Patched"}),
    ]
    for response in answers:
        assert response.status_code in (200, 201), response.text
        leaked = set(strings_in(response.json())) & SECRET_VALUES
        assert not leaked, f"{response.request.method} returned {leaked}"
    returned = answers[1].json()["DeliveryTargets"]
    assert returned["Http"]["Secret"] is None
    assert returned["Http"]["CustomAuthHeaderName"] == "X-Key"  # not write-only
    assert returned["Http"]["CustomAuthHeaderValue"] is None
    assert returned["SearchIngestion"]["Content"]["Http"]["CustomAuthHeaderValue"] is None


def test_write_only_secrets_are_not_a_filter_oracle(fake: FakeOrderCloud) -> None:
    token = admin_token(fake)
    raw(fake, "POST", DC_PATH, token=token, json_body=dc_body())
    response = raw(fake, "GET", DC_PATH, token=token, params=[("DeliveryTargets.Http.Secret", "example*")])
    assert response.json()["Meta"]["TotalCount"] == 0
    by_endpoint = raw(fake, "GET", DC_PATH, token=token, params=[("DeliveryTargets.Http.Endpoint", "*hooks*")])
    assert by_endpoint.json()["Meta"]["TotalCount"] == 1


def test_sdk_models_hide_returned_secrets(admin: OrderCloud) -> None:
    created = admin.delivery_configs.create(dc_body())
    http = created.delivery_targets.http
    assert http is not None
    assert http.secret is None
    assert SECRET not in repr(created)


def test_existing_delivery_config_id_is_a_409(admin: OrderCloud) -> None:
    admin.delivery_configs.create(dc_body())
    with pytest.raises(ConflictError) as caught:
        admin.delivery_configs.create(dc_body())
    assert caught.value.status_code == 409
    assert caught.value.errors[0].data == {"ObjectType": "DeliveryConfig", "ObjectID": "dc-1"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"DeliveryTargets": {}}, "ValidationFailure"),  # no Name
        ({"Name": "x" * 129, "DeliveryTargets": {}}, "ValidationFailure"),
        ({"Name": "n"}, "ValidationFailure"),  # no DeliveryTargets
        ({"Name": "n", "DeliveryTargets": {"Http": {"Endpoint": "https://x.test"}}}, "ValidationFailure"),
        (
            {"Name": "n", "DeliveryTargets": {"Http": {"Endpoint": "https://x.test", "Secret": "s" * 51}}},
            "ValidationFailure",
        ),
        ({"Name": "n", "DeliveryTargets": {"SendEvent": {"ServiceEndpoint": "https://x.test"}}}, "ValidationFailure"),
        (
            {"Name": "n", "DeliveryTargets": {"DiscoverEvent": {"ClientID": "c", "ServiceEndpoint": "https://x.test"}}},
            "ValidationFailure",
        ),
        ({"ID": "bad id!", "Name": "n", "DeliveryTargets": {}}, "ValidationFailure"),
        (
            {
                "Name": "n",
                "DeliveryTargets": {
                    "Http": {"Endpoint": "https://x.test", "Secret": "s", "CustomAuthHeaderName": "X-Key"}
                },
            },
            "Integration.CustomAuthHeaderValueRequired",
        ),
        (
            {
                "Name": "n",
                "DeliveryTargets": {
                    "Http": {"Endpoint": "https://x.test", "Secret": "s", "CustomAuthHeaderValue": "v"}
                },
            },
            "Integration.CustomAuthHeaderNameRequired",
        ),
    ],
)
def test_delivery_config_validation(fake: FakeOrderCloud, body: dict[str, Any], code: str) -> None:
    response = raw(fake, "POST", DC_PATH, token=admin_token(fake), json_body=body)
    assert response.status_code == 400
    assert error_code(response) == code


def test_custom_header_pairing_on_patch(admin: OrderCloud, fake: FakeOrderCloud) -> None:
    admin.delivery_configs.create(dc_body())  # has a custom header pair
    response = raw(
        fake,
        "PATCH",
        f"{DC_PATH}/dc-1",
        token=admin_token(fake),
        json_body={"DeliveryTargets": {"Http": {"CustomAuthHeaderName": None}}},
    )
    assert error_code(response) == "Integration.CustomAuthHeaderNameRequired"


def test_a_config_in_use_cannot_be_deleted(admin: OrderCloud) -> None:
    admin.delivery_configs.create(dc_body())
    admin.tracking_events.create(te_body())
    with pytest.raises(BadRequestError) as caught:
        admin.delivery_configs.delete("dc-1")
    assert caught.value.error_code == "DeliveryConfig.CannotDeleteConfigInUse"
    admin.tracking_events.delete("te-1")
    admin.delivery_configs.delete("dc-1")


def test_renaming_a_config_moves_its_tracking_events(admin: OrderCloud) -> None:
    admin.delivery_configs.create(dc_body())
    admin.tracking_events.create(te_body())
    admin.delivery_configs.patch("dc-1", {"ID": "dc-renamed"})
    assert admin.tracking_events.get("te-1").delivery_config_id == "dc-renamed"


# ------------------------------------------------------------------------------------- tracking events


def test_tracking_event_crud(admin: OrderCloud, fake: FakeOrderCloud) -> None:
    admin.delivery_configs.create(dc_body())
    admin.delivery_configs.create(dc_body("dc-2"))
    created = admin.tracking_events.create(
        TrackingEvent(
            id="te-1",
            event_type=TrackingEventType.ORDER_SUBMITTED,
            client_id=STOREFRONT_CLIENT_ID,
            name="Orders",
            config_data={"team": "web"},
            delivery_config_id="dc-1",
        )
    )
    assert fake.requests_to("POST", TE_PATH)[-1].status == 201
    assert (created.id, created.event_type, created.config_data) == ("te-1", "OrderSubmitted", {"team": "web"})
    assert admin.tracking_events.get("te-1") == created
    assert [event.id for event in admin.tracking_events.list()] == ["te-1"]

    saved = admin.tracking_events.save("te-1", {**te_body(), "Name": "Saved", "DeliveryConfigID": "dc-2"})
    assert (saved.name, saved.delivery_config_id, saved.config_data) == ("Saved", "dc-2", None)
    patched = admin.tracking_events.patch("te-1", {"Name": "Patched", "ConfigData": "a string is kept"})
    assert (patched.name, patched.delivery_config_id, patched.config_data) == ("Patched", "dc-2", "a string is kept")

    generated = admin.tracking_events.create({**te_body(event_type="LineItemAdded"), "ID": None})
    assert generated.id
    assert generated.id != "te-1"
    by_put = admin.tracking_events.save("te-put", te_body("te-put", event_type="UserLoggedIn"))
    assert by_put.id == "te-put"

    admin.tracking_events.delete("te-1")
    assert fake.requests_to("DELETE", f"{TE_PATH}/te-1")[-1].status == 204
    with pytest.raises(NotFoundError) as caught:
        admin.tracking_events.get("te-1")
    assert str(caught.value).startswith("NotFound") or "TrackingEvent te-1 not found" in str(caught.value)
    with pytest.raises(NotFoundError):
        admin.tracking_events.delete("te-1")
    with pytest.raises(NotFoundError):
        admin.tracking_events.patch("te-1", {"Name": "x"})


def test_one_event_per_type_per_client(admin: OrderCloud) -> None:
    add_clients_via_admin = admin  # the storefront and the admin client both exist in the seed
    add_clients_via_admin.delivery_configs.create(dc_body())
    admin.tracking_events.create(te_body("te-1"))
    with pytest.raises(BadRequestError) as caught:
        admin.tracking_events.create(te_body("te-2"))
    assert caught.value.error_code == "TrackingEvent.CannotCreateMultipleEventsOfSameType"
    with pytest.raises(BadRequestError):
        admin.tracking_events.save("te-2", te_body("te-2"))
    admin.tracking_events.create(te_body("te-3", client_id=ADMIN_CLIENT_ID))  # another client: fine
    admin.tracking_events.create(te_body("te-4", event_type="LineItemAdded"))  # another type: fine
    admin.tracking_events.save("te-1", {**te_body("te-1"), "Name": "Same event, saved again"})  # itself: fine


@pytest.mark.parametrize(
    ("change", "field"),
    [({"EventType": "LineItemAdded"}, "EventType"), ({"ClientID": ADMIN_CLIENT_ID}, "ClientID")],
)
def test_client_id_and_event_type_are_immutable(admin: OrderCloud, change: dict[str, str], field: str) -> None:
    admin.delivery_configs.create(dc_body())
    admin.tracking_events.create(te_body())
    with pytest.raises(BadRequestError) as patched:
        admin.tracking_events.patch("te-1", change)
    with pytest.raises(BadRequestError) as saved:
        admin.tracking_events.save("te-1", {**te_body(), **change})
    for caught in (patched, saved):
        assert caught.value.error_code == "TrackingEvent.CannotUpdateProperty"
        assert caught.value.errors[0].data == {"Property": field}
    assert admin.tracking_events.patch("te-1", {"EventType": "OrderSubmitted"}).name == "Event te-1"  # unchanged: fine


def test_client_id_and_delivery_config_id_must_exist(admin: OrderCloud) -> None:
    admin.delivery_configs.create(dc_body())
    with pytest.raises(BadRequestError) as client:
        admin.tracking_events.create(te_body(client_id="no-such-client"))
    with pytest.raises(BadRequestError) as config:
        admin.tracking_events.create(te_body(config_id="no-such-config"))
    assert client.value.error_code == "TrackingEvent.InvalidClientID"
    assert config.value.error_code == "TrackingEvent.InvalidDeliveryConfigID"
    admin.tracking_events.create(te_body())
    with pytest.raises(BadRequestError) as patched:
        admin.tracking_events.patch("te-1", {"DeliveryConfigID": "no-such-config"})
    assert patched.value.error_code == "TrackingEvent.InvalidDeliveryConfigID"


def test_existing_tracking_event_id_is_a_409(admin: OrderCloud) -> None:
    admin.delivery_configs.create(dc_body())
    admin.tracking_events.create(te_body())
    with pytest.raises(ConflictError) as caught:
        admin.tracking_events.create(te_body(event_type="LineItemAdded"))
    assert caught.value.status_code == 409
    assert caught.value.errors[0].data == {"ObjectType": "TrackingEvent", "ObjectID": "te-1"}


@pytest.mark.parametrize(
    "body",
    [
        {"EventType": "OrderShipped", "ClientID": STOREFRONT_CLIENT_ID, "Name": "n", "DeliveryConfigID": "dc-1"},
        {"EventType": "OrderSubmitted", "ClientID": STOREFRONT_CLIENT_ID, "DeliveryConfigID": "dc-1"},
        {"EventType": "OrderSubmitted", "ClientID": STOREFRONT_CLIENT_ID, "Name": "n"},
        {"ClientID": STOREFRONT_CLIENT_ID, "Name": "n", "DeliveryConfigID": "dc-1"},
        {
            "ID": "x" * 101,
            "EventType": "OrderSubmitted",
            "ClientID": STOREFRONT_CLIENT_ID,
            "Name": "n",
            "DeliveryConfigID": "dc-1",
        },
    ],
    ids=["unknown-type", "no-name", "no-config", "no-type", "id-too-long"],
)
def test_tracking_event_validation(fake: FakeOrderCloud, body: dict[str, Any]) -> None:
    token = admin_token(fake)
    raw(fake, "POST", DC_PATH, token=token, json_body=dc_body())
    response = raw(fake, "POST", TE_PATH, token=token, json_body=body)
    assert (response.status_code, error_code(response)) == (400, "ValidationFailure")


# ------------------------------------------------------------------------------------------------ lists


@pytest.fixture
def twelve_events(admin: OrderCloud, fake: FakeOrderCloud) -> list[TrackingEvent]:
    """Four events for each of three clients (c1, c2, c3): IDs ``te-c{n}-{type}``."""
    add_clients(fake, "c1", "c2", "c3")
    admin.delivery_configs.create(dc_body())
    events = []
    for client_id in ("c3", "c1", "c2"):
        for event_type in EVENT_TYPES:
            body = te_body(f"te-{client_id}-{event_type}", event_type=event_type, client_id=client_id)
            if client_id == "c2":
                body["ConfigData"] = {"team": "web"}
            events.append(admin.tracking_events.create(body))
    return events


def ids(events: Any) -> list[str | None]:
    return [event.id for event in events]


def test_default_order_is_by_id(admin: OrderCloud, twelve_events: list[TrackingEvent]) -> None:
    assert ids(admin.tracking_events.list()) == sorted(ids(twelve_events))  # type: ignore[type-var]


def test_search_and_search_on(admin: OrderCloud, twelve_events: list[TrackingEvent]) -> None:
    submitted = admin.tracking_events.list(search="submitted")  # ID and EventType, case-insensitive
    assert {event.event_type for event in submitted} == {"OrderSubmitted"}
    assert len(submitted) == 3
    assert len(admin.tracking_events.list(search="c1")) == 4
    assert len(admin.tracking_events.list(search="LineItem", search_on=["EventType"])) == 6
    assert len(admin.tracking_events.list(search="c1", search_on="EventType")) == 0


def test_sort_by(admin: OrderCloud, twelve_events: list[TrackingEvent]) -> None:
    descending = ids(admin.tracking_events.list(sort_by="!ID"))
    assert descending == sorted(ids(twelve_events), reverse=True)  # type: ignore[type-var]
    by_type_then_id = admin.tracking_events.list(sort_by=["EventType", "!ID"], page_size=4)
    assert ids(by_type_then_id) == [
        "te-c3-LineItemAdded",
        "te-c2-LineItemAdded",
        "te-c1-LineItemAdded",
        "te-c3-LineItemUpdated",
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"EventType": "OrderSubmitted"}, {"te-c1-OrderSubmitted", "te-c2-OrderSubmitted", "te-c3-OrderSubmitted"}),
        (
            {"EventType": "OrderSubmitted|UserLoggedIn", "ClientID": "c1"},
            {"te-c1-OrderSubmitted", "te-c1-UserLoggedIn"},
        ),
        ({"ID": "te-c1-*"}, {f"te-c1-{t}" for t in EVENT_TYPES}),
        ({"ID": "*Updated"}, {"te-c1-LineItemUpdated", "te-c2-LineItemUpdated", "te-c3-LineItemUpdated"}),
        ({"ClientID": "!c1", "EventType": "UserLoggedIn"}, {"te-c2-UserLoggedIn", "te-c3-UserLoggedIn"}),
        ({"ID": ["!te-c1-*", "!te-c2-*"], "EventType": "!Line*"}, {"te-c3-OrderSubmitted", "te-c3-UserLoggedIn"}),
        ({"ID": ">te-c3-LineItemUpdated"}, {"te-c3-OrderSubmitted", "te-c3-UserLoggedIn"}),
        ({"ID": "<te-c1-LineItemUpdated"}, {"te-c1-LineItemAdded"}),
        (
            {"ID": ["!<te-c3-LineItemUpdated"], "ClientID": "c3"},
            {"te-c3-LineItemUpdated", "te-c3-OrderSubmitted", "te-c3-UserLoggedIn"},
        ),
        ({"ConfigData": {"team": "web"}, "EventType": "OrderSubmitted"}, {"te-c2-OrderSubmitted"}),
        (
            {"ConfigData": {"team": "!*"}, "ClientID": "c1|c3", "EventType": "UserLoggedIn"},
            {"te-c1-UserLoggedIn", "te-c3-UserLoggedIn"},
        ),
        ({"EventType": "orderSUBMITTED", "ClientID": "C1"}, {"te-c1-OrderSubmitted"}),
    ],
)
def test_filters(
    admin: OrderCloud, twelve_events: list[TrackingEvent], filters: dict[str, Any], expected: set[str]
) -> None:
    assert set(ids(admin.tracking_events.list(filters=filters, page_size=100))) == expected


def test_paging_meta(admin: OrderCloud, twelve_events: list[TrackingEvent]) -> None:
    all_ids = sorted(ids(twelve_events))  # type: ignore[type-var]
    first = admin.tracking_events.list(page_size=5)
    assert (first.meta.page, first.meta.page_size, first.meta.total_count, first.meta.total_pages) == (1, 5, 12, 3)
    assert first.meta.item_range == [1, 5]
    assert first.has_next_page
    second = admin.tracking_events.list(page=2, page_size=5)
    assert second.meta.item_range == [6, 10]
    assert ids(second) == all_ids[5:10]
    last = admin.tracking_events.list(page=3, page_size=5)
    assert (last.meta.item_range, ids(last), last.has_next_page) == ([11, 12], all_ids[10:], False)
    beyond = admin.tracking_events.list(page=4, page_size=5)
    assert (len(beyond), beyond.meta.total_count, beyond.meta.page) == (0, 12, 4)
    default = admin.tracking_events.list()
    assert (default.meta.page, default.meta.page_size, default.meta.total_pages) == (1, 20, 1)
    empty = admin.tracking_events.list(filters={"ClientID": "nobody"})
    assert (empty.meta.total_count, empty.meta.total_pages, empty.meta.item_range) == (0, 0, [0, 0])


def test_page_size_over_100_is_rejected(fake: FakeOrderCloud, admin: OrderCloud) -> None:
    with pytest.raises(ValueError, match="page_size"):
        admin.tracking_events.list(page_size=101)  # the SDK refuses it before sending
    token = admin_token(fake)
    for path in (TE_PATH, DC_PATH):
        response = raw(fake, "GET", path, token=token, params=[("pageSize", "101")])
        assert response.status_code == 400
        assert error_code(response) == "List.InvalidPageSize"
    for params in ([("pageSize", "0")], [("page", "0")], [("page", "two")]):
        assert raw(fake, "GET", TE_PATH, token=token, params=params).status_code == 400
    assert raw(fake, "GET", TE_PATH, token=token, params=[("pageSize", "100")]).status_code == 200


def test_invalid_list_properties(admin: OrderCloud) -> None:
    with pytest.raises(BadRequestError) as sort:
        admin.tracking_events.list(sort_by="Name")  # only ID and EventType are sortable
    with pytest.raises(BadRequestError) as search:
        admin.tracking_events.list(search="x", search_on="Name")  # only ID and EventType are searchable
    with pytest.raises(BadRequestError) as filtered:
        admin.tracking_events.list(filters={"Colour": "red"})
    assert sort.value.error_code == "List.InvalidSortProperty"
    assert search.value.error_code == "List.InvalidSearchProperty"
    assert filtered.value.error_code == "List.InvalidProperty"
    with pytest.raises(BadRequestError) as dc_sort:
        admin.delivery_configs.list(sort_by="Enabled")
    assert dc_sort.value.error_code == "List.InvalidSortProperty"


def test_delivery_config_list_semantics(admin: OrderCloud) -> None:
    for config_id, name in (("dc-b", "Send only"), ("dc-a", "Zeta"), ("dc-c", "Alpha send")):
        admin.delivery_configs.create(dc_body(config_id) | {"Name": name})
    assert ids(admin.delivery_configs.list(sort_by="Name")) == ["dc-c", "dc-b", "dc-a"]
    assert ids(admin.delivery_configs.list(sort_by="!ID")) == ["dc-c", "dc-b", "dc-a"]
    assert set(ids(admin.delivery_configs.list(search="send", search_on="Name"))) == {"dc-b", "dc-c"}
    assert ids(admin.delivery_configs.list(filters={"Enabled": True, "Name": "Z*"})) == ["dc-a"]


# ----------------------------------------------------------------------------------------- iter_all


def seed_events(fake: FakeOrderCloud, event_ids: list[str], config_id: str = "dc-bulk") -> None:
    """Store tracking events directly (four per API client, as OrderCloud allows), in the order given."""
    with fake.api.lock:
        fake.api.delivery_configs[config_id] = {
            "ID": config_id,
            "Name": "Bulk",
            "Enabled": True,
            "DeliveryTargets": delivery_targets(["SendEvent"]),
        }
        for index, event_id in enumerate(event_ids):
            client_id = f"bulk-client-{index // 4}"
            if client_id not in fake.api.api_clients:
                fake.api.add_api_client(SeedApiClient(client_id))
            fake.api.tracking_events[event_id] = {
                "ID": event_id,
                "EventType": EVENT_TYPES[index % 4],
                "ClientID": client_id,
                "Name": f"Bulk {event_id}",
                "ConfigData": None,
                "DeliveryConfigID": config_id,
            }


def list_calls(fake: FakeOrderCloud) -> list[dict[str, list[str]]]:
    calls = []
    for entry in fake.requests_to("GET", TE_PATH):
        params: dict[str, list[str]] = {}
        for key, value in entry.query:
            params.setdefault(key, []).append(value)
        calls.append(params)
    return calls


@pytest.mark.parametrize("sort_by", [None, "!ID"])
def test_iter_all_past_page_30_switches_to_last_id(
    fake: FakeOrderCloud, admin: OrderCloud, sort_by: str | None
) -> None:
    event_ids = [f"te-{n:05d}" for n in range(3100)]
    shuffled = event_ids[:]
    random.Random(5).shuffle(shuffled)
    seed_events(fake, shuffled)
    seen = [event.id for event in admin.tracking_events.iter_all(sort_by=sort_by)]
    assert seen == sorted(event_ids, reverse=sort_by == "!ID")  # every item once, in ID order
    calls = list_calls(fake)
    pages = [int(call["page"][0]) for call in calls if "ID" not in call]
    assert pages == list(range(1, 31))
    last_id_calls = [call for call in calls if "ID" in call]
    assert len(last_id_calls) == 2  # one for the last 100, one that comes back empty
    operator = "<" if sort_by == "!ID" else ">"
    assert last_id_calls[0]["ID"] == [f"{operator}{seen[2999]}"]
    assert all(call["page"] == ["1"] and call["pageSize"] == ["100"] for call in last_id_calls)
    assert all(entry.status == 200 for entry in fake.requests_to("GET", TE_PATH))


def test_iter_all_with_numeric_and_mixed_case_ids(fake: FakeOrderCloud, admin: OrderCloud) -> None:
    # Sorting and the ``>`` filter must agree on one order, whatever the IDs look like, or LastID paging
    # skips or repeats items: "9" vs "10", "B" vs "a".
    event_ids = [str(n) for n in range(1, 25)] + [
        f"{letter}-{n}" for n, letter in enumerate("aBcDeFgHiJkLmNoPqRsTuVwX")
    ]
    random.Random(7).shuffle(event_ids)
    seed_events(fake, event_ids)
    canonical = [event.id for event in admin.tracking_events.list(page_size=100)]
    walked = [event.id for event in admin.tracking_events.iter_all(page_size=1)]
    assert len(fake.requests_to("GET", TE_PATH)) > 31  # it did switch to LastID
    assert walked == canonical
    assert sorted(walked) == sorted(event_ids)  # type: ignore[type-var]


async def test_async_iter_all(fake: FakeOrderCloud) -> None:
    seed_events(fake, [f"te-{n:03d}" for n in range(250)])
    async with fake.async_client() as client:
        seen = [event.id async for event in client.tracking_events.iter_all(page_size=100)]
    assert seen == [f"te-{n:03d}" for n in range(250)]


# --------------------------------------------------------------------------------------- unimplemented


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/products"),
        ("DELETE", "/v1/cart"),  # a real OrderCloud route the fake does not implement: not a 405
        ("POST", "/v1/apiclients"),
        ("GET", "/v1/integrations/webhooks"),
        ("POST", "/v1/cart/validate"),
    ],
)
def test_unimplemented_routes_are_501_naming_the_route(fake: FakeOrderCloud, method: str, path: str) -> None:
    response = raw(fake, method, path, token=admin_token(fake))
    assert response.status_code == 501
    error = response.json()["Errors"][0]
    assert error["ErrorCode"] == "NotImplemented"
    assert f"{method} {path}" in error["Message"]
    assert error["Data"] == {"Method": method, "Path": path}


def test_unimplemented_route_through_the_sdk(fake: FakeOrderCloud, admin: OrderCloud) -> None:
    with pytest.raises(InternalServerError) as caught:
        admin.api_clients.create({"AppName": "New", "AccessTokenDuration": 600})
    assert caught.value.status_code == 501
    assert "POST /v1/apiclients" in str(caught.value)
    assert len(fake.requests_to("POST", "/v1/apiclients")) == 1  # a POST is not retried after a 5xx


def test_api_clients_get_list_and_patch(admin: OrderCloud) -> None:
    assert {client.id for client in admin.api_clients.list()} == {ADMIN_CLIENT_ID, STOREFRONT_CLIENT_ID}
    storefront = admin.api_clients.get(STOREFRONT_CLIENT_ID)
    assert storefront.is_anon_buyer is True
    patched = admin.api_clients.patch(STOREFRONT_CLIENT_ID, {"AppName": "Renamed"})
    assert patched.app_name == "Renamed"
    with pytest.raises(BadRequestError) as caught:
        admin.api_clients.patch(ADMIN_CLIENT_ID, {"IsAnonBuyer": True})  # its context user is an admin
    assert caught.value.error_code == "ApiClient.RequiredNotAnonBuyer"


def test_delivery_config_model_round_trip(admin: OrderCloud) -> None:
    config = DeliveryConfig.model_validate(dc_body("dc-model"))
    created = admin.delivery_configs.create(config)
    assert created.id == "dc-model"
    assert created.delivery_targets.send_event is not None
