"""Delivered tracking messages: models, parse_message (types, envelopes, shapes) and the builders."""

from __future__ import annotations

import ast
import copy
import doctest
import importlib.util
import inspect
import itertools
import json
import subprocess
import sys
from collections.abc import Collection
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ordercloud_tracking import messages
from ordercloud_tracking._errors import InvalidPayloadError
from ordercloud_tracking.messages import (
    MESSAGE_CLASSES,
    MessageLineItem,
    OrderLineAdded,
    OrderLineMessage,
    OrderLineUpdated,
    OrderSubmitted,
    SessionIdentified,
    TrackingMessage,
    UnknownMessage,
    UserContext,
    message_class_for,
    order_line,
    order_submitted,
    parse_message,
    session_identified,
)
from ordercloud_tracking.models._base import OCModel
from ordercloud_tracking.models.commerce import LineItem, Locale, MeUser, Order, Payment, User
from ordercloud_tracking.models.tracking import TrackingEventType

# --- golden payloads (ordercloud-api.md §8) -------------------------------------------------------------

SESSION_BODY: dict[str, Any] = {
    "UserContext": {"ID": "buyer01", "AnonymousId": "7c9e6679742540de944be07fc1f90ae7"},
    "Language": "en-US",
    "Currency": "USD",
    "Email": "jane@example.com",
    "FirstName": "Jane",
    "LastName": "Doe",
}

LINE_BODY: dict[str, Any] = {
    "UserContext": {"ID": None, "AnonymousId": "7c9e6679742540de944be07fc1f90ae7"},
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
            "xp": {},
        },
        "Quantity": 2,
        "Price": 10.0,
        "LineTotal": 18.0,
        "LineSubTotal": 20.0,
        "xp": {},
    },
}

ORDER_BODY: dict[str, Any] = {
    "UserContext": {"ID": "buyer01", "AnonymousId": "7c9e6679742540de944be07fc1f90ae7"},
    "OrderID": "o-1001",
    "Currency": "USD",
    "Email": "jane@example.com",
    "OrderDate": "2024-05-01T12:00:00+00:00",
    "OrderStatus": "Open",
    "OrderTotal": 42.5,
    "OrderSubtotal": 40.0,
    "Payments": [{"ID": "p-1", "Type": "CreditCard", "Amount": 42.5, "xp": {"CardType": "Visa"}}],
    "LineItems": [
        {
            "LineID": "li-1",
            "Product": {"ProductID": "SKU-123", "ProductName": "Mug", "Price": 10.0, "Variant": None, "xp": {}},
            "Quantity": 2,
            "Price": 10.0,
            "LineTotal": 18.0,
            "LineSubTotal": 20.0,
            "xp": {"GiftWrap": True},
        },
        {
            "LineID": "li-2",
            "Product": {"ProductID": "SKU-9", "ProductName": "Spoon", "Price": 5.5},
            "Quantity": 4,
            "Price": 5.5,
            "LineTotal": 22.0,
            "LineSubTotal": 22.0,
            "xp": {},
        },
    ],
    "xp": {"Channel": "web"},
}

BODIES: dict[type[TrackingMessage], dict[str, Any]] = {
    SessionIdentified: SESSION_BODY,
    OrderLineAdded: LINE_BODY,
    OrderLineUpdated: LINE_BODY,
    OrderSubmitted: ORDER_BODY,
}

NAMES: dict[type[TrackingMessage], tuple[str, str, str]] = {
    SessionIdentified: (
        "UserLoggedIn",
        "sitecore.backbone.messages.sessions.identified",
        "sitecore.ordercloud.messages.sessions.identified",
    ),
    OrderLineAdded: (
        "LineItemAdded",
        "sitecore.backbone.messages.orders.lines.added",
        "sitecore.ordercloud.messages.orders.lines.added",
    ),
    OrderLineUpdated: (
        "LineItemUpdated",
        "sitecore.backbone.messages.orders.lines.updated",
        "sitecore.ordercloud.messages.orders.lines.updated",
    ),
    OrderSubmitted: (
        "OrderSubmitted",
        "sitecore.backbone.messages.orders.submitted",
        "sitecore.ordercloud.messages.orders.submitted",
    ),
}


def encode(data: object) -> bytes:
    return json.dumps(data).encode()


# --- module hygiene ---------------------------------------------------------------------------------------


def test_doctests() -> None:
    result = doctest.testmod(messages, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def attribute_docstrings(module: ModuleType) -> dict[str, str]:
    """The docstrings written under module-level assignments (constants and type aliases)."""
    tree = ast.parse(inspect.getsource(module))
    found: dict[str, str] = {}
    for before, node in itertools.pairwise(tree.body):
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            continue
        if not isinstance(node.value.value, str):
            continue
        target = before.targets[0] if isinstance(before, ast.Assign) else getattr(before, "target", None)
        if isinstance(target, ast.Name):
            found[target.id] = node.value.value
    return found


def check_public_docstrings(module: ModuleType, reader_starts: Collection[str] = ()) -> None:
    """Every name in ``__all__`` has a docstring, the ``reader_starts`` one with an example, and the examples
    of the constants and type aliases (which ``doctest`` does not see) pass."""
    attributes = attribute_docstrings(module)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for name in module.__all__:
        obj = getattr(module, name)
        doc = (obj.__doc__ or "") if inspect.isclass(obj) or inspect.isfunction(obj) else attributes.get(name, "")
        assert doc.strip(), f"{name}: no docstring"
        assert name not in reader_starts or ">>>" in doc, f"{name}: a reader starts here, but there is no example"
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            runner.run(
                doctest.DocTestParser().get_doctest(doc, dict(vars(module)), f"{module.__name__}.{name}", None, 0)
            )
    assert runner.failures == 0, "an example of a constant or type alias failed"


def test_all_is_sorted_and_documented() -> None:
    check_public_docstrings(messages, reader_starts={"parse_message"})
    assert messages.__all__ == sorted(messages.__all__)


def test_the_docstring_check_finds_what_is_missing(tmp_path: Path) -> None:
    source = tmp_path / "written_for_the_test.py"
    source.write_text(
        'def start() -> None:\n    """Documented, without an example."""\n\n\n'
        "def bare() -> None: ...\n\n\n"
        'LIMIT = 1\n"""A constant whose example fails.\n\n>>> LIMIT\n2\n"""\n',
        encoding="utf-8",
    )
    spec = importlib.util.spec_from_file_location("written_for_the_test", source)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cases = {("bare",): "bare: no docstring", ("LIMIT",): "an example of a constant", ("start",): None}
    for names, problem in cases.items():
        setattr(module, "__all__", list(names))  # noqa: B010 - a ModuleType has no declared __all__
        if problem is None:
            check_public_docstrings(module)
        else:
            with pytest.raises(AssertionError, match=problem):
                check_public_docstrings(module)
    with pytest.raises(AssertionError, match="start: a reader starts here"):
        check_public_docstrings(module, reader_starts={"start"})


def test_import_does_not_load_httpx() -> None:
    code = "import sys, ordercloud_tracking.messages; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("cls", MESSAGE_CLASSES)
def test_each_class_knows_its_event_and_both_namespaces(cls: type[TrackingMessage]) -> None:
    event_type, backbone, namespace = NAMES[cls]
    assert cls.event_type == TrackingEventType(event_type)
    assert cls.event_type.is_known
    assert cls.backbone_type == backbone
    assert cls.namespace == namespace


# --- golden payloads ---------------------------------------------------------------------------------------


def test_session_identified_golden() -> None:
    msg = parse_message(encode(SESSION_BODY))
    assert isinstance(msg, SessionIdentified)
    assert msg.user_context == UserContext(id="buyer01", anonymous_id="7c9e6679742540de944be07fc1f90ae7")
    assert (msg.language, msg.currency, msg.email) == ("en-US", "USD", "jane@example.com")
    assert (msg.first_name, msg.last_name) == ("Jane", "Doe")
    assert msg.user_id == "buyer01"
    assert msg.type_inferred is True
    assert msg.envelope is None
    assert msg.to_request() == SESSION_BODY


def test_order_line_golden() -> None:
    msg = parse_message(encode(LINE_BODY), event_type="LineItemAdded")
    assert isinstance(msg, OrderLineAdded)
    assert msg.order_id == "o-1001"
    assert msg.user_id is None
    assert msg.anonymous_id == "7c9e6679742540de944be07fc1f90ae7"
    line = msg.line_item
    assert line is not None
    assert line.product is not None
    assert line.product.variant is not None
    assert line.line_id == "li-1"
    assert line.quantity == Decimal(2)
    assert (line.price, line.line_total, line.line_subtotal) == (Decimal("10"), Decimal("18"), Decimal("20"))
    assert line.product.product_id == "SKU-123"
    assert line.product.variant.variant_name == "Blue"
    assert msg.type_inferred is False
    assert msg.to_request() == LINE_BODY
    assert msg.to_request()["LineItem"]["LineSubTotal"] == 20  # capital T, as documented


def test_order_submitted_golden() -> None:
    msg = parse_message(encode(ORDER_BODY))
    assert isinstance(msg, OrderSubmitted)
    assert msg.order_id == "o-1001"
    assert msg.order_total == Decimal("42.5")
    assert msg.order_subtotal == Decimal("40")
    assert msg.order_date == "2024-05-01T12:00:00+00:00"
    assert msg.payments == [{"ID": "p-1", "Type": "CreditCard", "Amount": 42.5, "xp": {"CardType": "Visa"}}]
    assert msg.line_items is not None
    assert len(msg.line_items) == 2
    assert msg.line_items[1].quantity == Decimal(4)
    assert msg.xp == {"Channel": "web"}
    assert msg.to_request() == ORDER_BODY
    dumped = json.loads(msg.model_dump_json(by_alias=True, exclude_unset=True))
    assert dumped == ORDER_BODY


def test_casing_is_exact_per_model() -> None:
    # OrderId on a line message, OrderID on the order message: the other spelling is just an extra field.
    line = parse_message({"OrderID": "x", "LineItem": {}}, event_type="LineItemAdded")
    assert isinstance(line, OrderLineAdded)
    assert line.order_id is None
    assert line.to_request()["OrderID"] == "x"
    order = parse_message({"OrderId": "y", "LineItems": []})
    assert isinstance(order, OrderSubmitted)
    assert order.order_id is None
    # API spelling LineSubtotal is not the message's LineSubTotal.
    item = MessageLineItem.model_validate({"LineSubtotal": 3})
    assert item.line_subtotal is None
    assert item.to_request() == {"LineSubtotal": 3}


def test_unknown_fields_are_kept_everywhere() -> None:
    body = copy.deepcopy(LINE_BODY)
    body["NewTopLevel"] = {"a": 1}
    body["LineItem"]["Product"]["Variant"]["VariantID"] = "v-9"
    body["UserContext"]["SessionID"] = "s-1"
    msg = parse_message(encode(body))
    assert isinstance(msg, OrderLineAdded)
    assert msg.to_request() == body


@pytest.mark.parametrize(("quantity", "written"), [(2, 2), (2.0, 2), (1.5, 1.5), ("3", 3)])
def test_quantity_is_decimal_or_int(quantity: object, written: object) -> None:
    msg = parse_message({"OrderId": "o", "LineItem": {"Quantity": quantity}})
    assert isinstance(msg, OrderLineAdded)
    assert msg.line_item is not None
    assert isinstance(msg.line_item.quantity, Decimal)
    assert msg.to_request()["LineItem"]["Quantity"] == written


def test_decimals_are_exact_from_bytes() -> None:
    msg = parse_message(b'{"OrderID": "o", "OrderTotal": 0.1, "OrderSubtotal": 1234567.891, "LineItems": []}')
    assert isinstance(msg, OrderSubmitted)
    assert msg.order_total == Decimal("0.1")
    assert msg.order_subtotal == Decimal("1234567.891")


def test_unit_price_falls_back_to_product_price() -> None:
    assert MessageLineItem.model_validate({"Price": 3, "Product": {"Price": 4}}).unit_price == Decimal(3)
    assert MessageLineItem.model_validate({"Product": {"Price": 4}}).unit_price == Decimal(4)
    assert MessageLineItem.model_validate({}).unit_price is None


# --- type names: explicit, both prefixes, envelopes ---------------------------------------------------


@pytest.mark.parametrize("cls", MESSAGE_CLASSES)
@pytest.mark.parametrize("which", [0, 1, 2])
def test_explicit_type_by_any_name(cls: type[TrackingMessage], which: int) -> None:
    name = NAMES[cls][which]
    for given_name in (name, name.upper(), f"  {name} "):
        msg = parse_message(encode(BODIES[cls]), event_type=given_name)
        assert type(msg) is cls
        assert msg.type_inferred is False
    assert type(parse_message(BODIES[cls], event_type=cls)) is cls
    assert type(parse_message(BODIES[cls], event_type=cls.event_type)) is cls


@pytest.mark.parametrize("cls", MESSAGE_CLASSES)
@pytest.mark.parametrize("which", [0, 1, 2])
@pytest.mark.parametrize("type_key", ["EventType", "Type", "type", "Namespace", "MessageType", "event_type"])
@pytest.mark.parametrize("payload_key", ["Message", "Payload", "Body", "Data", "data", "message"])
def test_type_found_in_an_envelope(cls: type[TrackingMessage], which: int, type_key: str, payload_key: str) -> None:
    body = {type_key: NAMES[cls][which], "ID": "d-1", payload_key: BODIES[cls]}
    msg = parse_message(encode(body))
    assert type(msg) is cls
    assert msg.type_inferred is False
    assert msg.envelope == {type_key: NAMES[cls][which], "ID": "d-1"}
    assert msg.to_request() == BODIES[cls]
    assert type(parse_message(body)) is cls  # same from a mapping


def test_flat_envelope_type_beside_the_fields() -> None:
    body = {"EventType": "sitecore.ordercloud.messages.orders.lines.updated", "MessageId": "m-7", **LINE_BODY}
    parsed = messages.decode_delivery(encode(body))
    assert isinstance(parsed.message, OrderLineUpdated)
    assert parsed.delivery_key == "m-7"
    assert parsed.message.to_request() == body  # the envelope keys are kept as unknown fields


def test_sns_style_wrapper_with_a_json_string_payload() -> None:
    body = {
        "Type": "Notification",  # not an event type: ignored
        "MessageId": "sns-1",
        "Message": json.dumps(ORDER_BODY),
    }
    parsed = messages.decode_delivery(encode(body))
    assert isinstance(parsed.message, OrderSubmitted)
    assert parsed.message.type_inferred is True
    assert parsed.delivery_key == "sns-1"


def test_cloudevents_style_wrapper() -> None:
    body = {
        "specversion": "1.0",
        "type": "sitecore.backbone.messages.orders.lines.updated",
        "id": "ce-1",
        "source": "ordercloud",
        "data": LINE_BODY,
    }
    parsed = messages.decode_delivery(encode(body))
    assert isinstance(parsed.message, OrderLineUpdated)
    assert parsed.delivery_key == "ce-1"


def test_nested_wrappers_and_outermost_id_wins() -> None:
    body = {"DeliveryId": "outer", "Body": {"Id": "inner", "EventType": "UserLoggedIn", "Payload": SESSION_BODY}}
    parsed = messages.decode_delivery(encode(body))
    assert isinstance(parsed.message, SessionIdentified)
    assert parsed.delivery_key == "outer"
    assert parsed.message.envelope == {"DeliveryId": "outer"}


def test_blank_type_names_declare_nothing() -> None:
    msg = parse_message({"EventType": " ", "Type": "", "Message": ORDER_BODY})
    assert isinstance(msg, OrderSubmitted)
    assert msg.type_inferred


def test_explicit_type_wins_over_the_envelope() -> None:
    body = {"EventType": "LineItemAdded", "Message": LINE_BODY}
    assert type(parse_message(body, event_type="LineItemUpdated")) is OrderLineUpdated


def test_message_class_for() -> None:
    assert message_class_for("orders.lines.updated") is OrderLineUpdated
    assert message_class_for(TrackingEventType.ORDER_SUBMITTED) is OrderSubmitted
    assert message_class_for(OrderSubmitted) is OrderSubmitted
    assert message_class_for(TrackingMessage) is None
    assert message_class_for("sitecore.ordercloud.messages.ordersync.updated") is None


# --- shape recognition -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"LineItems": []}, OrderSubmitted),
        ({"OrderID": "o", "OrderTotal": 1}, OrderSubmitted),
        ({"OrderStatus": "Open"}, OrderSubmitted),
        ({"LineItem": {"LineID": "x"}}, OrderLineAdded),
        ({"OrderId": "o"}, OrderLineAdded),
        ({"FirstName": "Jane"}, SessionIdentified),
        ({"LastName": "Doe", "UserContext": {"ID": "u"}}, SessionIdentified),
        ({"FirstName": "Jane", "OrderID": "o"}, OrderSubmitted),  # order fields win over names
    ],
)
def test_shape_recognition(body: dict[str, Any], expected: type[TrackingMessage]) -> None:
    for msg in (parse_message(body), parse_message(encode(body))):
        assert type(msg) is expected
        assert isinstance(msg, TrackingMessage)
        assert msg.type_inferred is True


def test_ambiguous_line_defaults_to_added_and_is_marked() -> None:
    msg = parse_message(encode(LINE_BODY))
    assert isinstance(msg, OrderLineAdded)
    assert isinstance(msg, OrderLineMessage)
    assert msg.type_inferred is True
    assert msg.event_type == TrackingEventType.LINE_ITEM_ADDED


# --- unknown shapes and errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"hello": "world"},
        {"Email": "jane@example.com", "UserContext": {"ID": "u"}},
        {"Route": "v1/buyers/{buyerID}", "Verb": "POST", "Request": {"Body": {}}},  # a webhook envelope
        {"LineItems": "not a list"},  # recognised, but does not validate
        {"OrderId": 5, "LineItem": []},
        {"Data": {"Data": {"Data": {"Data": {"Data": SESSION_BODY}}}}},  # deeper than four wrappers
    ],
)
def test_unknown_shapes_give_unknown_message(body: dict[str, Any]) -> None:
    for msg in (parse_message(body), parse_message(encode(body))):
        assert isinstance(msg, UnknownMessage)
        assert msg.data == body
        assert msg.to_request() == body
        assert msg.event_type is None


def test_unknown_declared_type_is_not_guessed_from_shape() -> None:
    msg = parse_message({"EventType": "LineItemDeleted", "Message": LINE_BODY})
    assert isinstance(msg, UnknownMessage)
    assert msg.type_name == "LineItemDeleted"
    assert msg.event_type == "LineItemDeleted"
    assert msg.event_type is not None
    assert not msg.event_type.is_known
    sync = parse_message({"Namespace": "sitecore.ordercloud.messages.ordersync.updated", "Data": {"ID": "o"}})
    assert isinstance(sync, UnknownMessage)
    assert sync.type_name == "sitecore.ordercloud.messages.ordersync.updated"
    assert sync.event_type is None
    # a generic "type" key counts when it names a sitecore type
    other = parse_message({"type": "sitecore.backbone.messages.carts.abandoned", "data": LINE_BODY})
    assert isinstance(other, UnknownMessage)


def test_unknown_explicit_type() -> None:
    msg = parse_message(encode(LINE_BODY), event_type="SomethingNew")
    assert isinstance(msg, UnknownMessage)
    assert msg.type_name == "SomethingNew"


def test_known_type_that_does_not_validate_keeps_its_name() -> None:
    msg = parse_message({"EventType": "OrderSubmitted", "Message": {"LineItems": 3}})
    assert isinstance(msg, UnknownMessage)
    assert msg.type_name == "OrderSubmitted"


@pytest.mark.parametrize("body", [b"", b"not json", b"{", b"\xff\xfe{}", "{\udc80}", b'{"a": }'])
def test_invalid_json_raises_a_value_error(body: bytes | str) -> None:
    with pytest.raises(InvalidPayloadError) as info:
        parse_message(body)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("body", [b"[]", b"[{}]", b"3", b'"text"', b"null", b"true"])
def test_json_that_is_not_an_object_raises(body: bytes) -> None:
    with pytest.raises(InvalidPayloadError, match="not an object"):
        parse_message(body)


def test_bom_and_text_bodies() -> None:
    assert isinstance(parse_message(b"\xef\xbb\xbf" + encode(ORDER_BODY)), OrderSubmitted)
    assert isinstance(parse_message(json.dumps(ORDER_BODY)), OrderSubmitted)
    assert isinstance(parse_message(bytearray(encode(ORDER_BODY))), OrderSubmitted)
    assert isinstance(parse_message(memoryview(encode(ORDER_BODY))), OrderSubmitted)


def test_other_body_types_are_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_message(3)  # type: ignore[arg-type]


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
_JSON = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=12,
)
_KEYS = st.sampled_from(
    ["UserContext", "LineItem", "LineItems", "OrderID", "OrderId", "OrderTotal", "FirstName", "LastName",
     "Quantity", "Email", "EventType", "Type", "type", "Message", "Data", "Body", "ID", "xp", "Payments"]
)  # fmt: skip
_TYPE_NAMES = st.sampled_from([name for names in NAMES.values() for name in names] + ["Other", "sitecore.x"])
_OBJECTS = st.dictionaries(_KEYS | st.text(max_size=8), _JSON | _TYPE_NAMES | st.just(LINE_BODY), max_size=6)


@given(_OBJECTS)
def test_any_json_object_parses_without_raising(obj: dict[str, Any]) -> None:
    from_mapping = parse_message(obj)
    from_bytes = parse_message(json.dumps(obj).encode())
    assert type(from_mapping) is type(from_bytes)
    assert from_mapping.to_request() == from_bytes.to_request()


# --- builders --------------------------------------------------------------------------------------------


def _order(**extra: Any) -> Order:
    body: dict[str, Any] = {
        "ID": "o-1001",
        "FromUser": {"ID": "buyer01", "Email": "jane@example.com", "Locale": {"Language": "en-US"}},
        "FromUserID": "buyer01",
        "Status": "Open",
        "Currency": "USD",
        "DateCreated": "2024-05-01T12:00:00+00:00",
        "DateSubmitted": "2024-05-01T12:30:00+00:00",
        "Subtotal": 40,
        "PromotionDiscount": 2,
        "ShippingCost": 4.5,
        "Total": 42.5,
        "xp": {"Channel": "web"},
    }
    body.update(extra)
    return Order.from_api(body)


def _line(**extra: Any) -> LineItem:
    body: dict[str, Any] = {
        "ID": "li-1",
        "ProductID": "SKU-123",
        "Quantity": 2,
        "UnitPrice": 10,
        "PromotionDiscount": 2,
        "LineSubtotal": 20,
        "LineTotal": 18,
        "Product": {"ID": "SKU-123", "Name": "Mug", "Description": "Blue mug", "xp": {"Images": []}},
        "Variant": {"ID": "SKU-123-blue", "Name": "Blue", "Description": "Blue, 350 ml"},
        "xp": {"GiftWrap": True},
    }
    body.update(extra)
    return LineItem.from_api(body)


def test_session_identified_builder() -> None:
    user = User(
        id="buyer01",
        username="jane",
        first_name="Jane",
        last_name="Doe",
        email="jane@example.com",
        active=True,
        locale=Locale(language="en-US", currency="USD"),
    )
    msg = session_identified(user, anon_user_id="7c9e6679742540de944be07fc1f90ae7")
    assert msg.to_request() == SESSION_BODY
    assert parse_message(msg.model_dump_json(by_alias=True)).to_request() == SESSION_BODY
    override = session_identified(user, locale=Locale(language="fr-FR", currency="EUR"))
    assert override.to_request() == {
        "UserContext": {"ID": "buyer01", "AnonymousId": None},
        "Language": "fr-FR",
        "Currency": "EUR",
        "Email": "jane@example.com",
        "FirstName": "Jane",
        "LastName": "Doe",
    }
    no_locale = session_identified(MeUser(id="u"))
    assert no_locale.to_request() == {
        "UserContext": {"ID": "u", "AnonymousId": None},
        "Language": None,
        "Currency": None,
        "Email": None,
        "FirstName": None,
        "LastName": None,
    }


def test_order_line_builder_for_an_anonymous_shopper() -> None:
    order = _order(FromUser={"ID": "anon-template-user"}, FromUserID="anon-template-user")
    msg = order_line(order, _line(), event_type="LineItemAdded", anon_user_id="7c9e", language="en")
    assert isinstance(msg, OrderLineAdded)
    assert msg.to_request() == {
        "UserContext": {"ID": None, "AnonymousId": "7c9e"},
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
                "Price": 10,
                "Variant": {"VariantName": "Blue", "VariantDescription": "Blue, 350 ml"},
                "xp": {"Images": []},
            },
            "Quantity": 2,
            "Price": 10,
            "LineTotal": 18,
            "LineSubTotal": 20,
            "xp": {"GiftWrap": True},
        },
    }


def test_order_line_builder_for_a_known_shopper() -> None:
    me = MeUser(id="buyer01", email="jane@example.com", locale=Locale(language="en-GB"))
    msg = order_line(_order(), _line(Variant=None), event_type=TrackingEventType.LINE_ITEM_UPDATED, user=me)
    assert isinstance(msg, OrderLineUpdated)
    body = msg.to_request()
    assert body["UserContext"] == {"ID": "buyer01", "AnonymousId": None}
    assert body["Language"] == "en-GB"
    assert body["Email"] == "jane@example.com"
    assert body["LineItem"]["Product"]["Variant"] is None
    # without user=: the order's FromUser, and its locale
    implicit = order_line(_order(), _line(), event_type="sitecore.ordercloud.messages.orders.lines.added")
    assert isinstance(implicit, OrderLineAdded)
    assert implicit.user_context == UserContext(id="buyer01", anonymous_id=None)
    assert implicit.language == "en-US"
    assert implicit.email == "jane@example.com"


def test_order_line_builder_rejects_other_types() -> None:
    with pytest.raises(ValueError, match="line event type"):
        order_line(_order(), _line(), event_type="OrderSubmitted")


def test_order_submitted_builder() -> None:
    lines = [
        _line(Variant=None, Product={"ID": "SKU-123", "Name": "Mug", "xp": {}}, xp={"GiftWrap": True}),
        _line(ID="li-2", ProductID="SKU-9", Quantity=4, UnitPrice=5.5, PromotionDiscount=0, LineSubtotal=22,
              LineTotal=22, Product={"ID": "SKU-9", "Name": "Spoon"}, Variant=None, xp={}),
    ]  # fmt: skip
    payment = Payment.from_api({"ID": "p-1", "Type": "CreditCard", "Amount": 42.5, "xp": {"CardType": "Visa"}})
    msg = order_submitted(_order(), lines, anon_user_id="7c9e6679742540de944be07fc1f90ae7", payments=[payment])
    expected = copy.deepcopy(ORDER_BODY)
    expected["LineItems"][0]["Product"] = {
        "ProductID": "SKU-123",
        "ProductName": "Mug",
        "ProductDescription": None,
        "Price": 10.0,
        "Variant": None,
        "xp": {},
    }
    expected["LineItems"][1]["Product"] = {
        "ProductID": "SKU-9",
        "ProductName": "Spoon",
        "ProductDescription": None,
        "Price": 5.5,
        "Variant": None,
        "xp": None,
    }
    # Without user=, an anon_user_id marks the shopper anonymous: no ID.
    expected["UserContext"] = {"ID": None, "AnonymousId": "7c9e6679742540de944be07fc1f90ae7"}
    assert msg.to_request() == expected
    known = order_submitted(_order(), lines, user=MeUser(id="buyer01", email="jane@example.com"))
    assert known.to_request()["UserContext"] == {"ID": "buyer01", "AnonymousId": None}
    assert known.order_date == "2024-05-01T12:00:00+00:00"
    assert known.payments == []


def test_order_submitted_date_falls_back_and_is_aware() -> None:
    order = _order()
    order.date_created = None
    order.date_submitted = datetime(2024, 5, 2, 8, 0)  # naive: taken as UTC
    msg = order_submitted(order, [], payments=[{"Type": "PurchaseOrder"}])
    assert msg.order_date == "2024-05-02T08:00:00+00:00"
    assert msg.payments == [{"Type": "PurchaseOrder"}]
    assert msg.line_items == []
    assert datetime.fromisoformat(msg.order_date).tzinfo == timezone.utc


@pytest.mark.parametrize(
    "cls", [UserContext, messages.MessageVariant, messages.MessageProduct, MessageLineItem, *MESSAGE_CLASSES]
)
def test_message_models_skip_the_api_fill_validator(cls: type[OCModel]) -> None:
    # All message fields are optional, so OCModel adds no wrapping validator (which would cost a Python
    # call per nested object; see the receiver benchmark): the schema is the plain model schema.
    assert cls.__pydantic_core_schema__["type"] == "model"


def test_models_with_write_only_required_fields_keep_the_api_fill_validator() -> None:
    from ordercloud_tracking.models.delivery import HttpConfig

    assert HttpConfig.__pydantic_core_schema__["type"] == "function-wrap"
    assert HttpConfig.from_api({"Endpoint": "https://x.test"}).secret is None


# --- the Http envelope {"Headers": {"type": ...}, "Payload": {...}} (issue 12 §1) ---------------------------


def envelope(
    type_name: str, payload: object, *, headers: str = "Headers", type_key: str = "type", payload_key: str = "Payload"
) -> dict[str, Any]:
    return {headers: {type_key: type_name}, payload_key: payload}


def test_the_envelope_type_tells_updated_from_added() -> None:
    # Today's regression: Headers.type was ignored and a line update parsed as OrderLineAdded.
    body = envelope("sitecore.ordercloud.messages.orders.lines.updated", LINE_BODY)
    for given_body in (body, encode(body), json.dumps(body, indent=2)):
        msg = parse_message(given_body)
        assert type(msg) is OrderLineUpdated
        assert msg.type_inferred is False
        assert msg.to_request() == LINE_BODY
        assert msg.envelope == {"Headers": {"type": "sitecore.ordercloud.messages.orders.lines.updated"}}


@pytest.mark.parametrize("cls", MESSAGE_CLASSES)
@pytest.mark.parametrize("which", [0, 1, 2])
@pytest.mark.parametrize(
    ("headers", "type_key", "payload_key"),
    [("Headers", "type", "Payload"), ("headers", "Type", "payload"), ("HEADERS", "TYPE", "PAYLOAD")],
)
def test_envelope_in_every_form(
    cls: type[TrackingMessage], which: int, headers: str, type_key: str, payload_key: str
) -> None:
    body = envelope(NAMES[cls][which], BODIES[cls], headers=headers, type_key=type_key, payload_key=payload_key)
    reordered = dict(reversed(list(body.items())))  # Payload first: the full path
    for given_body in (encode(body), encode(reordered), body):
        msg = parse_message(given_body)
        assert type(msg) is cls
        assert msg.type_inferred is False
        assert msg.to_request() == BODIES[cls]


def test_envelope_with_more_keys_or_odd_spacing_still_routes_on_headers_type() -> None:
    name = "sitecore.ordercloud.messages.orders.lines.updated"
    bodies = [
        {"Headers": {"type": name, "x-oc-other": "1"}, "Payload": LINE_BODY, "Sent": "2026-12-01"},
        {"Headers": {"type": name}, "Payload": LINE_BODY, "EventType": "LineItemAdded"},  # Headers.type wins
        {"Headers": {"type": name}, "Payload": json.dumps(LINE_BODY)},  # the payload as a JSON string
    ]
    for body in bodies:
        assert type(parse_message(encode(body))) is OrderLineUpdated
    spaced = b' \n{ "Headers" :{"type":"' + name.encode() + b'"} ,\n "Payload" : ' + encode(LINE_BODY) + b" \n}\n "
    assert type(parse_message(spaced)) is OrderLineUpdated


def test_an_unknown_envelope_type_is_an_unknown_message() -> None:
    body = envelope("sitecore.ordercloud.messages.ordersync.updated", {"ID": "o-1", "Status": 3})
    msg = parse_message(encode(body))
    assert isinstance(msg, UnknownMessage)
    assert msg.type_name == "sitecore.ordercloud.messages.ordersync.updated"
    assert msg.data == body


def test_a_headers_type_that_names_no_event_is_ignored() -> None:
    msg = parse_message(encode(envelope("application/json", LINE_BODY)))
    assert type(msg) is OrderLineAdded
    assert msg.type_inferred is True


def test_explicit_event_type_still_overrides_the_envelope() -> None:
    body = encode(envelope("sitecore.ordercloud.messages.orders.lines.added", LINE_BODY))
    assert type(parse_message(body, event_type="LineItemUpdated")) is OrderLineUpdated


def test_a_type_hint_only_names_a_bare_body() -> None:
    added = encode(envelope("sitecore.ordercloud.messages.orders.lines.added", LINE_BODY))
    assert type(messages.decode_delivery(added, type_hint="LineItemUpdated").message) is OrderLineAdded
    assert type(messages.decode_delivery(encode(LINE_BODY), type_hint="LineItemUpdated").message) is OrderLineUpdated
    assert type(messages.decode_delivery(encode(LINE_BODY), type_hint="nonsense").message) is OrderLineAdded


@pytest.mark.parametrize("cls", MESSAGE_CLASSES)
def test_dedupe_keys_are_the_same_enveloped_or_bare(cls: type[TrackingMessage]) -> None:
    bare = json.dumps(BODIES[cls], separators=(",", ":")).encode()
    enveloped = b'{"Headers":{"type":"' + cls.namespace.encode() + b'"},"Payload":' + bare + b"}"
    decoded_bare = messages.decode_delivery(bare, event_type=cls)
    decoded_envelope = messages.decode_delivery(enveloped)
    assert type(decoded_envelope.message) is cls
    assert decoded_bare.delivery_key == decoded_envelope.delivery_key != ""
    assert decoded_bare.fingerprint == decoded_envelope.fingerprint != ""
    assert decoded_bare.message.to_request() == decoded_envelope.message.to_request()


def test_the_envelope_of_the_fake_is_decoded_like_its_bare_message() -> None:
    # whatever path a body takes (validated from bytes, or decoded then validated), the result is the same
    for cls in MESSAGE_CLASSES:
        body = envelope(cls.namespace, BODIES[cls])
        fast = messages.decode_delivery(encode(body))
        full = messages.decode_delivery(body)
        assert type(fast.message) is type(full.message) is cls
        assert fast.message.to_request() == full.message.to_request()
        assert fast.delivery_key == full.delivery_key


@given(
    payload=st.fixed_dictionaries(
        {
            "OrderId": st.text(min_size=1, max_size=5),
            "LineItem": st.fixed_dictionaries(
                {"LineID": st.text(min_size=1, max_size=5), "Quantity": st.integers(0, 99)}
            ),
        },
        optional={
            "Extra": st.text(max_size=5),
            "Headers": st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
        },
    ),
    which=st.sampled_from(["added", "updated"]),
    indent=st.sampled_from([None, 0, 2]),
)
def test_envelope_fast_and_full_paths_agree(payload: dict[str, Any], which: str, indent: int | None) -> None:
    body = {"Headers": {"type": f"sitecore.ordercloud.messages.orders.lines.{which}"}, "Payload": payload}
    from_bytes = parse_message(json.dumps(body, indent=indent).encode())
    from_mapping = parse_message(body)
    assert type(from_bytes) is type(from_mapping) is (OrderLineUpdated if which == "updated" else OrderLineAdded)
    assert from_bytes.to_request() == from_mapping.to_request() == payload


def test_deeply_nested_headers_do_not_escape() -> None:
    body = b'{"Headers": {"type": ' + b"[" * 100_000 + b"]" * 100_000 + b'}, "Payload": {}}'
    with pytest.raises(InvalidPayloadError):
        parse_message(body)


# --- Kafka / Event Hubs records ----------------------------------------------------------------------------


def test_parse_record_uses_the_type_header_for_a_bare_value() -> None:
    value = encode(LINE_BODY)
    name = "sitecore.ordercloud.messages.orders.lines.updated"
    assert type(messages.parse_record(value, name)) is OrderLineUpdated
    assert type(messages.parse_record(value, name.encode())) is OrderLineUpdated
    assert type(messages.parse_record(value.decode(), "LineItemUpdated")) is OrderLineUpdated
    assert type(messages.parse_record(value, b"  ")) is OrderLineAdded
    inferred = messages.parse_record(value, None)
    assert isinstance(inferred, OrderLineAdded)
    assert inferred.type_inferred is True


def test_parse_record_prefers_the_type_inside_the_value() -> None:
    value = encode(envelope("sitecore.ordercloud.messages.orders.lines.added", LINE_BODY))
    assert type(messages.parse_record(value, "sitecore.ordercloud.messages.orders.lines.updated")) is OrderLineAdded
    assert (
        type(messages.parse_record(encode(ORDER_BODY), b"\xff\xfe")) is OrderSubmitted
    )  # junk header: the shape decides
    with pytest.raises(InvalidPayloadError):
        messages.parse_record(b"not json", "LineItemAdded")


# --- enums sent as integers (reference §15) ----------------------------------------------------------------


def test_order_status_codes_follow_the_api_enum() -> None:
    from ordercloud_tracking.models.commerce import OrderStatus

    assert list(messages.ORDER_STATUS_CODES.values()) == [member.value for member in OrderStatus]
    assert list(messages.ORDER_STATUS_CODES) == [1, 2, 3, 4, 5, 6]
    assert messages.USER_TYPE_CODES == {0: "Buyer", 1: "Supplier", 2: "Admin"}


@pytest.mark.parametrize(
    ("code", "text"), [(1, "Unsubmitted"), (4, "Open"), (6, "Canceled"), (9, "9"), ("Open", "Open")]
)
def test_integer_order_status_is_read_as_its_member(code: object, text: str) -> None:
    body = {**ORDER_BODY, "OrderStatus": code, "UserContext": {"ID": "u-1", "UserType": 0}}
    for msg in (parse_message(encode(body)), parse_message(encode(envelope(OrderSubmitted.namespace, body)))):
        assert isinstance(msg, OrderSubmitted)
        assert msg.order_status == text
        assert msg.to_request()["OrderStatus"] == text
        assert msg.to_request()["UserContext"] == {"ID": "u-1", "UserType": "Buyer"}


@given(
    head=st.sampled_from(
        [
            b'{"Headers":{"type":"sitecore.ordercloud.messages.orders.submitted"},"Payload":',
            b'{"headers": {"TYPE": "sitecore.backbone.messages.orders.lines.updated"} , "payload" : ',
            b'{"Headers":{"type":"sitecore.ordercloud.messages.nothing.known"},"Payload":',
        ]
    ),
    tail=st.binary(max_size=80) | st.sampled_from([b"{}}", b'{"OrderID": 1}}', b"[]}", b'"x"}', b"{} , {}}", b"{}} "]),
)
def test_fuzz_envelope_bodies_only_raise_invalid_payload(head: bytes, tail: bytes) -> None:
    try:
        decoded = messages.decode_delivery(head + tail)
    except InvalidPayloadError:
        return
    assert decoded.delivery_key
    reference = parse_message(json.loads(head + tail))  # the same rules from the decoded object
    assert type(decoded.message) is type(reference)
