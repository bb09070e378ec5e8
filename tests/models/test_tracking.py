"""TrackingEvent, TrackingEventType and TrackingEventPatch: what a caller relies on."""

from __future__ import annotations

import doctest
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ordercloud_tracking.models import tracking
from ordercloud_tracking.models.tracking import TrackingEvent, TrackingEventPatch, TrackingEventType

FULL_BODY: dict[str, Any] = {
    "ID": "te-submit-web",
    "EventType": "OrderSubmitted",
    "ClientID": "A1B2C3D4-0000-0000-0000-000000000000",
    "Name": "Web storefront order submitted",
    "ConfigData": {},
    "DeliveryConfigID": "dc-send-and-http",
}
FIELD_NAMES = {"id", "event_type", "client_id", "name", "config_data", "delivery_config_id"}
KNOWN_KEYS = FIELD_NAMES | set(FULL_BODY)

# Text that pydantic (Rust strings) and JSON can carry: no lone surrogates.
text = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
json_scalars = st.none() | st.booleans() | st.integers() | finite_floats | text
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)


def test_module_docstring_examples_run() -> None:
    result = doctest.testmod(tracking, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_all_is_sorted_and_exported() -> None:
    assert tracking.__all__ == sorted(tracking.__all__)
    assert all(hasattr(tracking, name) for name in tracking.__all__)


# --- TrackingEventType ------------------------------------------------------------------------------


def test_event_type_known_members() -> None:
    assert [member.value for member in TrackingEventType] == [
        "UserLoggedIn",
        "LineItemAdded",
        "LineItemUpdated",
        "OrderSubmitted",
    ]
    assert TrackingEventType("LineItemAdded") is TrackingEventType.LINE_ITEM_ADDED
    assert TrackingEventType.USER_LOGGED_IN.is_known


def test_unknown_event_type_round_trips_through_json() -> None:
    body = {**FULL_BODY, "EventType": "SomethingNew"}
    event = TrackingEvent.from_api_json(json.dumps(body))
    assert event.event_type == "SomethingNew"
    assert isinstance(event.event_type, TrackingEventType)
    assert not event.event_type.is_known
    assert str(event.event_type) == "SomethingNew"
    assert event.to_request()["EventType"] == "SomethingNew"
    assert json.loads(event.model_dump_json())["EventType"] == "SomethingNew"
    assert "SomethingNew" not in [member.value for member in TrackingEventType]  # not added to the enum


@given(value=text)
def test_any_event_type_string_round_trips(value: str) -> None:
    event = TrackingEvent.from_api({**FULL_BODY, "EventType": value})
    assert event.to_request()["EventType"] == value
    assert TrackingEvent.from_api_json(event.model_dump_json()).event_type == value


def test_event_type_rejects_non_strings() -> None:
    with pytest.raises(ValidationError, match="EventType"):
        TrackingEvent.model_validate({**FULL_BODY, "EventType": 3})


# --- TrackingEvent: names in and out ----------------------------------------------------------------


def test_built_with_snake_names_writes_exact_json_names() -> None:
    event = TrackingEvent(
        id="te-submit-web",
        event_type=TrackingEventType.ORDER_SUBMITTED,
        client_id="A1B2C3D4-0000-0000-0000-000000000000",
        name="Web storefront order submitted",
        config_data={},
        delivery_config_id="dc-send-and-http",
    )
    assert event.to_request() == FULL_BODY
    assert list(event.to_request()) == list(FULL_BODY)


def test_accepts_json_names_and_snake_names_mixed() -> None:
    by_alias = TrackingEvent.model_validate(FULL_BODY)
    mixed = TrackingEvent.model_validate(
        {
            "ID": "te-submit-web",
            "event_type": "OrderSubmitted",
            "ClientID": "A1B2C3D4-0000-0000-0000-000000000000",
            "name": "Web storefront order submitted",
            "config_data": {},
            "DeliveryConfigID": "dc-send-and-http",
        }
    )
    assert by_alias == mixed
    assert by_alias.event_type is TrackingEventType.ORDER_SUBMITTED
    assert by_alias.client_id == "A1B2C3D4-0000-0000-0000-000000000000"
    assert mixed.to_request() == FULL_BODY


def test_only_given_fields_are_written() -> None:
    event = TrackingEvent(event_type=TrackingEventType.USER_LOGGED_IN, client_id="c", name="n", delivery_config_id="dc")
    assert event.to_request() == {
        "EventType": "UserLoggedIn",
        "ClientID": "c",
        "Name": "n",
        "DeliveryConfigID": "dc",
    }
    assert event.id is None
    assert event.config_data is None


# --- TrackingEvent: required fields ------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["EventType", "ClientID", "Name", "DeliveryConfigID"])
def test_required_fields_are_enforced_for_callers(missing: str) -> None:
    body = {key: value for key, value in FULL_BODY.items() if key != missing}
    with pytest.raises(ValidationError) as excinfo:
        TrackingEvent.model_validate(body)
    errors = excinfo.value.errors()
    assert [(error["loc"], error["type"]) for error in errors] == [((missing,), "missing")]
    assert missing in str(excinfo.value)


def test_delivery_config_id_may_be_explicitly_null() -> None:
    event = TrackingEvent(
        event_type=TrackingEventType.LINE_ITEM_ADDED, client_id="c", name="n", delivery_config_id=None
    )
    assert event.to_request()["DeliveryConfigID"] is None


def test_api_body_without_delivery_config_id_parses_and_is_not_written_back() -> None:
    # Objects created before API v1.0.293 have no DeliveryConfigID.
    body = {key: value for key, value in FULL_BODY.items() if key != "DeliveryConfigID"}
    event = TrackingEvent.from_api(body)
    assert event.delivery_config_id is None
    assert "delivery_config_id" not in event.model_fields_set
    assert event.to_request() == body
    assert TrackingEvent.from_api_json(json.dumps(body)).to_request() == body


@pytest.mark.parametrize("missing", ["EventType", "ClientID", "Name"])
def test_api_body_without_non_nullable_required_field_still_fails(missing: str) -> None:
    body = {key: value for key, value in FULL_BODY.items() if key != missing}
    with pytest.raises(ValidationError, match=missing):
        TrackingEvent.from_api(body)


def test_id_max_length_is_checked_for_callers_only() -> None:
    long_id = "x" * 101
    with pytest.raises(ValidationError, match="at most 100 characters"):
        TrackingEvent.model_validate({**FULL_BODY, "ID": long_id})
    TrackingEvent.model_validate({**FULL_BODY, "ID": "x" * 100})
    assert TrackingEvent.from_api({**FULL_BODY, "ID": long_id}).id == long_id


# --- ConfigData ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config_data",
    [{}, {"Nested": {"A": [1, 2.5, None, True]}, "Key": "value"}, "", "some text", None],
    ids=["empty-object", "object", "empty-string", "string", "null"],
)
def test_config_data_is_kept_as_given(config_data: Any) -> None:
    body = {**FULL_BODY, "ConfigData": config_data}
    event = TrackingEvent.from_api_json(json.dumps(body))
    assert event.config_data == config_data
    assert event.to_request() == body
    assert json.loads(event.model_dump_json()) == body


@given(config_data=st.dictionaries(text, json_values, max_size=4))
def test_any_config_data_object_round_trips(config_data: dict[str, Any]) -> None:
    body = {**FULL_BODY, "ConfigData": config_data}
    assert TrackingEvent.from_api_json(json.dumps(body)).to_request() == body


# --- unknown fields -----------------------------------------------------------------------------------


@given(extra=st.dictionaries(text.filter(lambda key: key not in KNOWN_KEYS), json_values, max_size=4))
def test_unknown_fields_round_trip(extra: dict[str, Any]) -> None:
    body = {**FULL_BODY, **extra}
    event = TrackingEvent.from_api_json(json.dumps(body))
    assert event.model_extra == extra
    assert event.to_request() == body
    assert TrackingEvent.model_validate(event.to_request()).to_request() == body


def test_unknown_fields_are_not_in_repr() -> None:
    event = TrackingEvent.from_api({**FULL_BODY, "FutureToken": "do-not-print"})
    assert "do-not-print" not in repr(event)
    assert event.to_request()["FutureToken"] == "do-not-print"


# --- TrackingEventPatch -------------------------------------------------------------------------------


def test_empty_patch_sends_nothing() -> None:
    assert TrackingEventPatch().to_request() == {}


def test_patch_explicit_none_differs_from_not_given() -> None:
    assert TrackingEventPatch(name=None).to_request() == {"Name": None}
    assert TrackingEventPatch(delivery_config_id=None, config_data=None).to_request() == {
        "ConfigData": None,
        "DeliveryConfigID": None,
    }
    assert TrackingEventPatch(name="Renamed").to_request() == {"Name": "Renamed"}


def test_patch_accepts_every_field_by_both_names() -> None:
    patch = TrackingEventPatch.model_validate(
        {
            "id": "te-1",
            "EventType": "SomethingNew",
            "client_id": "c",
            "Name": "n",
            "ConfigData": "text",
            "delivery_config_id": "dc",
        }
    )
    assert patch.to_request() == {
        "ID": "te-1",
        "EventType": "SomethingNew",
        "ClientID": "c",
        "Name": "n",
        "ConfigData": "text",
        "DeliveryConfigID": "dc",
    }


def test_patch_with_enum_member() -> None:
    patch = TrackingEventPatch(event_type=TrackingEventType.LINE_ITEM_UPDATED)
    assert patch.to_request() == {"EventType": "LineItemUpdated"}


def test_patch_id_max_length() -> None:
    # The error location is the key the caller used (snake name here).
    with pytest.raises(ValidationError, match=r"id\n  Value error, must be at most 100 characters"):
        TrackingEventPatch(id="x" * 101)


@given(
    fields=st.dictionaries(
        st.sampled_from(["ID", "EventType", "ClientID", "Name", "ConfigData", "DeliveryConfigID"]),
        st.none() | st.text(alphabet="abcXYZ-_0", max_size=10),
    )
)
def test_patch_writes_exactly_the_given_fields(fields: dict[str, str | None]) -> None:
    assert TrackingEventPatch.model_validate(fields).to_request() == fields
