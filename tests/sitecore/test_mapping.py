"""The Sitecore side: SitecoreEventType, the mapping table, and Discover / Send payloads (golden)."""

from __future__ import annotations

import copy
import doctest
import inspect
import json
import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

from ordercloud_tracking import sitecore
from ordercloud_tracking._errors import MappingError
from ordercloud_tracking.messages import (
    MESSAGE_CLASSES,
    MessageLineItem,
    OrderLineAdded,
    OrderLineUpdated,
    OrderSubmitted,
    SessionIdentified,
    TrackingMessage,
    UnknownMessage,
    parse_message,
)
from ordercloud_tracking.models.commerce import LineItem, Locale, MeUser, Order, User
from ordercloud_tracking.models.tracking import TrackingEventType
from ordercloud_tracking.sitecore import (
    EVENT_MAPPING,
    EventMapping,
    SitecoreEventType,
    discover,
    discover_request_body,
    mapping,
    mapping_for,
    mapping_table_markdown,
    send,
    send_url,
    to_discover_event,
    to_send_event,
)
from tests.test_messages import attribute_docstrings

SITE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
ANON = "7c9e6679742540de944be07fc1f90ae7"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
NOW_MS = 1714564800000

SESSION_BODY: dict[str, Any] = {
    "UserContext": {"ID": "buyer01", "AnonymousId": ANON},
    "Language": "en-US",
    "Currency": "USD",
    "Email": "jane@example.com",
    "FirstName": "Jane",
    "LastName": "Doe",
}
LINE_BODY: dict[str, Any] = {
    "UserContext": {"ID": None, "AnonymousId": ANON},
    "Language": "en",
    "Currency": "USD",
    "Email": None,
    "OrderId": "o-1001",
    "LineItem": {
        "LineID": "li-1",
        "Product": {
            "ProductID": "SKU-123",
            "ProductName": "Mug",
            "ProductDescription": "Blue mug",
            "Price": 10.0,
            "Variant": {"VariantName": "Blue", "VariantDescription": "Blue, 350 ml"},
            "xp": {"Image": "https://shop.example.com/img/sku-123.jpg"},
        },
        "Quantity": 2,
        "Price": 10.0,
        "LineTotal": 18.0,
        "LineSubTotal": 20.0,
        "xp": {},
    },
}
ORDER_BODY: dict[str, Any] = {
    "UserContext": {"ID": "buyer01", "AnonymousId": ANON},
    "OrderID": "o-1001",
    "Currency": "USD",
    "Email": "jane@example.com",
    "OrderDate": "2024-05-01T12:00:00+00:00",
    "OrderStatus": "Open",
    "OrderTotal": 42.5,
    "OrderSubtotal": 40.0,
    "Payments": [{"Type": "CreditCard", "Amount": 42.5}],
    "LineItems": [
        {
            "LineID": "li-1",
            "Product": {"ProductID": "SKU-123", "ProductName": "Mug", "Price": 10.0},
            "Quantity": 2,
            "Price": 10.0,
            "LineTotal": 18.0,
            "LineSubTotal": 20.0,
        },
        {
            "LineID": "li-2",
            "Product": {"ProductID": "SKU-9", "ProductName": "Spoon", "Price": 5.5},
            "Quantity": 4,
            "Price": 5.5,
            "LineTotal": 22.0,
            "LineSubTotal": 22.0,
        },
    ],
    "xp": {},
}


def session() -> SessionIdentified:
    msg = parse_message(SESSION_BODY, event_type="sitecore.backbone.messages.sessions.identified")
    assert isinstance(msg, SessionIdentified)
    return msg


def line(kind: str = "LineItemAdded", **changes: Any) -> OrderLineAdded | OrderLineUpdated:
    body = copy.deepcopy(LINE_BODY)
    body["LineItem"].update(changes)
    msg = parse_message(body, event_type=kind)
    assert isinstance(msg, (OrderLineAdded, OrderLineUpdated))
    return msg


def order() -> OrderSubmitted:
    msg = parse_message(ORDER_BODY, event_type="sitecore.ordercloud.messages.orders.submitted")
    assert isinstance(msg, OrderSubmitted)
    return msg


# --- module hygiene ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [sitecore, mapping, discover, send])
def test_doctests_and_sorted_all(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert module.__all__ == sorted(module.__all__)
    for name in module.__all__:
        assert hasattr(module, name)


@pytest.mark.parametrize("module", [mapping, discover, send])
def test_public_names_are_documented(module: ModuleType) -> None:
    """Every name has a docstring; the examples of the constants (which ``doctest`` does not see) pass."""
    attributes = attribute_docstrings(module)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert (obj.__doc__ or "").strip(), name
            continue
        assert attributes.get(name, "").strip(), name
        globs = dict(vars(module))
        runner.run(doctest.DocTestParser().get_doctest(attributes[name], globs, f"{module.__name__}.{name}", None, 0))
    assert runner.failures == 0
    assert set(sitecore.__all__) == {name for m in (mapping, discover, send) for name in m.__all__}


def test_sitecore_builders_import_without_httpx() -> None:
    code = "import sys, ordercloud_tracking.sitecore; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "False"


# --- SitecoreEventType -----------------------------------------------------------------------------------

TYPES: list[tuple[SitecoreEventType, str, str, TrackingEventType, type[TrackingMessage]]] = [
    (
        SitecoreEventType.SESSION_IDENTIFIED,
        "sitecore.backbone.messages.sessions.identified",
        "sitecore.ordercloud.messages.sessions.identified",
        TrackingEventType.USER_LOGGED_IN,
        SessionIdentified,
    ),
    (
        SitecoreEventType.ORDER_LINE_ADDED,
        "sitecore.backbone.messages.orders.lines.added",
        "sitecore.ordercloud.messages.orders.lines.added",
        TrackingEventType.LINE_ITEM_ADDED,
        OrderLineAdded,
    ),
    (
        SitecoreEventType.ORDER_LINE_UPDATED,
        "sitecore.backbone.messages.orders.lines.updated",
        "sitecore.ordercloud.messages.orders.lines.updated",
        TrackingEventType.LINE_ITEM_UPDATED,
        OrderLineUpdated,
    ),
    (
        SitecoreEventType.ORDER_SUBMITTED,
        "sitecore.backbone.messages.orders.submitted",
        "sitecore.ordercloud.messages.orders.submitted",
        TrackingEventType.ORDER_SUBMITTED,
        OrderSubmitted,
    ),
]


@pytest.mark.parametrize(("member", "backbone", "alias", "tracking", "cls"), TYPES)
def test_sitecore_event_type(
    member: SitecoreEventType, backbone: str, alias: str, tracking: TrackingEventType, cls: type[TrackingMessage]
) -> None:
    assert member.value == backbone
    assert member.alias == alias
    assert member.tracking_event_type is tracking
    assert member.message_class is cls
    assert (cls.backbone_type, cls.namespace) == (backbone, alias)
    for name in (backbone, alias, alias.upper(), f" {backbone} "):
        assert SitecoreEventType(name) is member
    assert SitecoreEventType.from_tracking_event_type(tracking) is member
    assert SitecoreEventType.from_tracking_event_type(tracking.value) is member
    assert type(parse_message(cls.model_validate({}).to_request(), event_type=member)) is cls
    assert type(parse_message({"EventType": "", "Message": {}}, event_type=member)) is cls
    assert member == backbone  # a str enum


def test_sitecore_event_type_has_exactly_four_members() -> None:
    assert len(SitecoreEventType) == 4
    assert {member.message_class for member in SitecoreEventType} == set(MESSAGE_CLASSES)


@pytest.mark.parametrize("name", ["UserLoggedIn", "sitecore.ordercloud.messages.ordersync.updated", "x", ""])
def test_unknown_sitecore_names(name: str) -> None:
    with pytest.raises(ValueError, match="SitecoreEventType"):
        SitecoreEventType(name)


@pytest.mark.parametrize("value", ["SomethingNew", TrackingEventType("SomethingNew"), "sessions.identified"])
def test_from_unknown_tracking_event_type(value: str) -> None:
    with pytest.raises(ValueError, match="not a tracking event type"):
        SitecoreEventType.from_tracking_event_type(value)


# --- the table --------------------------------------------------------------------------------------------


def test_event_mapping_table() -> None:
    assert isinstance(EVENT_MAPPING, tuple)
    assert all(isinstance(row, EventMapping) for row in EVENT_MAPPING)
    rows = [
        (
            row.operation,
            row.tracking_event_type.value,
            row.backbone_type,
            row.namespace,
            row.discover_event,
            row.discover_alternative,
            row.send_event,
            row.send_path,
            row.cdp_event,
            row.message_class,
        )
        for row in EVENT_MAPPING
    ]
    assert rows == [
        (
            "Log in",
            "UserLoggedIn",
            "sitecore.backbone.messages.sessions.identified",
            "sitecore.ordercloud.messages.sessions.identified",
            "user:login",
            None,
            "IDENTIFY",
            "/identify",
            "IDENTITY",
            SessionIdentified,
        ),
        (
            "Add line item",
            "LineItemAdded",
            "sitecore.backbone.messages.orders.lines.added",
            "sitecore.ordercloud.messages.orders.lines.added",
            "a2c",
            None,
            "ADDED_TO_ORDER",
            "/track",
            "ADD",
            OrderLineAdded,
        ),
        (
            "Update line item",
            "LineItemUpdated",
            "sitecore.backbone.messages.orders.lines.updated",
            "sitecore.ordercloud.messages.orders.lines.updated",
            "status:cart",
            "a2c",
            "ADDED_TO_ORDER",
            "/track",
            "ADD",
            OrderLineUpdated,
        ),
        (
            "Submit order",
            "OrderSubmitted",
            "sitecore.backbone.messages.orders.submitted",
            "sitecore.ordercloud.messages.orders.submitted",
            "order:confirm",
            None,
            "ORDER_COMPLETED",
            "/track",
            "ORDER_CHECKOUT",
            OrderSubmitted,
        ),
    ]
    assert EVENT_MAPPING[0].api_calls == ("POST /oauth/token (password, SSO or elevated grant; not anonymous)",)
    assert "POST /v1/cart/lineitems" in EVENT_MAPPING[1].api_calls
    assert "PATCH /v1/cart/lineitems/{lineItemID}" in EVENT_MAPPING[2].api_calls
    assert "POST /v1/cart/submit" in EVENT_MAPPING[3].api_calls


@pytest.mark.parametrize("row", EVENT_MAPPING)
def test_mapping_for_any_key(row: EventMapping) -> None:
    keys: list[Any] = [
        row.tracking_event_type,
        row.tracking_event_type.value,
        row.sitecore_event_type,
        row.backbone_type,
        row.namespace,
        row.message_class,
    ]
    for key in keys:
        assert mapping_for(key) is row
    with pytest.raises(ValueError, match="No Sitecore mapping"):
        mapping_for("ordersync.updated")


def test_mapping_for_a_message() -> None:
    assert mapping_for(order()) is EVENT_MAPPING[3]


def test_markdown_table_is_rendered_from_the_data() -> None:
    table = mapping_table_markdown()
    lines = table.strip().splitlines()
    assert len(lines) == 2 + len(EVENT_MAPPING)
    for row, text in zip(EVENT_MAPPING, lines[2:], strict=True):
        assert row.operation in text
        assert row.backbone_type in text
        assert row.namespace in text
        assert row.send_event in text
        assert row.discover_event in text
    assert "`status:cart` or `a2c`" in lines[4]


# --- Discover golden payloads -------------------------------------------------------------------------------

CONTEXT = {"geo": {"ip": "203.0.113.7"}, "browser": {"user_agent": "Mozilla/5.0 (example)"}}


def discover_kwargs(**extra: Any) -> dict[str, Any]:
    return {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (example)", "now": NOW, **extra}


def test_discover_user_login() -> None:
    event = to_discover_event(session(), **discover_kwargs(page="/account"))
    assert event == {
        "type": "user",
        "name": "login",
        "uuid": ANON,
        "t": NOW_MS,
        "t0": NOW_MS,
        "value": {
            "context": {
                "page": {"uri": "/account", "locale_language": "en", "locale_country": "us", "locale_currency": "usd"},
                **CONTEXT,
                "user": {"id": "buyer01", "email": "jane@example.com"},
            }
        },
    }


def test_discover_a2c_for_an_added_line() -> None:
    event = to_discover_event(line(), **discover_kwargs(page={"uri": "/p/SKU-123", "title": "Mug"}))
    assert event == {
        "type": "a2c",
        "name": "pdp",
        "uuid": ANON,
        "t": NOW_MS,
        "t0": NOW_MS,
        "value": {
            "context": {
                "page": {"uri": "/p/SKU-123", "title": "Mug", "locale_language": "en", "locale_currency": "usd"},
                **CONTEXT,
            },
            "products": [{"sku": "SKU-123", "price": 10.0, "quantity": 2}],
        },
    }


def test_discover_status_cart_for_an_updated_line() -> None:
    cart = [
        MessageLineItem.model_validate({"LineID": "li-0", "Product": {"ProductID": "SKU-7"}, "Quantity": 1}),
        MessageLineItem.model_validate({"LineID": "li-1", "Product": {"ProductID": "SKU-123"}, "Quantity": 1}),
    ]
    event = to_discover_event(line("LineItemUpdated", Quantity=5), uuid="ruid-1", cart=cart, now=NOW)
    assert event == {
        "type": "status",
        "name": "cart",
        "uuid": "ruid-1",
        "t": NOW_MS,
        "t0": NOW_MS,
        "value": {
            "context": {"page": {"locale_language": "en", "locale_currency": "usd"}},
            "products": [
                {"sku": "SKU-7", "quantity": 1},
                {"sku": "SKU-123", "price": 10.0, "quantity": 5},  # the updated line replaces its namesake
            ],
        },
    }


def test_discover_status_cart_appends_a_line_missing_from_the_cart() -> None:
    event = to_discover_event(line("LineItemUpdated"), cart=[], now=NOW)
    assert event is not None
    assert event["value"]["products"] == [{"sku": "SKU-123", "price": 10.0, "quantity": 2}]


def test_discover_delta_policy() -> None:
    updated = line("LineItemUpdated", Quantity=5)
    event = to_discover_event(updated, line_update="delta", previous_quantity=2, now=NOW, page_type="cart")
    assert event == {
        "type": "a2c",
        "name": "cart",
        "uuid": ANON,
        "t": NOW_MS,
        "t0": NOW_MS,
        "value": {
            "context": {"page": {"locale_language": "en", "locale_currency": "usd"}},
            "products": [{"sku": "SKU-123", "price": 10.0, "quantity": 3}],
        },
    }
    assert to_discover_event(updated, line_update="delta", previous_quantity=5) is None
    assert to_discover_event(updated, line_update="delta", previous_quantity=Decimal(7)) is None


def test_discover_added_line_with_previous_quantity_sends_the_increase() -> None:
    event = to_discover_event(line(Quantity=3), previous_quantity=1, now=NOW)
    assert event is not None
    assert event["value"]["products"] == [{"sku": "SKU-123", "price": 10.0, "quantity": 2}]
    assert to_discover_event(line(Quantity=3), previous_quantity=3) is None


def test_discover_inferred_line_is_an_add_unless_told() -> None:
    inferred = parse_message(LINE_BODY)
    assert isinstance(inferred, OrderLineAdded)
    assert inferred.type_inferred
    event = to_discover_event(inferred, now=NOW)
    assert event is not None
    assert event["type"] == "a2c"
    told = to_discover_event(inferred, event_type="LineItemUpdated", cart=[], now=NOW)
    assert told is not None
    assert told["type"] == "status"


def test_discover_order_confirm() -> None:
    event = to_discover_event(order(), **discover_kwargs(user_id="own-anon-id", uuid="ruid-1"))
    assert event == {
        "type": "order",
        "name": "confirm",
        "uuid": "ruid-1",
        "user_id": "own-anon-id",
        "t": NOW_MS,
        "t0": NOW_MS,
        "value": {
            "context": {
                "page": {"locale_currency": "usd"},
                **CONTEXT,
                "user": {"id": "buyer01", "email": "jane@example.com"},
            },
            "products": [
                {"sku": "SKU-123", "price": 9.0, "price_original": 10.0, "quantity": 2},
                {"sku": "SKU-9", "price": 5.5, "price_original": 5.5, "quantity": 4},
            ],
            "checkout": {"order_id": "o-1001", "subtotal": 40.0, "total": 42.5},
        },
    }


def test_discover_user_id_instead_of_uuid() -> None:
    event = to_discover_event(order(), user_id="own-anon-id", now=NOW)
    assert event is not None
    assert "uuid" not in event
    assert event["user_id"] == "own-anon-id"


def test_discover_now_defaults_to_the_clock() -> None:
    before = int(datetime.now(timezone.utc).timestamp() * 1000)
    event = to_discover_event(session())
    assert event is not None
    assert before <= event["t"] == event["t0"] <= before + 60_000
    naive = to_discover_event(session(), now=datetime(2024, 5, 1, 12, 0))
    assert naive is not None
    assert naive["t"] == NOW_MS


def test_discover_request_body() -> None:
    event = to_discover_event(line(), now=NOW)
    assert event is not None
    body = discover_request_body(event)
    assert list(body) == ["data"]
    assert json.loads(body["data"]) == event


# --- Send golden payloads ------------------------------------------------------------------------------------


def test_send_identify() -> None:
    payload = to_send_event(session(), site_id=SITE_ID, contact_id="uid-1", session_id="sess-1")
    assert payload == {
        "siteId": SITE_ID,
        "actionType": "IDENTIFY",
        "ContactId": "uid-1",
        "sessionId": "sess-1",
        "ContactEmailAddress": "jane@example.com",
        "ContactName": "Jane Doe",
    }
    assert send_url(payload) == "https://t.stat-track.com/identify"


def test_send_added_to_order() -> None:
    payload = to_send_event(
        line(),
        site_id=SITE_ID,
        contact_id=None,  # falls back to UserContext.AnonymousId
        session_id="sess-1",
        item_url="https://shop.example.com/p/{ProductID}?line={LineID}&order={OrderID}",
        item_image=lambda item: (
            item.product.xp.get("Image")
            if isinstance(item, MessageLineItem) and item.product is not None and item.product.xp
            else None
        ),
    )
    assert payload == {
        "siteId": SITE_ID,
        "actionType": "ADDED_TO_ORDER",
        "ContactId": ANON,
        "sessionId": "sess-1",
        "properties": [
            {
                "product": {
                    "itemCode": "SKU-123",
                    "itemPrice": 10.0,
                    "itemUrl": "https://shop.example.com/p/SKU-123?line=li-1&order=o-1001",
                    "itemQuantity": 2,
                    "itemTotalPrice": 18.0,
                    "itemName": "Mug (Blue)",
                    "itemImage": "https://shop.example.com/img/sku-123.jpg",
                    "currencyCode": "USD",
                }
            }
        ],
    }
    assert send_url(payload, staging=True) == "https://t.stat-track-staging.com/track"


def test_send_update_is_the_positive_delta_only() -> None:
    updated = line("LineItemUpdated", Quantity=5, LineTotal=45.0, LineSubTotal=50.0)
    payload = to_send_event(updated, site_id=SITE_ID, contact_id="uid-1", session_id="sess-1", previous_quantity=2)
    assert payload == {
        "siteId": SITE_ID,
        "actionType": "ADDED_TO_ORDER",
        "ContactId": "uid-1",
        "sessionId": "sess-1",
        "properties": [
            {
                "product": {
                    "itemCode": "SKU-123",
                    "itemPrice": 10.0,
                    "itemQuantity": 3,
                    "itemTotalPrice": 30.0,
                    "itemName": "Mug (Blue)",
                    "currencyCode": "USD",
                }
            }
        ],
    }
    for previous in (5, 6, 5.0):
        assert (
            to_send_event(updated, site_id=SITE_ID, contact_id="u", session_id="s", previous_quantity=previous) is None
        )


def test_send_order_completed() -> None:
    payload = to_send_event(order(), site_id=SITE_ID, contact_id="uid-1", session_id="sess-1")
    assert payload == {
        "siteId": SITE_ID,
        "actionType": "ORDER_COMPLETED",
        "ContactId": "uid-1",
        "sessionId": "sess-1",
        "ContactEmailAddress": "jane@example.com",
        "properties": [
            {
                "products": [
                    {
                        "itemCode": "SKU-123",
                        "itemPrice": 10.0,
                        "itemQuantity": 2,
                        "itemTotalPrice": 18.0,
                        "itemName": "Mug",
                        "currencyCode": "USD",
                    },
                    {
                        "itemCode": "SKU-9",
                        "itemPrice": 5.5,
                        "itemQuantity": 4,
                        "itemTotalPrice": 22.0,
                        "itemName": "Spoon",
                        "currencyCode": "USD",
                    },
                ],
                "totalPrice": 42.5,
            }
        ],
    }


def test_send_generates_a_session_id_when_none() -> None:
    first = to_send_event(order(), site_id=SITE_ID, contact_id="uid-1", session_id=None)
    second = to_send_event(order(), site_id=SITE_ID, contact_id="uid-1", session_id=None)
    assert first is not None
    assert second is not None
    assert len(first["sessionId"]) == 32
    assert first["sessionId"] != second["sessionId"]


# --- hydrated OrderCloud objects ------------------------------------------------------------------------------


def hydrated_order() -> Order:
    return Order.from_api(
        {
            "ID": "o-1001",
            "FromUser": {"ID": "buyer01", "Email": "jane@example.com", "Locale": {"Language": "en-US"}},
            "Status": "Open",
            "Currency": "USD",
            "Subtotal": 40,
            "Total": 42.5,
        }
    )


def hydrated_lines() -> list[LineItem]:
    return [
        LineItem.from_api(
            {
                "ID": "li-1",
                "ProductID": "mug",
                "Quantity": 2,
                "UnitPrice": 10,
                "LineSubtotal": 20,
                "LineTotal": 18,
                "Product": {"ID": "mug", "Name": "Mug"},
                "Variant": {"ID": "mug-blue", "Name": "Blue"},
            }
        ),
        LineItem.from_api(
            {
                "ID": "li-2",
                "ProductID": "spoon",
                "Quantity": 4,
                "UnitPrice": 5.5,
                "LineSubtotal": 22,
                "LineTotal": 22,
                "Product": {"ID": "spoon", "Name": "Spoon"},
            }
        ),
    ]


def test_hydrated_login() -> None:
    user = User(
        id="buyer01",
        username="jane",
        first_name="Jane",
        last_name="Doe",
        email="jane@example.com",
        active=True,
        locale=Locale(language="en-US", currency="USD"),
    )
    event = to_discover_event(user, uuid="ruid-1", now=NOW)
    assert event == {
        "type": "user",
        "name": "login",
        "uuid": "ruid-1",
        "t": NOW_MS,
        "t0": NOW_MS,
        "value": {
            "context": {
                "page": {"locale_language": "en", "locale_country": "us", "locale_currency": "usd"},
                "user": {"id": "buyer01", "email": "jane@example.com"},
            }
        },
    }
    payload = to_send_event(MeUser(email="jane@example.com"), site_id=SITE_ID, contact_id="uid-1", session_id="s")
    assert payload == {
        "siteId": SITE_ID,
        "actionType": "IDENTIFY",
        "ContactId": "uid-1",
        "sessionId": "s",
        "ContactEmailAddress": "jane@example.com",
    }


def test_hydrated_line_uses_the_variant_id_as_sku() -> None:
    lines = hydrated_lines()
    event = to_discover_event(hydrated_order(), line_item=lines[0], uuid="ruid-1", now=NOW)
    assert event == {
        "type": "a2c",
        "name": "pdp",
        "uuid": "ruid-1",
        "t": NOW_MS,
        "t0": NOW_MS,
        "value": {
            "context": {
                "page": {"locale_language": "en", "locale_country": "us", "locale_currency": "usd"},
                "user": {"id": "buyer01", "email": "jane@example.com"},
            },
            "products": [{"sku": "mug-blue", "price": 10.0, "quantity": 2}],
        },
    }
    payload = to_send_event(
        hydrated_order(),
        line_item=lines[0],
        site_id=SITE_ID,
        contact_id="uid-1",
        session_id="s",
        item_url="https://shop.example.com/p/{ProductID}",
    )
    assert payload == {
        "siteId": SITE_ID,
        "actionType": "ADDED_TO_ORDER",
        "ContactId": "uid-1",
        "sessionId": "s",
        "ContactEmailAddress": "jane@example.com",
        "properties": [
            {
                "product": {
                    "itemCode": "mug-blue",
                    "itemPrice": 10.0,
                    "itemUrl": "https://shop.example.com/p/mug-blue",
                    "itemQuantity": 2,
                    "itemTotalPrice": 18.0,
                    "itemName": "Mug (Blue)",
                    "currencyCode": "USD",
                }
            }
        ],
    }


def test_hydrated_update_with_the_whole_cart() -> None:
    lines = hydrated_lines()
    other = MeUser(id="other", email="other@example.com")
    event = to_discover_event(
        hydrated_order(),
        line_item=lines[1],
        event_type=TrackingEventType.LINE_ITEM_UPDATED,
        cart=lines,
        user=other,
        uuid="ruid-1",
        now=NOW,
    )
    assert event is not None
    assert event["type"] == "status"
    assert event["value"]["products"] == [
        {"sku": "mug-blue", "price": 10.0, "quantity": 2},
        {"sku": "spoon", "price": 5.5, "quantity": 4},
    ]
    assert event["value"]["context"]["user"] == {"id": "other", "email": "other@example.com"}


def test_hydrated_submitted_order() -> None:
    event = to_discover_event(hydrated_order(), line_items=hydrated_lines(), uuid="ruid-1", now=NOW)
    assert event is not None
    assert event["value"]["products"] == [
        {"sku": "mug-blue", "price": 9.0, "price_original": 10.0, "quantity": 2},
        {"sku": "spoon", "price": 5.5, "price_original": 5.5, "quantity": 4},
    ]
    assert event["value"]["checkout"] == {"order_id": "o-1001", "subtotal": 40.0, "total": 42.5}
    payload = to_send_event(
        hydrated_order(), line_items=hydrated_lines(), site_id=SITE_ID, contact_id="uid-1", session_id="s"
    )
    assert payload is not None
    assert payload["properties"][0]["totalPrice"] == 42.5
    assert [p["itemCode"] for p in payload["properties"][0]["products"]] == ["mug-blue", "spoon"]


def test_hydrated_order_needs_lines() -> None:
    with pytest.raises(TypeError, match="line_item="):
        to_discover_event(hydrated_order(), uuid="ruid-1")


def test_other_inputs_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="Cannot map"):
        to_discover_event({"OrderID": "o"}, uuid="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="MessageLineItem or a LineItem"):
        to_discover_event(line("LineItemUpdated"), cart=[{"LineID": "x"}], uuid="x")  # type: ignore[list-item]


# --- MappingError ------------------------------------------------------------------------------------------


def expect_mapping_error(field: str, target: str) -> pytest.RaisesExc[MappingError]:
    return pytest.raises(MappingError, match=f"^{target} requires {field}".replace("[", r"\[").replace("]", r"\]"))


def test_send_identify_without_a_valid_email() -> None:
    for email in (None, "", "not-an-email", "a@b", "two words@example.com"):
        body = {**SESSION_BODY, "Email": email}
        msg = parse_message(body, event_type="UserLoggedIn")
        with pytest.raises(MappingError) as info:
            to_send_event(msg, site_id=SITE_ID, contact_id="u", session_id="s")
        assert (info.value.field, info.value.target) == ("ContactEmailAddress", "Send IDENTIFY")
        assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "site_id", ["", "site-1", "0f8fad5bd9cb469fa16570867728950e", SITE_ID + "0", "{" + SITE_ID + "}"]
)
def test_send_site_id_must_be_a_uuid(site_id: str) -> None:
    with pytest.raises(MappingError) as info:
        to_send_event(session(), site_id=site_id, contact_id="u", session_id="s")
    assert (info.value.field, info.value.target) == ("siteId", "Send")


def test_send_without_a_contact_id() -> None:
    body = {**SESSION_BODY, "UserContext": {"ID": "buyer01"}}
    msg = parse_message(body, event_type="UserLoggedIn")
    with expect_mapping_error("ContactId", "Send"):
        to_send_event(msg, site_id=SITE_ID, contact_id=None, session_id="s")


def test_send_update_without_previous_quantity() -> None:
    with pytest.raises(MappingError) as info:
        to_send_event(line("LineItemUpdated"), site_id=SITE_ID, contact_id="u", session_id="s")
    assert (info.value.field, info.value.target) == ("itemQuantity", "Send ADDED_TO_ORDER")
    assert "previous_quantity" in str(info.value)


def test_send_line_without_a_product_id_and_bad_urls() -> None:
    no_product = line(Product={"ProductName": "Mug"})
    with expect_mapping_error("itemCode", "Send ADDED_TO_ORDER"):
        to_send_event(no_product, site_id=SITE_ID, contact_id="u", session_id="s")
    with expect_mapping_error("itemUrl", "Send ADDED_TO_ORDER"):
        to_send_event(line(), site_id=SITE_ID, contact_id="u", session_id="s", item_url="/p/{ProductID}")
    with expect_mapping_error("itemImage", "Send ADDED_TO_ORDER"):
        to_send_event(line(), site_id=SITE_ID, contact_id="u", session_id="s", item_image=lambda _: "ftp://x/y")
    ok = to_send_event(
        order(), site_id=SITE_ID, contact_id="u", session_id="s", item_url="https://x/{OrderID}/{LineID}"
    )
    assert ok is not None
    assert ok["properties"][0]["products"][1]["itemUrl"] == "https://x/o-1001/li-2"
    no_line_id = parse_message({"OrderID": "o", "LineItems": [{"Product": {"ProductID": "x"}, "Quantity": 1}]})
    with expect_mapping_error("itemUrl", "Send ORDER_COMPLETED"):
        to_send_event(no_line_id, site_id=SITE_ID, contact_id="u", session_id="s", item_url="https://x/{LineID}")


def test_discover_without_uuid_or_user_id() -> None:
    body = {**SESSION_BODY, "UserContext": {"ID": "buyer01", "AnonymousId": None}}
    msg = parse_message(body, event_type="UserLoggedIn")
    with pytest.raises(MappingError) as info:
        to_discover_event(msg)
    assert (info.value.field, info.value.target) == ("uuid", "Discover")


def test_discover_login_without_a_user() -> None:
    msg = parse_message({"UserContext": {"AnonymousId": ANON}, "FirstName": "Jane"})
    with expect_mapping_error("value.context.user", "Discover user:login"):
        to_discover_event(msg)


def test_discover_status_cart_needs_the_cart() -> None:
    with pytest.raises(MappingError) as info:
        to_discover_event(line("LineItemUpdated"))
    assert (info.value.field, info.value.target) == ("value.products", "Discover status:cart")
    assert "cart=" in str(info.value)


def test_discover_delta_needs_previous_quantity() -> None:
    with expect_mapping_error("value.products[0].quantity", "Discover a2c"):
        to_discover_event(line("LineItemUpdated"), line_update="delta")


def test_discover_a2c_missing_fields() -> None:
    with expect_mapping_error("products[].sku", "Discover a2c"):
        to_discover_event(line(Product=None))
    with expect_mapping_error("products[].price", "Discover a2c"):
        to_discover_event(line(Price=None, Product={"ProductID": "SKU-123"}))
    with expect_mapping_error("products[].quantity", "Discover a2c"):
        to_discover_event(line(Quantity=None))
    no_line = parse_message({"OrderId": "o", "UserContext": {"AnonymousId": ANON}}, event_type="LineItemAdded")
    with expect_mapping_error("value.products", "Discover a2c"):
        to_discover_event(no_line)
    with expect_mapping_error("properties[0].product", "Send ADDED_TO_ORDER"):
        to_send_event(no_line, site_id=SITE_ID, contact_id=None, session_id="s")


def test_discover_order_confirm_missing_totals() -> None:
    for field, key in (("subtotal", "OrderSubtotal"), ("total", "OrderTotal"), ("order_id", "OrderID")):
        body = {k: v for k, v in ORDER_BODY.items() if k != key}
        msg = parse_message(body, event_type="OrderSubmitted")
        with expect_mapping_error(f"value.checkout.{field}", "Discover order:confirm"):
            to_discover_event(msg)
    no_price = {**ORDER_BODY, "LineItems": [{"Product": {"ProductID": "x"}, "Quantity": 1}]}
    with expect_mapping_error("products[].price", "Discover order:confirm"):
        to_discover_event(parse_message(no_price))


def test_unknown_messages_cannot_be_mapped() -> None:
    unknown = parse_message({"EventType": "LineItemDeleted", "Message": {}})
    assert isinstance(unknown, UnknownMessage)
    with expect_mapping_error("event type", "Discover"):
        to_discover_event(unknown, uuid="x")
    with expect_mapping_error("event type", "Send"):
        to_send_event(unknown, site_id=SITE_ID, contact_id="u", session_id="s")


def test_invalid_policy_and_line_event_type() -> None:
    with pytest.raises(ValueError, match="line_update"):
        to_discover_event(line(), line_update="full")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="LineItemAdded or LineItemUpdated"):
        to_discover_event(line(), event_type="OrderSubmitted")
