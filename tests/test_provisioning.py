"""``ensure_tracking`` and ``doctor`` against FakeOrderCloud, with the sync and the async client.

The journal (``fake.requests``) is the witness for "writes nothing"; the fake's stored state (which
keeps the write-only secrets) is the witness for what was really written.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from typing import Any, Literal, TypeVar

import httpx
import pytest

from ordercloud_tracking import (
    APIConnectionError,
    AsyncOrderCloud,
    ClientCredentials,
    InternalServerError,
    OrderCloud,
    TrackingEventType,
)
from ordercloud_tracking.provisioning import (
    ALL_EVENTS,
    Action,
    Check,
    FieldChange,
    Plan,
    Report,
    doctor,
    ensure_tracking,
    managed_event_id,
    probe_kafka,
)
from ordercloud_tracking.testing import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    STOREFRONT_CLIENT_ID,
    FakeOrderCloud,
    JournalEntry,
    SeedApiClient,
    SeedUser,
)

T = TypeVar("T")
Client = OrderCloud | AsyncOrderCloud

MARKER = "OrderCloudTrackingSDK"
CONFIG_ID = f"dc-{STOREFRONT_CLIENT_ID}"
ENDPOINT = "https://storefront.example/oc/events"
OLD_SECRET = "old-http-secret-6a1f0c"
NEW_SECRET = "new-http-secret-9b7e2d"
SEND_SITE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
WRITE_METHODS = frozenset({"PUT", "POST", "PATCH", "DELETE"})
EVENT_IDS = [managed_event_id(STOREFRONT_CLIENT_ID, kind) for kind in ALL_EVENTS]


async def resolve(value: T | Awaitable[T]) -> T:
    """The result of a sync call, or of awaiting an async one: one test body drives both clients."""
    if inspect.isawaitable(value):
        return await value
    return value


def http_config(
    secret: str = OLD_SECRET, *, endpoint: str = ENDPOINT, name: str = "Storefront receiver", **targets: Any
) -> dict[str, Any]:
    return {
        "Name": name,
        "DeliveryTargets": {"Http": {"Endpoint": endpoint, "Secret": secret}, **targets},
    }


def send_target(site_id: str = SEND_SITE_ID) -> dict[str, Any]:
    return {"SiteID": site_id, "ServiceEndpoint": "https://t.stat-track.com"}


def writes(fake: FakeOrderCloud, since: int = 0) -> list[JournalEntry]:
    """Requests after ``since`` that could change state (token requests excluded)."""
    return [e for e in fake.requests[since:] if e.method in WRITE_METHODS and not e.path.startswith("/oauth/")]


def kinds(plan: Plan) -> list[tuple[str, str, str]]:
    return [(a.kind, a.resource, a.id) for a in plan.actions]


def action(plan: Plan, object_id: str) -> Action:
    return next(a for a in plan.actions if a.id == object_id)


def stored_events(fake: FakeOrderCloud, client_id: str = STOREFRONT_CLIENT_ID) -> dict[str, dict[str, Any]]:
    """The fake's tracking events of ``client_id``, by EventType."""
    return {e["EventType"]: e for e in fake.api.tracking_events.values() if e["ClientID"] == client_id}


def stored_secret(fake: FakeOrderCloud, config_id: str = CONFIG_ID) -> Any:
    return fake.api.delivery_configs[config_id]["DeliveryTargets"]["Http"]["Secret"]


def all_unchanged(plan: Plan) -> bool:
    return all(a.kind == "unchanged" for a in plan.actions) and not plan.changed


def every_rendering(plan: Plan) -> str:
    """Everything a user could print or log about a plan."""
    parts = [str(plan), repr(plan), plan.summary(), json.dumps(plan.to_dict())]
    for act in plan.actions:
        parts += [str(act), repr(act)]
        parts += [text for change in act.changes for text in (str(change), repr(change))]
    return "\n".join(parts)


@pytest.fixture
def fake() -> Iterator[FakeOrderCloud]:
    made = FakeOrderCloud()
    yield made
    made.close()


@pytest.fixture(params=["sync", "async"])
async def client(request: pytest.FixtureRequest, fake: FakeOrderCloud) -> AsyncIterator[Client]:
    if request.param == "sync":
        sync_client = fake.client()
        yield sync_client
        sync_client.close()
    else:
        async_client = fake.async_client()
        yield async_client
        await async_client.close()


async def ensure(
    client: Client,
    delivery_config: dict[str, Any] | None = None,
    *,
    client_id: str = STOREFRONT_CLIENT_ID,
    **options: Any,
) -> Plan:
    return await resolve(
        ensure_tracking(
            client,
            client_id=client_id,
            delivery_config=delivery_config if delivery_config is not None else http_config(),
            **options,
        )
    )


async def diagnose(client: Client, client_id: str = STOREFRONT_CLIENT_ID) -> Report:
    return await resolve(doctor(client, client_id=client_id))


# ------------------------------------------------------------------------------------------ ensure_tracking


async def test_fresh_setup_creates_the_config_and_four_events_with_deterministic_ids(
    client: Client, fake: FakeOrderCloud
) -> None:
    plan = await ensure(client)

    assert kinds(plan) == [
        ("create", "DeliveryConfig", CONFIG_ID),
        *(("create", "TrackingEvent", event_id) for event_id in EVENT_IDS),
    ]
    assert EVENT_IDS == [
        "te-storefront-UserLoggedIn",
        "te-storefront-LineItemAdded",
        "te-storefront-LineItemUpdated",
        "te-storefront-OrderSubmitted",
    ]
    assert plan.applied
    assert not plan.dry_run
    assert plan.changed
    assert plan.count("create") == 5
    assert str(plan).endswith("Applied: 5 create")
    # PUT save with the deterministic IDs, config first (the events reference it), never POST
    assert [(e.method, e.path) for e in writes(fake)] == [
        ("PUT", f"/v1/integrations/deliveryconfig/{CONFIG_ID}"),
        *(("PUT", f"/v1/integrations/trackingEvents/{event_id}") for event_id in EVENT_IDS),
    ]
    assert all(e.status == 200 for e in writes(fake))

    assert stored_secret(fake) == OLD_SECRET
    assert fake.api.delivery_configs[CONFIG_ID]["Name"] == "Storefront receiver"
    events = stored_events(fake)
    assert sorted(events) == sorted(kind.value for kind in ALL_EVENTS)
    for kind in ALL_EVENTS:
        event = events[kind.value]
        assert event["ID"] == managed_event_id(STOREFRONT_CLIENT_ID, kind)
        assert event["DeliveryConfigID"] == CONFIG_ID
        assert event["Name"] == f"Tracking: {kind.value}"
        fingerprint = event["ConfigData"][MARKER]["DeliveryConfigFingerprint"]
        assert fingerprint.startswith("pbkdf2-sha256$")
        assert OLD_SECRET not in json.dumps(event)


async def test_an_explicit_config_id_and_a_subset_of_events(client: Client, fake: FakeOrderCloud) -> None:
    config = {**http_config(), "ID": "dc-mine"}
    plan = await ensure(client, config, events=["OrderSubmitted", TrackingEventType.USER_LOGGED_IN, "OrderSubmitted"])

    assert kinds(plan) == [
        ("create", "DeliveryConfig", "dc-mine"),
        ("create", "TrackingEvent", "te-storefront-OrderSubmitted"),
        ("create", "TrackingEvent", "te-storefront-UserLoggedIn"),
    ]
    assert {k: e["DeliveryConfigID"] for k, e in stored_events(fake).items()} == {
        "OrderSubmitted": "dc-mine",
        "UserLoggedIn": "dc-mine",
    }


async def test_a_rerun_is_all_unchanged_and_writes_nothing(client: Client, fake: FakeOrderCloud) -> None:
    await ensure(client, http_config(SendEvent=send_target()))
    before = len(fake.requests)

    plan = await ensure(client, http_config(SendEvent=send_target()))

    assert all_unchanged(plan)
    assert kinds(plan) == [
        ("unchanged", "DeliveryConfig", CONFIG_ID),
        *(("unchanged", "TrackingEvent", event_id) for event_id in EVENT_IDS),
    ]
    assert writes(fake, before) == []
    assert {e.method for e in fake.requests[before:]} == {"GET"}
    assert str(plan).endswith("Applied: 5 unchanged")
    assert plan.to_dict()["changed"] is False


async def test_a_changed_secret_is_an_update_that_never_shows_the_secret(client: Client, fake: FakeOrderCloud) -> None:
    await ensure(client, http_config(OLD_SECRET))
    before = len(fake.requests)

    plan = await ensure(client, http_config(NEW_SECRET))

    config_action = action(plan, CONFIG_ID)
    assert config_action.kind == "update"
    assert config_action.changes == (FieldChange("DeliveryTargets.Http.Secret", "(secret)", "(secret)", secret=True),)
    assert str(config_action.changes[0]) == "DeliveryTargets.Http.Secret: (secret changed)"
    for event_id in EVENT_IDS:  # the fingerprint each event keeps changes too, shown as secret
        event_action = action(plan, event_id)
        assert event_action.kind == "update"
        assert [c.secret for c in event_action.changes] == [True]
        assert event_action.changes[0].path == f"ConfigData.{MARKER}.DeliveryConfigFingerprint"

    rendered = every_rendering(plan)
    assert OLD_SECRET not in rendered
    assert NEW_SECRET not in rendered
    assert "pbkdf2" not in rendered  # not even the fingerprint
    assert all("before" not in c and "after" not in c for a in plan.to_dict()["actions"] for c in a["changes"])

    assert stored_secret(fake) == NEW_SECRET
    assert [e.path.rsplit("/", 1)[1] for e in writes(fake, before) if "deliveryconfig" in e.path] == [CONFIG_ID]

    assert all_unchanged(await ensure(client, http_config(NEW_SECRET)))


async def test_a_changed_non_secret_field_shows_before_and_after(client: Client, fake: FakeOrderCloud) -> None:
    await ensure(client, http_config(name="Old name"))

    plan = await ensure(client, http_config(name="New name", endpoint="https://storefront.example/v2/events"))

    config_action = action(plan, CONFIG_ID)
    assert config_action.kind == "update"
    assert set(config_action.changes) == {
        FieldChange("Name", "Old name", "New name"),
        FieldChange("DeliveryTargets.Http.Endpoint", ENDPOINT, "https://storefront.example/v2/events"),
    }
    assert "Name: 'Old name' -> 'New name'" in str(plan)
    as_json = next(a for a in plan.to_dict()["actions"] if a["id"] == CONFIG_ID)
    assert {"path": "Name", "secret": False, "before": "Old name", "after": "New name"} in as_json["changes"]
    # the secret did not change, so the events are untouched
    assert [action(plan, event_id).kind for event_id in EVENT_IDS] == ["unchanged"] * 4
    assert fake.api.delivery_configs[CONFIG_ID]["DeliveryTargets"]["Http"]["Endpoint"].endswith("/v2/events")
    assert stored_secret(fake) == OLD_SECRET  # PUT replaced the config, with the secret given again


async def test_a_target_removed_from_the_desired_config_is_reported_and_removed(
    client: Client, fake: FakeOrderCloud
) -> None:
    await ensure(client, http_config(SendEvent=send_target()))

    plan = await ensure(client, http_config())

    config_action = action(plan, CONFIG_ID)
    assert config_action.kind == "update"
    removed = [c for c in config_action.changes if c.path == "DeliveryTargets.SendEvent"]
    assert len(removed) == 1
    assert removed[0].after is None
    assert removed[0].before["SiteID"] == SEND_SITE_ID
    assert not fake.api.delivery_configs[CONFIG_ID]["DeliveryTargets"].get("SendEvent")
    assert all_unchanged(await ensure(client, http_config()))


async def test_prune_deletes_the_events_of_other_types(client: Client, fake: FakeOrderCloud) -> None:
    await ensure(client)
    before = len(fake.requests)

    plan = await ensure(client, events=["UserLoggedIn", "OrderSubmitted"], prune=True)

    assert sorted((a.kind, a.id) for a in plan.actions if a.kind == "delete") == [
        ("delete", "te-storefront-LineItemAdded"),
        ("delete", "te-storefront-LineItemUpdated"),
    ]
    assert plan.count("unchanged") == 3
    assert sorted(stored_events(fake)) == ["OrderSubmitted", "UserLoggedIn"]
    assert sorted(e.path for e in writes(fake, before)) == [
        "/v1/integrations/trackingEvents/te-storefront-LineItemAdded",
        "/v1/integrations/trackingEvents/te-storefront-LineItemUpdated",
    ]
    assert {e.method for e in writes(fake, before)} == {"DELETE"}


async def test_without_prune_events_of_other_types_are_left_alone(client: Client, fake: FakeOrderCloud) -> None:
    await ensure(client)
    before = len(fake.requests)

    plan = await ensure(client, events=["UserLoggedIn"])

    assert kinds(plan) == [
        ("unchanged", "DeliveryConfig", CONFIG_ID),
        ("unchanged", "TrackingEvent", "te-storefront-UserLoggedIn"),
        ("unchanged", "TrackingEvent", "te-storefront-LineItemAdded"),
        ("unchanged", "TrackingEvent", "te-storefront-LineItemUpdated"),
        ("unchanged", "TrackingEvent", "te-storefront-OrderSubmitted"),
    ]
    kept = [a for a in plan.actions if a.note]
    assert len(kept) == 3
    assert all("kept (prune=True deletes it)" in str(a) for a in kept)  # the plan says what it left alone
    assert writes(fake, before) == []
    assert len(stored_events(fake)) == 4


async def test_prune_leaves_other_clients_alone(client: Client, fake: FakeOrderCloud) -> None:
    fake.add_api_client(SeedApiClient("kiosk", is_anon_buyer=True, default_context_username="anon-template"))
    await ensure(client, client_id="kiosk")
    await ensure(client, events=["UserLoggedIn"])

    plan = await ensure(client, events=["UserLoggedIn"], prune=True)

    assert plan.count("delete") == 0
    assert len(stored_events(fake, "kiosk")) == 4


async def test_dry_run_on_a_fresh_marketplace_reports_but_writes_nothing(client: Client, fake: FakeOrderCloud) -> None:
    plan = await ensure(client, dry_run=True)

    assert plan.dry_run
    assert not plan.applied
    assert plan.changed
    assert plan.count("create") == 5
    assert plan.summary() == "Dry run: would apply: 5 create"
    assert writes(fake) == []
    assert fake.api.delivery_configs == {}
    assert fake.api.tracking_events == {}


async def test_dry_run_of_changes_and_prune_writes_nothing(client: Client, fake: FakeOrderCloud) -> None:
    await ensure(client, http_config(OLD_SECRET))
    before = len(fake.requests)

    plan = await ensure(
        client, http_config(NEW_SECRET, name="Renamed"), events=["UserLoggedIn"], prune=True, dry_run=True
    )

    assert action(plan, CONFIG_ID).kind == "update"
    assert {c.path for c in action(plan, CONFIG_ID).changes} == {"Name", "DeliveryTargets.Http.Secret"}
    assert plan.count("delete") == 3
    assert plan.summary() == "Dry run: would apply: 2 update, 3 delete"
    assert NEW_SECRET not in every_rendering(plan)
    assert writes(fake, before) == []
    assert stored_secret(fake) == OLD_SECRET
    assert len(stored_events(fake)) == 4

    # nothing was written, so the real run still has everything to do
    applied = await ensure(client, http_config(NEW_SECRET, name="Renamed"), events=["UserLoggedIn"], prune=True)
    assert kinds(applied) == kinds(plan)
    assert applied.applied


@pytest.mark.parametrize("fault", ["status", "connect"])
async def test_an_interrupted_run_converges_when_run_again(
    client: Client, fake: FakeOrderCloud, fault: Literal["status", "connect"]
) -> None:
    # the second tracking-event PUT fails on every attempt (1 + 2 retries)
    second = "/v1/integrations/trackingEvents/te-storefront-LineItemAdded"
    if fault == "status":
        fake.faults.add("PUT", second, status=500, times=3)
        with pytest.raises(InternalServerError):
            await ensure(client)
    else:
        fake.faults.add("PUT", second, error="connect", times=3)
        with pytest.raises(APIConnectionError):
            await ensure(client)
    assert sorted(stored_events(fake)) == ["UserLoggedIn"]
    assert CONFIG_ID in fake.api.delivery_configs

    again = await ensure(client)

    assert kinds(again) == [
        ("unchanged", "DeliveryConfig", CONFIG_ID),
        ("unchanged", "TrackingEvent", "te-storefront-UserLoggedIn"),
        ("create", "TrackingEvent", "te-storefront-LineItemAdded"),
        ("create", "TrackingEvent", "te-storefront-LineItemUpdated"),
        ("create", "TrackingEvent", "te-storefront-OrderSubmitted"),
    ]
    assert sorted(stored_events(fake)) == sorted(kind.value for kind in ALL_EVENTS)
    assert stored_secret(fake) == OLD_SECRET
    before = len(fake.requests)
    assert all_unchanged(await ensure(client))
    assert writes(fake, before) == []


async def test_a_run_interrupted_before_any_event_was_written_rewrites_the_config(
    client: Client, fake: FakeOrderCloud
) -> None:
    fake.faults.add("PUT", "/v1/integrations/trackingEvents/*", status=500, times=3)
    with pytest.raises(InternalServerError):
        await ensure(client)

    again = await ensure(client)

    # secrets cannot be read back and no event recorded them yet, so the config is written again
    assert action(again, CONFIG_ID).kind == "update"
    assert action(again, CONFIG_ID).note
    assert again.count("create") == 4
    assert all_unchanged(await ensure(client))


@pytest.mark.parametrize(
    "failing",
    [
        "/v1/integrations/deliveryconfig/*",  # before the new secret was written
        "/v1/integrations/trackingEvents/te-storefront-UserLoggedIn",  # after it, before all events say so
        "/v1/integrations/trackingEvents/te-storefront-OrderSubmitted",  # after most events say so
    ],
)
async def test_a_secret_change_interrupted_anywhere_then_reverted_restores_the_old_secret(
    client: Client, fake: FakeOrderCloud, failing: str
) -> None:
    await ensure(client, http_config(OLD_SECRET))
    fake.faults.add("PUT", failing, status=500, times=3)
    with pytest.raises(InternalServerError):
        await ensure(client, http_config(NEW_SECRET))

    # the operator gives up on the rotation: whatever the interrupted run left, the old secret must be back
    await ensure(client, http_config(OLD_SECRET))

    assert stored_secret(fake) == OLD_SECRET
    assert all_unchanged(await ensure(client, http_config(OLD_SECRET)))


async def test_a_secret_change_interrupted_then_run_again_converges(client: Client, fake: FakeOrderCloud) -> None:
    await ensure(client, http_config(OLD_SECRET))
    fake.faults.add("PUT", "/v1/integrations/trackingEvents/te-storefront-LineItemUpdated", status=500, times=3)
    with pytest.raises(InternalServerError):
        await ensure(client, http_config(NEW_SECRET))

    again = await ensure(client, http_config(NEW_SECRET))

    assert again.changed
    assert NEW_SECRET not in every_rendering(again)
    assert stored_secret(fake) == NEW_SECRET
    assert all_unchanged(await ensure(client, http_config(NEW_SECRET)))


async def test_an_existing_event_of_a_requested_type_is_updated_in_place(client: Client, fake: FakeOrderCloud) -> None:
    await resolve(client.delivery_configs.save("dc-legacy", http_config(name="Legacy")))
    await resolve(
        client.tracking_events.save(
            "legacy-orders",
            {
                "EventType": "OrderSubmitted",
                "ClientID": STOREFRONT_CLIENT_ID,
                "Name": "Orders (by hand)",
                "DeliveryConfigID": "dc-legacy",
                "ConfigData": {"Team": "checkout"},
            },
        )
    )

    plan = await ensure(client)

    adopted = action(plan, "legacy-orders")
    assert adopted.kind == "update"
    assert FieldChange("DeliveryConfigID", "dc-legacy", CONFIG_ID) in adopted.changes
    assert "te-storefront-OrderSubmitted" not in [a.id for a in plan.actions]
    orders = [e for e in fake.api.tracking_events.values() if e["EventType"] == "OrderSubmitted"]
    assert len(orders) == 1
    assert orders[0]["ID"] == "legacy-orders"
    assert orders[0]["DeliveryConfigID"] == CONFIG_ID
    assert orders[0]["ConfigData"]["Team"] == "checkout"
    assert all_unchanged(await ensure(client))


async def test_user_config_data_keys_are_preserved(client: Client, fake: FakeOrderCloud) -> None:
    await ensure(client, config_data={"Environment": "prod"})
    event_id = "te-storefront-UserLoggedIn"
    event = await resolve(client.tracking_events.get(event_id))
    assert isinstance(event.config_data, dict)
    await resolve(
        client.tracking_events.save(
            event_id, event.model_copy(update={"config_data": {**event.config_data, "Owner": "team-a"}})
        )
    )

    assert all_unchanged(await ensure(client))  # the keys the run does not set are not "changes"
    await ensure(client, http_config(NEW_SECRET))  # even when the event is rewritten

    data = fake.api.tracking_events[event_id]["ConfigData"]
    assert data["Owner"] == "team-a"
    assert data["Environment"] == "prod"
    assert MARKER in data


async def test_config_data_that_is_not_an_object_is_replaced_without_showing_the_fingerprint(
    client: Client, fake: FakeOrderCloud
) -> None:
    await ensure(client)
    event_id = "te-storefront-UserLoggedIn"
    fake.api.tracking_events[event_id]["ConfigData"] = "legacy text"

    plan = await ensure(client)

    change = next(c for c in action(plan, event_id).changes if c.path == "ConfigData")
    assert change.before == "legacy text"
    assert "pbkdf2" not in every_rendering(plan)
    assert all_unchanged(await ensure(client))


async def test_unknown_event_types_and_a_missing_client_id_are_value_errors(
    client: Client, fake: FakeOrderCloud
) -> None:
    with pytest.raises(ValueError, match="Unknown event type") as raised:
        ensure_tracking(client, client_id=STOREFRONT_CLIENT_ID, delivery_config=http_config(), events=["OrderShipped"])
    assert "OrderShipped" in str(raised.value)
    assert "UserLoggedIn" in str(raised.value)  # says what is valid
    with pytest.raises(ValueError, match="client_id"):
        ensure_tracking(client, client_id="", delivery_config=http_config())
    with pytest.raises(ValueError, match="client_id"):
        doctor(client, client_id="")
    assert fake.requests == []  # checked before anything is sent (no coroutine left un-awaited either)


async def test_a_misspelt_or_missing_keyword_is_a_type_error_before_anything_is_sent(
    client: Client, fake: FakeOrderCloud
) -> None:
    # The keywords are TrackingSetup's (also a type error for mypy and pyright: tests/editor_types/test_keywords.py).
    ensure: Any = ensure_tracking
    with pytest.raises(TypeError, match="unexpected keyword argument 'dryrun'"):
        ensure(client, client_id=STOREFRONT_CLIENT_ID, delivery_config=http_config(), dryrun=True)
    with pytest.raises(TypeError, match="missing required keyword argument 'delivery_config'"):
        ensure(client, client_id=STOREFRONT_CLIENT_ID)
    assert fake.requests == []


async def test_an_unknown_api_client_is_refused_before_anything_is_written(
    client: Client, fake: FakeOrderCloud
) -> None:
    from ordercloud_tracking import NotFoundError

    with pytest.raises(NotFoundError, match="ApiClient no-such-client not found"):
        await ensure(client, client_id="no-such-client")
    assert writes(fake, 0) == []  # no orphan delivery config


async def test_a_write_the_api_refuses_is_raised(client: Client, fake: FakeOrderCloud) -> None:
    from ordercloud_tracking import BadRequestError

    refusal = {"Errors": [{"ErrorCode": "ValidationFailure", "Message": "Endpoint is not allowed"}]}
    fake.faults.add("PUT", "/v1/integrations/deliveryconfig/*", status=400, body=refusal)
    with pytest.raises(BadRequestError) as raised:
        await ensure(client)
    assert raised.value.error_code == "ValidationFailure"


async def test_the_plan_of_a_fresh_setup_reads_well(client: Client) -> None:
    plan = await ensure(client, events=["OrderSubmitted"])

    assert str(plan).splitlines() == [
        "create    DeliveryConfig dc-storefront",
        "create    TrackingEvent te-storefront-OrderSubmitted",
        "Applied: 2 create",
    ]
    assert json.loads(json.dumps(plan.to_dict())) == {
        "dry_run": False,
        "applied": True,
        "changed": True,
        "actions": [
            {"kind": "create", "resource": "DeliveryConfig", "id": CONFIG_ID, "note": None, "changes": []},
            {
                "kind": "create",
                "resource": "TrackingEvent",
                "id": "te-storefront-OrderSubmitted",
                "note": None,
                "changes": [],
            },
        ],
    }


def test_managed_event_ids_are_safe_ids() -> None:
    assert managed_event_id("my client/1", "OrderSubmitted") == "te-my-client-1-OrderSubmitted"
    assert len(managed_event_id("x" * 200, TrackingEventType.ORDER_SUBMITTED)) == 100


# -------------------------------------------------------------------------------------------------- doctor


def check(report: Report, name: str) -> Check:
    found = [c for c in report.checks if c.name == name]
    assert found, f"no check {name!r} in {[c.name for c in report.checks]}"
    return found[0]


def statuses(report: Report) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


async def test_doctor_passes_a_healthy_marketplace(client: Client) -> None:
    await ensure(
        client,
        http_config(
            SendEvent=send_target(),
            DiscoverEvent={"ClientID": "ck-1", "ApiKey": "discover-key-1", "ServiceEndpoint": "https://d.example"},
        ),
    )

    report = await diagnose(client)

    assert report.healthy
    assert report.problems == ()
    assert {c.status for c in report.checks} == {"ok"}
    assert {"caller roles", "API client", "anonymous shopping", "tracking events"} <= set(statuses(report))
    assert check(report, f"delivery config {CONFIG_ID} → SendEvent").status == "ok"
    assert str(report).endswith("Tracking for storefront: healthy")
    assert json.loads(json.dumps(report.to_dict()))["healthy"] is True
    assert "discover-key-1" not in str(report) + json.dumps(report.to_dict())


async def test_doctor_a_missing_api_client(client: Client) -> None:
    report = await diagnose(client, "no-such-client")

    assert check(report, "API client").status == "fail"
    assert "does not exist" in check(report, "API client").message
    assert check(report, "API client").fix
    assert not report.healthy
    assert "problem(s) found" in str(report)


async def test_doctor_an_inactive_api_client(client: Client, fake: FakeOrderCloud) -> None:
    fake.add_api_client(
        SeedApiClient("paused", active=False, is_anon_buyer=True, default_context_username="anon-template")
    )

    report = await diagnose(client, "paused")

    assert check(report, "API client").status == "fail"
    assert "not active" in check(report, "API client").message
    assert check(report, "API client").fix == "Set Active to true"


async def test_doctor_warns_when_anonymous_shopping_is_off(client: Client, fake: FakeOrderCloud) -> None:
    fake.add_api_client(SeedApiClient("server-side"))
    await ensure(client, client_id="server-side")

    report = await diagnose(client, "server-side")

    anonymous = check(report, "anonymous shopping")
    assert anonymous.status == "warn"
    assert "IsAnonBuyer" in anonymous.message
    assert report.healthy  # a warning is not a failure
    assert anonymous in report.problems


async def test_doctor_anonymous_buyer_without_a_default_context_user(client: Client, fake: FakeOrderCloud) -> None:
    fake.add_api_client(SeedApiClient("half-anon", is_anon_buyer=True))

    report = await diagnose(client, "half-anon")

    anonymous = check(report, "anonymous shopping")
    assert anonymous.status == "fail"
    assert "DefaultContextUserName" in anonymous.message
    assert not report.healthy


async def test_doctor_no_tracking_events(client: Client) -> None:
    report = await diagnose(client)

    events = check(report, "tracking events")
    assert events.status == "fail"
    assert "no tracking events" in events.message
    assert events.fix is not None
    assert "setup" in events.fix
    assert not report.healthy


async def test_doctor_warns_about_missing_event_types(client: Client) -> None:
    await ensure(client, events=["UserLoggedIn", "OrderSubmitted"])

    report = await diagnose(client)

    events = check(report, "tracking events")
    assert events.status == "warn"
    assert "LineItemAdded" in events.message
    assert "LineItemUpdated" in events.message
    assert report.healthy


async def test_doctor_an_event_pointing_to_a_disabled_config(client: Client) -> None:
    await ensure(client, events=["OrderSubmitted"])
    await resolve(client.delivery_configs.patch(CONFIG_ID, {"Enabled": False}))

    report = await diagnose(client)

    event = check(report, "tracking event te-storefront-OrderSubmitted")
    assert event.status == "fail"
    assert "disabled" in event.message
    assert event.fix == "Set Enabled to true"
    assert not report.healthy


async def test_doctor_an_event_pointing_to_a_deleted_config(client: Client, fake: FakeOrderCloud) -> None:
    await ensure(client, events=["OrderSubmitted"])
    # OrderCloud refuses to delete a config in use; the dangling reference is seeded in the fake's state
    del fake.api.delivery_configs[CONFIG_ID]

    report = await diagnose(client)

    event = check(report, "tracking event te-storefront-OrderSubmitted")
    assert event.status == "fail"
    assert "does not exist" in event.message
    assert not report.healthy


async def test_doctor_a_send_target_whose_site_id_is_not_a_uuid(client: Client) -> None:
    await ensure(client, {"Name": "Send", "DeliveryTargets": {"SendEvent": send_target("my-site")}})

    report = await diagnose(client)

    send = check(report, f"delivery config {CONFIG_ID} → SendEvent")
    assert send.status == "fail"
    assert "UUID" in send.message
    assert not report.healthy


async def test_doctor_warns_about_an_http_endpoint_without_https(client: Client) -> None:
    await ensure(client, http_config(endpoint="http://storefront.example/oc/events"))

    report = await diagnose(client)

    assert check(report, f"delivery config {CONFIG_ID} → Http").status == "warn"
    assert report.healthy


async def test_doctor_warns_about_a_send_config_no_tracking_event_uses(client: Client) -> None:
    await ensure(client)
    await resolve(
        client.delivery_configs.save(
            "dc-send-orphan", {"Name": "Send, unused", "DeliveryTargets": {"SendEvent": send_target()}}
        )
    )
    await resolve(client.delivery_configs.save("dc-http-only", {**http_config(), "Name": "Http only"}))

    report = await diagnose(client)

    orphan = check(report, "delivery config dc-send-orphan")
    assert orphan.status == "warn"
    assert "SendEvent" in orphan.message
    assert "delivery config dc-http-only" not in statuses(report)  # only Send/Discover need a tracking event
    assert report.healthy


async def test_doctor_reports_a_caller_without_roles_instead_of_raising(fake: FakeOrderCloud) -> None:
    fake.add_user(SeedUser("auditor", "auditor-password", user_type="admin", roles=("ApiClientReader",)))
    fake.add_api_client(SeedApiClient("audit-tool", client_secret="audit-secret", default_context_username="auditor"))
    grant = ClientCredentials("audit-tool", "audit-secret", scopes=("ApiClientReader", "TrackingEventReader"))
    with fake.client(grant) as limited:
        report = doctor(limited, client_id=STOREFRONT_CLIENT_ID)

    roles = check(report, "caller roles")
    assert roles.status == "fail"
    assert "reading tracking events" in roles.message
    assert "reading delivery configs" in roles.message
    assert roles.fix is not None
    assert "TrackingEventReader" in roles.fix
    assert check(report, "API client").status == "ok"  # ApiClientReader was enough for that
    denied = check(report, "tracking events")
    assert denied.status == "fail"
    assert "Missing role" in denied.message
    assert not report.healthy
    assert fake.requests_to("GET", "/v1/integrations/trackingEvents")[-1].status == 403


async def test_doctor_reports_a_denied_delivery_config_read_as_a_missing_role(fake: FakeOrderCloud) -> None:
    with fake.client() as admin:
        ensure_tracking(admin, client_id=STOREFRONT_CLIENT_ID, delivery_config=http_config())
    fake.add_user(SeedUser("te-reader", "pw-te-reader", user_type="admin", roles=("TrackingEventReader",)))
    fake.add_api_client(SeedApiClient("te-tool", client_secret="te-secret", default_context_username="te-reader"))
    grant = ClientCredentials("te-tool", "te-secret", scopes=("TrackingEventReader",))
    limited = fake.async_client(grant)
    try:
        report = await doctor(limited, client_id=STOREFRONT_CLIENT_ID)
    finally:
        await limited.close()

    assert check(report, "caller roles").status == "fail"
    assert check(report, "API client").status == "fail"
    assert "Missing role" in check(report, "API client").message
    assert check(report, "tracking events").status == "ok"
    configs = check(report, "delivery configs")
    assert configs.status == "fail"
    assert configs.fix is not None
    assert "DeliveryConfigAdmin" in configs.fix


async def test_doctor_raises_when_the_callers_credentials_are_refused(fake: FakeOrderCloud) -> None:
    from ordercloud_tracking import TokenError

    with fake.client(ClientCredentials("admin-client", "wrong-secret")) as wrong, pytest.raises(TokenError) as raised:
        doctor(wrong, client_id=STOREFRONT_CLIENT_ID)
    assert "wrong-secret" not in str(raised.value)


async def test_doctor_raises_connection_errors(fake: FakeOrderCloud) -> None:
    fake.faults.add("POST", "/oauth/token", error="connect", times=3)
    with fake.client() as admin, pytest.raises(APIConnectionError):
        doctor(admin, client_id=STOREFRONT_CLIENT_ID)


def test_check_and_report_render_their_fix() -> None:
    failing = Check("API client", "fail", "API client x is not active", "Set Active to true")
    report = Report("x", (failing, Check("caller roles", "ok", "fine")))

    assert str(failing) == "[FAIL] API client: API client x is not active\n       fix: Set Active to true"
    assert report.problems == (failing,)
    assert str(report).splitlines()[-1] == "Tracking for x: 1 problem(s) found"
    assert report.to_dict()["checks"][0] == {
        "name": "API client",
        "status": "fail",
        "message": "API client x is not active",
        "fix": "Set Active to true",
    }


def _names(values: Sequence[TrackingEventType]) -> list[str]:
    return [v.value for v in values]


def test_all_events_are_the_four_known_types() -> None:
    assert _names(ALL_EVENTS) == ["UserLoggedIn", "LineItemAdded", "LineItemUpdated", "OrderSubmitted"]


class OpaqueTokenGateway(httpx.BaseTransport):
    """An API gateway in front of the fake that hands out opaque (non-JWT) tokens and swaps them back."""

    def __init__(self, fake: FakeOrderCloud) -> None:
        self.inner = fake.transport()
        self.jwts: dict[str, str] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer in self.jwts:
            request.headers["Authorization"] = f"Bearer {self.jwts[bearer]}"
        response = self.inner.handle_request(request)
        if request.url.path != "/oauth/token" or response.status_code != 200:
            return response
        token = json.loads(response.read())
        opaque = f"opaque-{len(self.jwts)}"
        self.jwts[opaque] = token["access_token"]
        return httpx.Response(200, json={**token, "access_token": opaque})


async def test_doctor_reports_a_token_that_is_not_a_jwt_and_checks_the_rest(fake: FakeOrderCloud) -> None:
    with fake.client() as admin:
        ensure_tracking(admin, client_id=STOREFRONT_CLIENT_ID, delivery_config=http_config())
    gateway = OpaqueTokenGateway(fake)
    behind = OrderCloud(
        grant=ClientCredentials(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET),
        base_url=fake.base_url,
        http_client=httpx.Client(transport=gateway),
        retry_policy=fake.retry_policy(),
    )
    with behind:
        report = doctor(behind, client_id=STOREFRONT_CLIENT_ID)

    roles = check(report, "caller roles")
    assert roles.status == "warn"
    assert "not a JWT" in roles.message
    assert "opaque-0" not in str(report)  # the token itself is never shown
    assert check(report, "API client").status == "ok"
    assert check(report, "tracking events").status == "ok"
    assert report.healthy


# ----------------------------------------------------------------------------- Kafka and EventHub targets

SASL_PASSWORD = "sasl-pw-51c0ae"
NEW_SASL_PASSWORD = "sasl-pw-8e2f47"
HUB_KEY = "hub-key-3d9b1f"
KAFKA_BROKERS = "kafka-1.shop.example:9093,kafka-2.shop.example:9093"


def stream_config(
    password: str = SASL_PASSWORD, *, hub_key: str = HUB_KEY, servers: str = KAFKA_BROKERS
) -> dict[str, Any]:
    return {
        "Name": "Streams",
        "DeliveryTargets": {
            "Kafka": {"BootstrapServers": servers, "SaslUsername": "oc", "SaslPassword": password, "Topic": "commerce"},
            "EventHub": {
                "EventHubName": "commerce",
                "ConnectionString": f"Endpoint=sb://shop.servicebus.windows.net/;SharedAccessKey={hub_key}",
            },
        },
    }


async def test_kafka_and_event_hub_secrets_are_fingerprinted_like_http_ones(
    client: Client, fake: FakeOrderCloud
) -> None:
    plan = await ensure(client, stream_config())
    assert kinds(plan)[0] == ("create", "DeliveryConfig", CONFIG_ID)
    before = len(fake.requests)
    assert all_unchanged(await ensure(client, stream_config()))  # write-only secrets, yet known to be unchanged
    assert writes(fake, before) == []

    plan = await ensure(client, stream_config(NEW_SASL_PASSWORD))

    # One fingerprint covers all of a config's secrets: a change is reported on each secret field, never a value.
    assert action(plan, CONFIG_ID).changes == (
        FieldChange("DeliveryTargets.EventHub.ConnectionString", "(secret)", "(secret)", secret=True),
        FieldChange("DeliveryTargets.Kafka.SaslPassword", "(secret)", "(secret)", secret=True),
    )
    stored = fake.api.delivery_configs[CONFIG_ID]["DeliveryTargets"]
    assert stored["Kafka"]["SaslPassword"] == NEW_SASL_PASSWORD
    assert HUB_KEY in stored["EventHub"]["ConnectionString"]
    rendered = every_rendering(plan)
    for secret in (SASL_PASSWORD, NEW_SASL_PASSWORD, HUB_KEY):
        assert secret not in rendered
    assert all_unchanged(await ensure(client, stream_config(NEW_SASL_PASSWORD)))


async def test_doctor_reports_kafka_and_event_hub_targets_and_what_it_cannot_check(client: Client) -> None:
    await ensure(client, stream_config())

    report = await diagnose(client)

    kafka = check(report, f"delivery config {CONFIG_ID} → Kafka")
    hub = check(report, f"delivery config {CONFIG_ID} → EventHub")
    assert (kafka.status, hub.status) == ("ok", "ok")
    assert "BootstrapServers, Topic and SaslUsername present" in kafka.message
    assert "cannot check from OrderCloud's side that it reaches the brokers" in kafka.message
    assert "--check-kafka" in kafka.message
    assert "EventHubName present" in hub.message
    assert "cannot check from OrderCloud's side" in hub.message
    assert report.healthy
    assert SASL_PASSWORD not in str(report)
    assert HUB_KEY not in json.dumps(report.to_dict())


@pytest.mark.parametrize(
    ("servers", "status", "phrase"),
    [
        ("localhost:9092", "warn", "localhost:9092 is a local or private address"),
        ("10.0.0.5:9092", "warn", "OrderCloud cannot reach it"),
        ("kafka.shop.example", "fail", "is not host:port"),
    ],
)
async def test_doctor_finds_kafka_targets_ordercloud_cannot_use(
    client: Client, servers: str, status: str, phrase: str
) -> None:
    await ensure(client, stream_config(servers=servers))

    kafka = check(await diagnose(client), f"delivery config {CONFIG_ID} → Kafka")

    assert kafka.status == status, kafka
    assert phrase in kafka.message


def test_probe_kafka_reports_a_listening_broker_and_a_closed_port() -> None:
    import socket

    with socket.socket() as listening, socket.socket() as closed:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        up = f"127.0.0.1:{listening.getsockname()[1]}"
        down = f"127.0.0.1:{closed.getsockname()[1]}"

        reached = probe_kafka("brokers", f"{down},{up}", timeout=5)
        refused = probe_kafka("brokers", down, timeout=5)

    assert (reached.status, reached.message) == ("ok", f"{up} accepted a connection from this machine")
    assert refused.status == "warn"
    assert f"No bootstrap server answered from this machine within 5 s: {down}" in refused.message
