"""Commerce models (Order, LineItem, Product, User, Address, Payment, ApiClient, tokens): what callers rely on."""

from __future__ import annotations

import copy
import doctest
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError
from typing_extensions import TypedDict, assert_type

from ordercloud_tracking.models import commerce
from ordercloud_tracking.models._base import OCModel
from ordercloud_tracking.models.commerce import (
    AccessToken,
    Address,
    ApiClient,
    ApiClientPatch,
    LineItem,
    LineItemPatch,
    LineItemProduct,
    LineItemSpec,
    LineItemVariant,
    Locale,
    MeUser,
    Order,
    OrderDirection,
    OrderPatch,
    OrderStatus,
    OrderUser,
    Payment,
    PaymentTransaction,
    PaymentType,
    PriceBreak,
    PriceMarkupType,
    PriceSchedule,
    Product,
    ProductInventory,
    User,
    UserPatch,
)

# --- fixtures: API bodies written by hand from the reference (§3, §4.3, §7) ----------------------------

ADDRESS_BODY: dict[str, Any] = {
    "ID": "addr-home",
    "DateCreated": "2023-03-01T10:00:00.000+00:00",
    "CompanyName": None,
    "FirstName": "Amy",
    "LastName": "Lee",
    "Street1": "110 N 5th St",
    "Street2": "Suite 300",
    "City": "Minneapolis",
    "State": "MN",
    "Zip": "55403",
    "Country": "US",
    "Phone": "612-555-0100",
    "AddressName": "Home",
    "xp": {"Residential": True},
}

ORDER_BODY: dict[str, Any] = {
    "ID": "SO-10042",
    "FromUser": {
        "ID": "buyer01",
        "CompanyID": "acme-buyer",
        "Username": "amy",
        "FirstName": "Amy",
        "LastName": "Lee",
        "Email": "amy@example.com",
        "Phone": None,
        "TermsAccepted": None,
        "Active": True,
        "xp": {"Tier": "gold"},
        "AvailableRoles": ["Shopper", "MeAdmin"],
        "Locale": None,
        "DateCreated": "2023-03-01T10:00:00.000+00:00",
        "LastActive": "2024-05-02T09:10:12.345+00:00",
        "PasswordLastSetDate": "2023-03-01T10:00:00.000+00:00",
    },
    "FromCompanyID": "acme-buyer",
    "ToCompanyID": "seller-org",
    "FromUserID": "buyer01",
    "BillingAddressID": "addr-home",
    "BillingAddress": ADDRESS_BODY,
    "ShippingAddressID": "addr-home",
    "Comments": "Leave at the door",
    "LineItemCount": 2,
    "Status": "Open",
    "DateCreated": "2024-05-02T09:12:44.123+00:00",
    "DateSubmitted": "2024-05-02T09:15:31.057+00:00",
    "DateApproved": None,
    "DateDeclined": None,
    "DateCanceled": None,
    "DateCompleted": None,
    "LastUpdated": "2024-05-02T09:15:31.057+00:00",
    "Subtotal": 50.5,
    "ShippingCost": 4.99,
    "TaxCost": 4.04,
    "Gratuity": 0,
    "Fees": 0,
    "PromotionDiscount": 5.05,
    "Currency": "USD",
    "Total": 54.48,
    "IsSubmitted": True,
    "SubscriptionID": None,
    "xp": {"Channel": "web", "Beacon": {"AnonymousId": "7c9e6679742540de944be07fc1f90ae7"}},
    # A field this SDK does not model: kept and written back untouched.
    "OrderReturnInfo": {"IsReturnable": True, "OrderReturnIDs": []},
}

LINE_ITEM_BODY: dict[str, Any] = {
    "ID": "li-1",
    "ProductID": "shirt-001",
    "Quantity": 3,
    "BundleItemID": None,
    "IsBundle": False,
    "DateAdded": "2024-05-02T09:13:05.250+00:00",
    "QuantityShipped": 0,
    "UnitPrice": 10.1,
    "PromotionDiscount": 0,
    "LineTotal": 30.3,
    "LineSubtotal": 30.3,
    "CostCenter": None,
    "DateNeeded": None,
    "ShippingAccount": None,
    "ShippingAddressID": "addr-home",
    "ShipFromAddressID": None,
    "Product": {
        "ID": "shirt-001",
        "Name": "Organic T-shirt",
        "Description": "Soft and warm",
        "Returnable": True,
        "QuantityMultiplier": 1,
        "ShipWeight": 0.4,
        "ShipHeight": None,
        "ShipWidth": None,
        "ShipLength": None,
        "DefaultSupplierID": None,
        "ParentID": "shirt",
        "xp": {"Brand": "Acme"},
    },
    "Variant": {
        "ID": "shirt-001-red-m",
        "Name": "Red, M",
        "Description": None,
        "ShipWeight": None,
        "ShipHeight": None,
        "ShipWidth": None,
        "ShipLength": None,
        "xp": {},
    },
    "ShippingAddress": ADDRESS_BODY,
    "ShipFromAddress": None,
    "SupplierID": None,
    "InventoryRecordID": None,
    "PriceScheduleID": "ps-shirts",
    "IsOnSale": False,
    "PriceOverridden": False,
    "Specs": [
        {
            "SpecID": "size",
            "Name": "Size",
            "OptionID": "m",
            "Value": "M",
            "PriceMarkupType": "NoMarkup",
            "PriceMarkup": None,
        },
        {
            "SpecID": "monogram",
            "Name": "Monogram",
            "OptionID": None,
            "Value": "AL",
            "PriceMarkupType": "AmountPerQuantity",
            "PriceMarkup": 1.5,
        },
    ],
    "IncomingOrderID": "SO-10042",
    "OutgoingOrderID": "SO-10042",
    "InvitationID": None,
    "xp": {"GiftWrap": True, "Note": "Happy birthday"},
    "Discounts": [],
}

BUYER_PRODUCT_BODY: dict[str, Any] = {
    "PriceSchedule": {
        "OwnerID": "seller-org",
        "ID": "ps-shirts",
        "Name": "Shirts",
        "ApplyTax": True,
        "ApplyShipping": True,
        "MinQuantity": 1,
        "MaxQuantity": None,
        "UseCumulativeQuantity": False,
        "RestrictedQuantity": False,
        "PriceBreaks": [
            {"Quantity": 1, "Price": 10.1, "SalePrice": None, "SubscriptionPrice": None, "BundlePrice": None},
            {"Quantity": 10, "Price": 9.09, "SalePrice": 8.5, "SubscriptionPrice": 8.99, "BundlePrice": None},
        ],
        "Currency": "USD",
        "SaleStart": "2024-05-01T00:00:00.000+00:00",
        "SaleEnd": "2024-06-01T00:00:00.000-05:00",
        "IsOnSale": True,
        "xp": {},
    },
    "ID": "shirt-001",
    "ParentID": "shirt",
    "IsParent": False,
    "IsBundle": False,
    "Name": "Organic T-shirt",
    "Description": "Soft and warm",
    "QuantityMultiplier": 1,
    "ShipWeight": 0.4,
    "ShipHeight": 2,
    "ShipWidth": 10.5,
    "ShipLength": 12,
    "Active": True,
    "SpecCount": 2,
    "VariantCount": 6,
    "ShipFromAddressID": None,
    "Inventory": {
        "Enabled": True,
        "NotificationPoint": 5,
        "VariantLevelTracking": True,
        "OrderCanExceed": False,
        "QuantityAvailable": 120,
        "LastUpdated": "2024-05-02T08:00:00.000+00:00",
    },
    "DefaultSupplierID": None,
    "AllSuppliersCanSell": False,
    "Returnable": True,
    "DateCreated": "2023-01-15T12:30:00.000+00:00",
    "xp": {"Brand": "Acme", "Colors": ["red", "blue"]},
}

USER_BODY: dict[str, Any] = {
    "FailedLoginAttempts": 0,
    "ID": "buyer01",
    "CompanyID": "acme-buyer",
    "Username": "amy",
    "FirstName": "Amy",
    "LastName": "Lee",
    "Email": "amy@example.com",
    "Phone": "612-555-0100",
    "TermsAccepted": "2023-03-01T10:05:00.000+00:00",
    "Active": True,
    "xp": {"Tier": "gold"},
    "AvailableRoles": ["Shopper"],
    "Locale": {"ID": "en-US", "OwnerID": "seller-org", "Currency": "USD", "Language": "en-US"},
    "DateCreated": "2023-03-01T10:00:00.000+00:00",
    "LastActive": "2024-05-02T09:10:12.345+00:00",
    "PasswordLastSetDate": "2023-03-01T10:00:00.000+00:00",
}

ME_USER_BODY: dict[str, Any] = {
    "Buyer": {"ID": "acme-buyer", "DefaultCatalogID": "acme-catalog"},
    "Supplier": None,
    "Seller": None,
    "ID": "anon-7c9e6679",
    "CompanyID": "acme-buyer",
    "Username": "anon-template",
    "FirstName": None,
    "LastName": None,
    "Email": None,
    "Active": True,
    "xp": {},
    "AvailableRoles": ["Shopper"],
    "Locale": None,
    "DateCreated": "2024-05-02T09:00:00.000+00:00",
}

PAYMENT_BODY: dict[str, Any] = {
    "ID": "pay-1",
    "Type": "CreditCard",
    "DateCreated": "2024-05-02T09:15:00.000+00:00",
    "CreditCardID": "cc-visa",
    "SpendingAccountID": None,
    "Description": None,
    "Currency": "USD",
    "Amount": 54.48,
    "Accepted": True,
    "OrderReturnID": None,
    "xp": {},
    "Transactions": [
        {
            "ID": "txn-1",
            "Type": "CreditCardAuthorization",
            "DateExecuted": "2024-05-02T09:15:30.000+00:00",
            "Currency": "USD",
            "Amount": 54.48,
            "Succeeded": True,
            "ResultCode": "00",
            "ResultMessage": "Approved",
            "xp": {"Processor": "stripe"},
        }
    ],
}

API_CLIENT_BODY: dict[str, Any] = {
    "ID": "A1B2C3D4-0000-0000-0000-000000000000",
    "ClientSecret": "client-secret-value-123",
    "AccessTokenDuration": 600,
    "Active": True,
    "AppName": "Storefront",
    "RefreshTokenDuration": 0,
    "DefaultContextUserName": "anon-template",
    "xp": {"Env": "sandbox"},
    "AllowAnyBuyer": True,
    "AllowAnySupplier": False,
    "AllowSeller": False,
    "IsAnonBuyer": True,
    "AssignedBuyerCount": 1,
    "AssignedSupplierCount": 0,
    "OrderCheckoutIntegrationEventID": None,
    "OrderCheckoutIntegrationEventName": None,
    "OrderReturnIntegrationEventID": None,
    "OrderReturnIntegrationEventName": None,
    "AddToCartIntegrationEventID": None,
    "AddToCartIntegrationEventName": None,
    "MinimumRequiredRoles": [],
    "MinimumRequiredCustomRoles": [],
    "MaximumGrantedRoles": ["Shopper", "MeAdmin"],
    "MaximumGrantedCustomRoles": [],
    "AnonymousTokenDuration": 10080,
}

TOKEN_BODY: dict[str, Any] = {
    "access_token": "eyJhbGciOiJSUzI1NiJ9.access-payload.sig",
    "token_type": "bearer",
    "expires_in": 36000,
    "refresh_token": "refresh-token-value-456",
}

ROUND_TRIP_CASES: list[tuple[type[OCModel], dict[str, Any]]] = [
    (Order, ORDER_BODY),
    (LineItem, LINE_ITEM_BODY),
    (Product, BUYER_PRODUCT_BODY),
    (User, USER_BODY),
    (MeUser, ME_USER_BODY),
    (OrderUser, ORDER_BODY["FromUser"]),
    (Address, ADDRESS_BODY),
    (Payment, PAYMENT_BODY),
    (ApiClient, API_CLIENT_BODY),
    (AccessToken, TOKEN_BODY),
]

MODELS_WITH_XP: list[type[OCModel]] = [
    Order,
    OrderUser,
    OrderPatch,
    LineItem,
    LineItemPatch,
    LineItemProduct,
    LineItemVariant,
    Product,
    PriceSchedule,
    User,
    MeUser,
    UserPatch,
    Address,
    Payment,
    PaymentTransaction,
    ApiClient,
    ApiClientPatch,
]
MODELS_WITHOUT_REQUIRED_FIELDS: list[type[OCModel]] = [
    Order,
    OrderUser,
    OrderPatch,
    MeUser,
    UserPatch,
    LineItemPatch,
    LineItemProduct,
    LineItemVariant,
    Product,
    PriceSchedule,
    PriceBreak,
    ProductInventory,
    Locale,
    Payment,
    PaymentTransaction,
    ApiClientPatch,
]

DATE_KEYS = {
    "DateCreated",
    "DateSubmitted",
    "DateApproved",
    "DateDeclined",
    "DateCanceled",
    "DateCompleted",
    "DateAdded",
    "DateNeeded",
    "DateExecuted",
    "LastUpdated",
    "LastActive",
    "PasswordLastSetDate",
    "TermsAccepted",
    "SaleStart",
    "SaleEnd",
}


def _normalise(value: Any) -> Any:
    """Parse date strings so that ``+00:00`` and ``Z`` (the same instant) compare equal."""
    if isinstance(value, dict):
        return {
            key: (
                datetime.fromisoformat(item.replace("Z", "+00:00"))
                if key in DATE_KEYS and isinstance(item, str)
                else _normalise(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    return value


def _model_id(value: object) -> str | None:
    return value.__name__ if isinstance(value, type) else None


def _read_only_fields(model: type[OCModel]) -> frozenset[str]:
    value = model.__dict__.get("read_only_fields", getattr(model, "read_only_fields", None))
    assert isinstance(value, frozenset)
    return value


# --- module surface -------------------------------------------------------------------------------------


def test_module_docstring_examples_run() -> None:
    result = doctest.testmod(commerce, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_all_is_sorted_and_exported() -> None:
    assert commerce.__all__ == sorted(commerce.__all__)
    assert all(hasattr(commerce, name) for name in commerce.__all__)


@pytest.mark.parametrize("name", commerce.__all__)
def test_every_public_class_has_a_docstring(name: str) -> None:
    doc = getattr(commerce, name).__doc__
    assert doc is not None
    assert doc.strip()


# --- round trips ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "body"), ROUND_TRIP_CASES, ids=_model_id)
def test_api_body_round_trips_identically(model: type[OCModel], body: dict[str, Any]) -> None:
    parsed = model.from_api_json(json.dumps(body))

    assert _normalise(parsed.to_request()) == _normalise(body)
    # The same through JSON text, and from an already-decoded body.
    assert _normalise(json.loads(json.dumps(parsed.to_request()))) == _normalise(body)
    assert model.from_api(copy.deepcopy(body)) == parsed


def test_unknown_fields_are_kept_but_not_shown() -> None:
    order = Order.from_api(ORDER_BODY)
    assert order.model_extra == {"OrderReturnInfo": {"IsReturnable": True, "OrderReturnIDs": []}}
    assert order.to_request()["OrderReturnInfo"] == {"IsReturnable": True, "OrderReturnIDs": []}
    assert "OrderReturnInfo" not in repr(order)


def test_nested_models_are_typed() -> None:
    order = Order.from_api(ORDER_BODY)
    assert isinstance(order.from_user, OrderUser)
    assert isinstance(order.billing_address, Address)
    assert order.billing_address.street1 == "110 N 5th St"

    line = LineItem.from_api(LINE_ITEM_BODY)
    assert isinstance(line.product, LineItemProduct)
    assert isinstance(line.variant, LineItemVariant)
    assert line.specs is not None
    assert [spec.spec_id for spec in line.specs] == ["size", "monogram"]
    assert line.specs[1].price_markup_type is PriceMarkupType.AMOUNT_PER_QUANTITY
    assert line.specs[1].price_markup == Decimal("1.5")

    product = Product.from_api(BUYER_PRODUCT_BODY)
    assert isinstance(product.inventory, ProductInventory)
    assert isinstance(product.price_schedule, PriceSchedule)
    assert product.price_schedule.price_breaks is not None
    assert all(isinstance(b, PriceBreak) for b in product.price_schedule.price_breaks)

    user = User.from_api(USER_BODY)
    assert isinstance(user.locale, Locale)
    assert user.locale.currency == "USD"

    payment = Payment.from_api(PAYMENT_BODY)
    assert payment.type is PaymentType.CREDIT_CARD
    assert payment.transactions is not None
    assert isinstance(payment.transactions[0], PaymentTransaction)


def test_snake_case_names_and_aliases_are_both_accepted() -> None:
    by_alias = LineItem.model_validate({"ProductID": "shirt", "Quantity": 2})
    by_name = LineItem.model_validate({"product_id": "shirt", "quantity": 2})
    built = LineItem(product_id="shirt", quantity=2)
    assert by_alias == by_name == built
    assert built.to_request() == {"ProductID": "shirt", "Quantity": 2}


def test_line_subtotal_alias_has_a_lower_case_t() -> None:
    assert LineItem.model_fields["line_subtotal"].serialization_alias == "LineSubtotal"
    line = LineItem.from_api({"ProductID": "shirt", "LineSubTotal": 1})
    assert line.line_subtotal is None
    assert line.model_extra == {"LineSubTotal": 1}


# --- money ----------------------------------------------------------------------------------------------


def test_money_is_exact_decimal() -> None:
    line = LineItem.from_api_json(json.dumps(LINE_ITEM_BODY))
    assert line.unit_price == Decimal("10.1")
    assert line.quantity is not None
    assert line.unit_price * line.quantity == line.line_subtotal == Decimal("30.3")
    assert 10.1 * 3 != 30.3  # what floats would have given

    order = Order.from_api(ORDER_BODY)
    assert order.subtotal is not None
    assert order.tax_cost is not None
    assert order.shipping_cost is not None
    assert order.gratuity is not None
    assert order.fees is not None
    assert order.promotion_discount is not None
    computed = (
        order.subtotal + order.tax_cost + order.shipping_cost + order.gratuity + order.fees - order.promotion_discount
    )
    assert computed == order.total == Decimal("54.48")


def test_money_is_written_as_json_numbers() -> None:
    text = LineItem.from_api(LINE_ITEM_BODY).model_dump_json(exclude_unset=True)
    assert '"UnitPrice":10.1' in text
    assert '"LineSubtotal":30.3' in text
    assert '"PromotionDiscount":0' in text

    body = Order(gratuity=Decimal("2.50"), shipping_cost=Decimal("5")).to_request()
    assert body == {"Gratuity": 2.5, "ShippingCost": 5}
    assert isinstance(body["ShippingCost"], int)


amounts = st.integers(min_value=0, max_value=4).flatmap(
    lambda places: st.decimals(
        min_value=Decimal("-1000000000"),
        max_value=Decimal("1000000000"),
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )
)


@given(unit_price=amounts, amount=amounts)
def test_money_round_trips_through_json_exactly(unit_price: Decimal, amount: Decimal) -> None:
    line_text = json.dumps(LineItem(product_id="p", unit_price=unit_price).to_request())
    payment_text = Payment(amount=amount).model_dump_json(exclude_unset=True)

    assert isinstance(json.loads(line_text)["UnitPrice"], (int, float))  # a number, never a string
    assert LineItem.from_api_json(line_text).unit_price == unit_price
    assert Payment.from_api_json(payment_text).amount == amount


# --- dates ----------------------------------------------------------------------------------------------


def test_naive_datetimes_are_taken_as_utc() -> None:
    line = LineItem.from_api({"ProductID": "p", "DateAdded": "2024-05-02T09:15:00"})
    assert line.date_added == datetime(2024, 5, 2, 9, 15, tzinfo=timezone.utc)
    assert line.to_request()["DateAdded"] == "2024-05-02T09:15:00Z"

    built = LineItem(product_id="p", date_needed=datetime(2024, 6, 1, 12, 0))
    assert built.date_needed is not None
    assert built.date_needed.tzinfo is not None
    assert built.date_needed.utcoffset() == timedelta(0)


def test_datetime_offsets_are_kept() -> None:
    product = Product.from_api(BUYER_PRODUCT_BODY)
    assert product.price_schedule is not None
    sale_end = product.price_schedule.sale_end
    assert sale_end is not None
    assert sale_end.utcoffset() == timedelta(hours=-5)
    assert product.to_request()["PriceSchedule"]["SaleEnd"] == "2024-06-01T00:00:00-05:00"


def test_every_date_in_a_full_order_is_aware() -> None:
    order = Order.from_api(ORDER_BODY)
    assert order.date_submitted == datetime(2024, 5, 2, 9, 15, 31, 57000, tzinfo=timezone.utc)
    for value in (order.date_created, order.date_submitted, order.last_updated):
        assert value is not None
        assert value.tzinfo is not None


# --- enums ----------------------------------------------------------------------------------------------


def test_order_status_known_members() -> None:
    assert [member.value for member in OrderStatus] == [
        "Unsubmitted",
        "AwaitingApproval",
        "Declined",
        "Open",
        "Completed",
        "Canceled",
    ]
    assert Order.from_api({"Status": "AwaitingApproval"}).status is OrderStatus.AWAITING_APPROVAL


def test_unknown_order_status_round_trips() -> None:
    order = Order.from_api_json('{"ID": "o1", "Status": "OnHold"}')
    assert order.status is not None
    assert order.status == "OnHold"
    assert not order.status.is_known
    assert order.to_request() == {"ID": "o1", "Status": "OnHold"}
    assert '"Status":"OnHold"' in order.model_dump_json(exclude_unset=True)


@pytest.mark.parametrize(
    ("model", "alias", "value"),
    [
        (Payment, "Type", "GiftCard"),
        (LineItemSpec, "PriceMarkupType", "Tiered"),
    ],
)
def test_other_open_enums_keep_unknown_values(model: type[OCModel], alias: str, value: str) -> None:
    body = {"SpecID": "size", alias: value} if model is LineItemSpec else {alias: value}
    assert model.from_api(body).to_request()[alias] == value


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("Incoming", OrderDirection.INCOMING),
        ("outgoing", OrderDirection.OUTGOING),
        ("OUTGOING", OrderDirection.OUTGOING),
        ("aLL", OrderDirection.ALL),
        (OrderDirection.OUTGOING, OrderDirection.OUTGOING),
    ],
)
def test_order_direction_coerce(given_value: str | OrderDirection, expected: OrderDirection) -> None:
    assert OrderDirection.coerce(given_value) is expected


@pytest.mark.parametrize("bad", ["Sideways", "", " Outgoing", "Outgoing/x"])
def test_order_direction_coerce_rejects_unknown_values(bad: str) -> None:
    with pytest.raises(ValueError, match="Incoming, Outgoing, All") as excinfo:
        OrderDirection.coerce(bad)
    assert repr(bad) in str(excinfo.value)


def test_order_direction_is_closed_and_formats_as_its_value() -> None:
    assert [member.value for member in OrderDirection] == ["Incoming", "Outgoing", "All"]
    with pytest.raises(ValueError, match="Sideways"):
        OrderDirection("Sideways")
    assert str(OrderDirection.OUTGOING) == "Outgoing"
    assert f"/v1/orders/{OrderDirection.OUTGOING}/o1" == "/v1/orders/Outgoing/o1"


# --- typed xp -------------------------------------------------------------------------------------------


class CartXp(BaseModel):
    model_config = ConfigDict(extra="allow")

    GiftWrap: bool
    Note: str | None = None


class CartXpDict(TypedDict):
    GiftWrap: bool
    Note: str


def test_typed_xp_validates_into_the_callers_model() -> None:
    line = LineItem[CartXp].from_api(LINE_ITEM_BODY)
    assert_type(line.xp, CartXp | None)
    assert isinstance(line.xp, CartXp)
    assert line.xp.GiftWrap is True
    assert line.xp.Note == "Happy birthday"
    assert isinstance(line, LineItem)
    assert _normalise(line.to_request()) == _normalise(LINE_ITEM_BODY)

    built = LineItem[CartXp](product_id="p", xp=CartXp(GiftWrap=False))
    assert built.to_request() == {"ProductID": "p", "xp": {"GiftWrap": False}}  # unset xp fields: not sent
    assert built.to_request(exclude_unset=False)["xp"] == {"GiftWrap": False, "Note": None}


def test_typed_xp_errors_on_a_bad_xp() -> None:
    with pytest.raises(ValidationError) as excinfo:
        LineItem[CartXp].from_api({"ProductID": "p", "xp": {"GiftWrap": "not a bool"}})
    assert [error["loc"] for error in excinfo.value.errors()] == [("xp", "GiftWrap")]

    with pytest.raises(ValidationError) as missing:
        Order[CartXp].from_api({"ID": "o1", "xp": {}})
    assert [error["loc"] for error in missing.value.errors()] == [("xp", "GiftWrap")]


def test_typed_xp_accepts_a_typed_dict() -> None:
    line = LineItem[CartXpDict].from_api(LINE_ITEM_BODY)
    assert_type(line.xp, CartXpDict | None)
    assert line.xp == {"GiftWrap": True, "Note": "Happy birthday"}
    with pytest.raises(ValidationError):
        LineItem[CartXpDict].from_api({"ProductID": "p", "xp": {"GiftWrap": True}})


def test_plain_models_keep_a_dict_xp() -> None:
    line = LineItem.from_api(LINE_ITEM_BODY)
    assert_type(line.xp, dict[str, Any] | None)
    assert line.xp == {"GiftWrap": True, "Note": "Happy birthday"}
    with pytest.raises(ValidationError):
        LineItem.from_api({"ProductID": "p", "xp": ["not", "an", "object"]})


def test_nested_models_keep_a_dict_xp_when_the_outer_xp_is_typed() -> None:
    line = LineItem[CartXp].from_api(LINE_ITEM_BODY)
    assert line.product is not None
    assert line.product.xp == {"Brand": "Acme"}
    assert line.shipping_address is not None
    assert line.shipping_address.xp == {"Residential": True}

    order = Order[CartXp].from_api({"xp": {"GiftWrap": True}, "FromUser": ORDER_BODY["FromUser"]})
    assert order.from_user is not None
    assert_type(order.from_user.xp, dict[str, Any] | None)
    assert order.from_user.xp == {"Tier": "gold"}


@pytest.mark.parametrize(
    "model",
    MODELS_WITH_XP,
    ids=lambda model: model.__name__,
)
def test_every_model_with_xp_is_generic_in_it(model: type[OCModel]) -> None:
    typed: Any = model[CartXp]  # type: ignore[index]  # parametrised dynamically
    required: dict[str, Any] = {
        "ProductID": "p",
        "Street1": "s",
        "City": "c",
        "Country": "US",
        "Username": "u",
        "FirstName": "f",
        "LastName": "l",
        "Email": "e",
        "Active": True,
        "AppName": "a",
        "AccessTokenDuration": 600,
    }
    parsed = typed.from_api({**required, "xp": {"GiftWrap": True}})
    assert isinstance(parsed.xp, CartXp)
    assert isinstance(model.from_api({**required, "xp": {"GiftWrap": True}}).model_dump()["xp"], dict)


# --- required fields ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "required"),
    [
        (LineItem, {"ProductID"}),
        (LineItemSpec, {"SpecID"}),
        (Address, {"Street1", "City", "Country"}),
        (User, {"Username", "FirstName", "LastName", "Email", "Active"}),
        (ApiClient, {"AppName", "AccessTokenDuration"}),
        (AccessToken, {"access_token"}),
    ],
    ids=_model_id,
)
def test_missing_required_fields_are_named(model: type[OCModel], required: set[str]) -> None:
    for validate in (model.model_validate, model.from_api):
        with pytest.raises(ValidationError) as excinfo:
            validate({})
        errors = excinfo.value.errors()
        assert {error["type"] for error in errors} == {"missing"}
        assert {error["loc"][0] for error in errors} == required
        assert all(name in str(excinfo.value) for name in required)


@pytest.mark.parametrize(
    "model",
    MODELS_WITHOUT_REQUIRED_FIELDS,
    ids=lambda model: model.__name__,
)
def test_models_without_required_fields_accept_an_empty_body(model: type[OCModel]) -> None:
    assert model.from_api({}).to_request() == {}


def test_register_body_accepts_a_token_with_only_access_token() -> None:
    token = AccessToken.from_api({"access_token": "eyJ.register.sig"})
    assert token.access_token.get_secret_value() == "eyJ.register.sig"
    assert token.refresh_token is None
    assert token.expires_in is None


# --- secrets --------------------------------------------------------------------------------------------


def test_password_is_masked_everywhere_but_the_request_body() -> None:
    user = User(
        username="amy",
        first_name="Amy",
        last_name="Lee",
        email="amy@example.com",
        active=True,
        password=SecretStr("hunter2-Secret!"),
    )
    assert "hunter2" not in repr(user)
    assert "hunter2" not in str(user)
    assert "hunter2" not in str(user.model_dump())
    assert "hunter2" not in user.model_dump_json()
    assert user.model_dump()["Password"] == SecretStr("hunter2-Secret!")
    assert user.to_request()["Password"] == "hunter2-Secret!"

    me = MeUser.model_validate({"Username": "amy", "Password": "hunter2-Secret!"})
    assert "hunter2" not in repr(me)
    assert "hunter2" not in me.model_dump_json()
    assert me.to_request() == {"Username": "amy", "Password": "hunter2-Secret!"}

    patch = UserPatch(password=SecretStr("hunter2-Secret!"))
    assert "hunter2" not in repr(patch)
    assert patch.to_request() == {"Password": "hunter2-Secret!"}


def test_a_password_the_api_does_not_return_is_not_written_back() -> None:
    assert "Password" not in User.from_api(USER_BODY).to_request()


def test_client_secret_is_masked_everywhere_but_the_request_body() -> None:
    client = ApiClient.from_api(API_CLIENT_BODY)
    secret = "client-secret-value-123"
    assert client.client_secret is not None
    assert client.client_secret.get_secret_value() == secret
    assert secret not in repr(client)
    assert secret not in str(client.model_dump())
    assert secret not in client.model_dump_json()
    assert client.to_request()["ClientSecret"] == secret
    assert ApiClientPatch(client_secret=SecretStr(secret)).to_request() == {"ClientSecret": secret}


def test_tokens_are_masked() -> None:
    token = AccessToken.from_api(TOKEN_BODY)
    for secret in (TOKEN_BODY["access_token"], TOKEN_BODY["refresh_token"]):
        assert secret not in repr(token)
        assert secret not in str(token.model_dump())
        assert secret not in token.model_dump_json()
    assert token.access_token.get_secret_value() == TOKEN_BODY["access_token"]
    assert token.refresh_token is not None
    assert token.refresh_token.get_secret_value() == TOKEN_BODY["refresh_token"]
    assert token.token_type == "bearer"
    assert token.expires_in == 36000


# --- patches --------------------------------------------------------------------------------------------


def test_patch_sends_only_what_was_set_and_none_as_null() -> None:
    assert LineItemPatch().to_request() == {}
    assert LineItemPatch(quantity=2).to_request() == {"Quantity": 2}
    assert LineItemPatch(quantity=2, xp=None).to_request() == {"Quantity": 2, "xp": None}
    assert LineItemPatch(
        specs=[LineItemSpec(spec_id="size", option_id="l")], unit_price=Decimal("9.99")
    ).to_request() == {"Specs": [{"SpecID": "size", "OptionID": "l"}], "UnitPrice": 9.99}

    assert OrderPatch(comments=None).to_request() == {"Comments": None}
    assert OrderPatch(xp={"Channel": "app"}, gratuity=Decimal("1.10")).to_request() == {
        "xp": {"Channel": "app"},
        "Gratuity": 1.1,
    }
    assert UserPatch(first_name="Amy", last_name="Lee", email="amy@example.com").to_request() == {
        "FirstName": "Amy",
        "LastName": "Lee",
        "Email": "amy@example.com",
    }
    assert ApiClientPatch(is_anon_buyer=True, default_context_user_name=None).to_request() == {
        "IsAnonBuyer": True,
        "DefaultContextUserName": None,
    }


def test_patch_accepts_aliases_and_keeps_unknown_fields() -> None:
    patch = LineItemPatch.model_validate({"Quantity": 4, "SomethingNew": 1})
    assert patch.to_request() == {"Quantity": 4, "SomethingNew": 1}


def test_typed_xp_on_a_patch() -> None:
    # Only the xp fields that were set are sent, so a typed xp can patch part of the object.
    patch = LineItemPatch[CartXp](xp=CartXp(GiftWrap=True))
    assert patch.to_request() == {"xp": {"GiftWrap": True}}
    assert LineItemPatch[CartXp](xp=CartXp(GiftWrap=True, Note=None)).to_request() == {
        "xp": {"GiftWrap": True, "Note": None}
    }


# --- read-only fields -----------------------------------------------------------------------------------


def test_read_only_field_lists() -> None:
    assert Order.read_only_fields == {
        "FromUser",
        "BillingAddress",
        "LineItemCount",
        "Status",
        "DateCreated",
        "DateSubmitted",
        "DateApproved",
        "DateDeclined",
        "DateCanceled",
        "DateCompleted",
        "LastUpdated",
        "Subtotal",
        "Fees",
        "PromotionDiscount",
        "Currency",
        "Total",
        "IsSubmitted",
        "SubscriptionID",
    }
    assert LineItem.read_only_fields == {
        "BundleItemID",
        "IsBundle",
        "DateAdded",
        "QuantityShipped",
        "PromotionDiscount",
        "LineTotal",
        "LineSubtotal",
        "Product",
        "Variant",
        "ShippingAddress",
        "ShipFromAddress",
        "SupplierID",
        "PriceScheduleID",
        "IsOnSale",
        "PriceOverridden",
        "IncomingOrderID",
        "OutgoingOrderID",
        "InvitationID",
    }
    assert User.read_only_fields == {
        "FailedLoginAttempts",
        "CompanyID",
        "AvailableRoles",
        "Locale",
        "DateCreated",
        "LastActive",
        "PasswordLastSetDate",
    }
    assert MeUser.read_only_fields == User.read_only_fields - {"FailedLoginAttempts"} | {
        "Buyer",
        "Supplier",
        "Seller",
    }
    assert OrderUser.read_only_fields == User.read_only_fields - {"FailedLoginAttempts"}
    assert ApiClient.read_only_fields == {
        "ID",
        "AssignedBuyerCount",
        "AssignedSupplierCount",
        "OrderCheckoutIntegrationEventName",
        "OrderReturnIntegrationEventName",
        "AddToCartIntegrationEventName",
    }
    assert Product.read_only_fields == {"IsBundle", "SpecCount", "VariantCount", "DateCreated", "PriceSchedule"}
    assert Payment.read_only_fields == {"DateCreated", "Currency", "Transactions"}
    assert Address.read_only_fields == {"DateCreated"}
    assert LineItemSpec.read_only_fields == {"Name"}
    assert PriceSchedule.read_only_fields == {"IsOnSale"}
    assert ProductInventory.read_only_fields == {"LastUpdated"}
    assert LineItem[CartXp].read_only_fields == LineItem.read_only_fields


@pytest.mark.parametrize("model", [LineItemPatch, OrderPatch, UserPatch, ApiClientPatch, AccessToken])
def test_patches_have_no_read_only_fields(model: type[OCModel]) -> None:
    assert _read_only_fields(model) == frozenset()


@pytest.mark.parametrize(("model", "body"), ROUND_TRIP_CASES, ids=_model_id)
def test_read_only_fields_are_marked_in_the_schema(model: type[OCModel], body: dict[str, Any]) -> None:
    read_only = _read_only_fields(model)
    properties = model.model_json_schema()["properties"]
    assert read_only <= set(properties)
    assert {alias for alias, schema in properties.items() if schema.get("readOnly")} == read_only


def test_read_only_fields_are_not_stripped_on_write() -> None:
    body = Order.from_api(ORDER_BODY).to_request()
    assert body["Total"] == 54.48
    assert body["Status"] == "Open"
