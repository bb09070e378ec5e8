"""The documented constructors and calls, as an editor user writes them (issue 14 §2).

Checked three ways by `make typecheck`: pyright in strict mode (what VS Code users get), mypy --strict
*without* the pydantic plugin (tests/editor_types/mypy-no-plugin.ini) and mypy --strict with it (pyproject.toml).
Every ``assert_type`` is a static check; the tests also run, and assert that snake_case keywords build the
same wire body as OrderCloud's JSON names.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, SecretStr
from typing_extensions import assert_type

from ordercloud_tracking import OrderCloud, TrackingEvent, TrackingEventType
from ordercloud_tracking.messages import (
    Message,
    MessageLineItem,
    MessageProduct,
    OrderLineAdded,
    OrderLineUpdated,
    OrderSubmitted,
    SessionIdentified,
    UnknownMessage,
    UserContext,
    order_line,
    parse_message,
    session_identified,
)
from ordercloud_tracking.models import (
    DeliveryConfig,
    DeliveryConfigPatch,
    DeliveryTargets,
    HttpConfig,
    KafkaConfig,
    LineItem,
    MeUser,
    Order,
    OrderPatch,
    TrackingEventPatch,
)
from ordercloud_tracking.models._base import OCModel
from ordercloud_tracking.testing import FakeOrderCloud


def _wire_models() -> list[type[OCModel]]:
    found: list[type[OCModel]] = []
    pending: list[type[OCModel]] = [OCModel]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        module = cls.__module__
        if "[" not in cls.__name__ and module.startswith(
            ("ordercloud_tracking.models", "ordercloud_tracking.messages")
        ):
            found.append(cls)
    return found


def test_no_wire_field_declares_alias() -> None:
    # `Field(alias="X")` makes "X" the __init__ parameter for type checkers (PEP 681 dataclass_transform),
    # so `Model(snake_name=...)` fails in pyright and plugin-less mypy: the JSON name is declared as
    # validation_alias + serialization_alias instead, both the same string.
    models = _wire_models()
    assert {"LineItem", "DeliveryTargets", "OrderSubmitted", "TrackingEvent"} <= {cls.__name__ for cls in models}
    wrong = [
        f"{cls.__name__}.{name}"
        for cls in models
        for name, field in cls.model_fields.items()
        if field.alias is not None or field.validation_alias != field.serialization_alias
    ]
    assert wrong == []


class CartXp(BaseModel):
    gift_wrap: bool = False


def test_line_item_takes_python_names() -> None:
    line = LineItem(product_id="SKU-MUG", quantity=2)
    assert_type(line, LineItem)
    assert_type(line.product_id, str)
    assert_type(line.quantity, int | None)
    assert_type(line.xp, dict[str, Any] | None)
    priced = LineItem(
        product_id="SKU-MUG",
        quantity=2,
        unit_price=Decimal("9.50"),
        date_needed=datetime(2026, 12, 24, tzinfo=timezone.utc),
        xp={"engraving": "A"},
    )
    assert line.to_request() == {"ProductID": "SKU-MUG", "Quantity": 2}
    assert priced.to_request()["UnitPrice"] == 9.5
    assert LineItem.model_validate({"ProductID": "SKU-MUG", "Quantity": 2}) == line


def test_typed_xp_line_item() -> None:
    line = LineItem[CartXp](product_id="SKU-MUG", quantity=1, xp=CartXp(gift_wrap=True))
    assert_type(line, LineItem[CartXp])
    assert_type(line.xp, CartXp | None)
    assert line.to_request() == {"ProductID": "SKU-MUG", "Quantity": 1, "xp": {"gift_wrap": True}}


def test_order_and_patches() -> None:
    order = Order(id="o-1", comments="leave at the door")
    assert_type(order, Order)
    assert_type(order.total, Decimal | None)
    patch = OrderPatch(comments="ring twice")
    assert order.to_request() == {"ID": "o-1", "Comments": "leave at the door"}
    assert patch.to_request() == {"Comments": "ring twice"}


def test_me_user() -> None:
    me = MeUser(id="u-1", username="jane", email="jane@example.com", password=SecretStr("jane-password"))
    assert_type(me, MeUser)
    assert_type(me.password, SecretStr | None)
    assert me.to_request()["Password"] == "jane-password"
    assert "jane-password" not in repr(me)


def test_tracking_event_and_delivery_config() -> None:
    http = HttpConfig(endpoint="https://shop.example/oc/events", secret=SecretStr("s3cret"))
    kafka = KafkaConfig(bootstrap_servers="kafka:9092", sasl_username="oc", sasl_password=None, topic="commerce")
    config = DeliveryConfig(id="dc-web", name="Web", delivery_targets=DeliveryTargets(http=http))
    event = TrackingEvent(
        event_type=TrackingEventType.LINE_ITEM_ADDED, client_id="storefront", name="Adds", delivery_config_id="dc-web"
    )
    assert_type(http, HttpConfig)
    assert_type(kafka, KafkaConfig)
    assert_type(config, DeliveryConfig)
    assert_type(event, TrackingEvent)
    assert_type(config.delivery_targets.http, HttpConfig | None)
    assert_type(TrackingEventPatch(name="Renamed"), TrackingEventPatch)
    assert_type(DeliveryConfigPatch(enabled=False), DeliveryConfigPatch)
    assert config.to_request() == {
        "ID": "dc-web",
        "Name": "Web",
        "DeliveryTargets": {"Http": {"Endpoint": "https://shop.example/oc/events", "Secret": "s3cret"}},
    }
    assert event.to_request()["EventType"] == "LineItemAdded"
    assert kafka.to_request()["SaslPassword"] is None


def test_messages() -> None:
    login = SessionIdentified(
        user_context=UserContext(id="buyer-jane", anonymous_id="beacon-42"), email="j@x.io", first_name="Jane"
    )
    added = OrderLineAdded(
        order_id="o-1",
        line_item=MessageLineItem(
            line_id="l-1", product=MessageProduct(product_id="SKU-MUG"), quantity=Decimal(2), price=Decimal("9.5")
        ),
    )
    submitted = OrderSubmitted(order_id="o-1", order_status="Open", order_total=Decimal("19.00"))
    assert_type(login.user_id, str | None)
    assert_type(added.line_item, MessageLineItem | None)
    assert_type(submitted.order_total, Decimal | None)
    parsed = parse_message(login.to_request())
    assert_type(parsed, Message)
    assert isinstance(parsed, SessionIdentified)
    assert parsed.user_id == "buyer-jane"
    assert parse_message(added.to_request_json()).to_request() == added.to_request()
    assert isinstance(parse_message({"Whatever": 1}), UnknownMessage)
    me = MeUser(id="buyer-jane", email="jane@example.com")
    assert_type(session_identified(me, anon_user_id="beacon-42"), SessionIdentified)
    line = order_line(
        Order(id="o-1"),
        LineItem(product_id="SKU-MUG", quantity=2),
        event_type=TrackingEventType.LINE_ITEM_ADDED,
        user=me,
    )
    assert_type(line, OrderLineAdded | OrderLineUpdated)
    assert isinstance(line, OrderLineAdded)


def test_documented_calls_on_the_fake() -> None:
    fake = FakeOrderCloud()
    try:
        admin = fake.client()
        assert_type(admin, OrderCloud)
        config = admin.delivery_configs.create(
            DeliveryConfig(
                name="Web",
                delivery_targets=DeliveryTargets(
                    http=HttpConfig(endpoint="https://shop.example/oc/events", secret=SecretStr("s3cret"))
                ),
            )
        )
        assert_type(config, DeliveryConfig)
        assert config.id is not None
        event = admin.tracking_events.create(
            TrackingEvent(
                event_type=TrackingEventType.LINE_ITEM_ADDED,
                client_id="storefront",
                name="Adds",
                delivery_config_id=config.id,
            )
        )
        assert_type(event, TrackingEvent)
        shopper = fake.shopper(anon_user_id="beacon-42")
        line = shopper.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=2))
        assert_type(line, LineItem)
        assert (line.product_id, line.quantity) == ("SKU-MUG", 2)
        cart = shopper.client.cart.get()
        assert_type(cart, Order)
        assert cart.line_item_count == 1
        shopper.login("jane", "jane-password")
        assert_type(shopper.client.me.get(), MeUser)
        submitted = shopper.client.cart.submit()
        assert_type(submitted, Order)
        assert submitted.is_submitted is True
    finally:
        fake.close()
