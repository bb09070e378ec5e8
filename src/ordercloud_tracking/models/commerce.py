"""Core OrderCloud commerce models: orders, line items, products, users, addresses, payments, API clients.

These are the API models (reference §7, §3, §4.3), not the flattened payloads OrderCloud delivers to
Send, Discover or an HTTP endpoint (those live in :mod:`ordercloud_tracking.messages`). They follow the
wire-model conventions of :mod:`ordercloud_tracking.models._base`:

* snake_case attributes with the exact OrderCloud JSON name as alias (``LineSubtotal`` keeps its
  lower-case ``t``); unknown fields are kept and written back;
* money (``UnitPrice``, ``LineTotal``, ``Subtotal``, ``Total``, ``Amount``, ``Price``, ...) is
  :class:`~decimal.Decimal` and written as a JSON number; dates are timezone-aware;
* ``Password``, ``ClientSecret`` and tokens are :class:`pydantic.SecretStr`, masked everywhere except
  in :meth:`~ordercloud_tracking.models._base.OCModel.to_request`.

Read-only fields
    Fields the API computes (``Total``, ``Status``, ``DateCreated``, ...) carry
    ``json_schema_extra={"readOnly": True}``, so they appear as ``readOnly`` in
    ``Model.model_json_schema()``, and every model lists their aliases in the class attribute
    ``read_only_fields`` (a frozenset, e.g. ``"Total" in Order.read_only_fields``). They are *not*
    stripped when writing: OrderCloud ignores them in request bodies.

Required fields
    Fields OrderCloud requires on write and always returns (``LineItem.ProductID``, ``Address.Street1``,
    ``User.Username``, ``ApiClient.AppName``, ...) are plainly required; every other field is optional
    and defaults to ``None``. ``MeUser`` and ``OrderUser`` have no required fields (all their fields are
    optional in the API); ``Register`` checks its five required fields server side.

Typed ``xp``
    Every model that carries ``xp`` is generic in the type of ``xp``, defaulting to ``dict[str, Any]``
    (a PEP 696 type-variable default from :mod:`typing_extensions`, understood by both pydantic and
    mypy)::

        class CartXp(pydantic.BaseModel):
            gift_wrap: bool = False

        line = LineItem[CartXp].from_api(body)   # line.xp is CartXp | None, validated
        plain = LineItem.from_api(body)          # plain.xp is dict[str, Any] | None

    A :class:`typing.TypedDict` works too. Give a pydantic xp model ``extra="allow"`` if it should keep
    (and write back) keys it does not declare. When writing, only the xp fields that were set are sent,
    which suits OrderCloud's merging ``PATCH``. Nested models (``Order.FromUser``, ``LineItem.Product``,
    ``LineItem.ShippingAddress``, ...) always keep ``dict`` xp.

    Each model has its *own* xp type variable: pydantic substitutes a class's type variables into any
    bare generic model named in its fields, so with one shared variable ``LineItem[CartXp]`` would
    also validate ``LineItem.Product.xp`` as ``CartXp``.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar, Generic

from pydantic import ConfigDict, Field
from typing_extensions import TypeVar

from ._base import DateTime, JSONObject, Money, OCModel, OpenEnum, Secret, json_name

__all__ = [
    "AccessToken",
    "Address",
    "ApiClient",
    "ApiClientPatch",
    "LineItem",
    "LineItemPatch",
    "LineItemProduct",
    "LineItemSpec",
    "LineItemVariant",
    "Locale",
    "MeUser",
    "Order",
    "OrderDirection",
    "OrderPatch",
    "OrderStatus",
    "OrderUser",
    "Payment",
    "PaymentTransaction",
    "PaymentType",
    "PriceBreak",
    "PriceMarkupType",
    "PriceSchedule",
    "Product",
    "ProductInventory",
    "User",
    "UserPatch",
]

# One xp type variable per model (see the module docstring for why they are not shared).
_AddressXpT = TypeVar("_AddressXpT", default=JSONObject)
_UserXpT = TypeVar("_UserXpT", default=JSONObject)
_OrderUserXpT = TypeVar("_OrderUserXpT", default=JSONObject)
_MeUserXpT = TypeVar("_MeUserXpT", default=JSONObject)
_FullUserXpT = TypeVar("_FullUserXpT", default=JSONObject)
_UserPatchXpT = TypeVar("_UserPatchXpT", default=JSONObject)
_OrderXpT = TypeVar("_OrderXpT", default=JSONObject)
_OrderPatchXpT = TypeVar("_OrderPatchXpT", default=JSONObject)
_LineItemProductXpT = TypeVar("_LineItemProductXpT", default=JSONObject)
_LineItemVariantXpT = TypeVar("_LineItemVariantXpT", default=JSONObject)
_LineItemXpT = TypeVar("_LineItemXpT", default=JSONObject)
_LineItemPatchXpT = TypeVar("_LineItemPatchXpT", default=JSONObject)
_PriceScheduleXpT = TypeVar("_PriceScheduleXpT", default=JSONObject)
_ProductXpT = TypeVar("_ProductXpT", default=JSONObject)
_PaymentTransactionXpT = TypeVar("_PaymentTransactionXpT", default=JSONObject)
_PaymentXpT = TypeVar("_PaymentXpT", default=JSONObject)
_ApiClientXpT = TypeVar("_ApiClientXpT", default=JSONObject)
_ApiClientPatchXpT = TypeVar("_ApiClientPatchXpT", default=JSONObject)

_READ_ONLY_KEY = "readOnly"


def _read_only(alias: str, description: str | None = None) -> Any:
    """An optional field the API computes: ``None`` by default, ``readOnly`` in the JSON schema."""
    return Field(
        default=None,
        validation_alias=alias,
        serialization_alias=alias,
        description=description,
        json_schema_extra={_READ_ONLY_KEY: True},
    )


class _CommerceModel(OCModel):
    """Adds :attr:`read_only_fields`, collected from the fields marked with :func:`_read_only`."""

    #: Aliases of the fields the API computes and ignores on write.
    read_only_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.read_only_fields = frozenset(
            json_name(name, field)
            for name, field in cls.model_fields.items()
            if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get(_READ_ONLY_KEY)
        )


# --------------------------------------------------------------------------------------------- enums


class OrderStatus(OpenEnum):
    """Status of an order; unknown statuses are kept (open enum)."""

    UNSUBMITTED = "Unsubmitted"
    AWAITING_APPROVAL = "AwaitingApproval"
    DECLINED = "Declined"
    OPEN = "Open"
    COMPLETED = "Completed"
    CANCELED = "Canceled"


class OrderDirection(str, enum.Enum):
    """The ``{direction}`` segment of ``/v1/orders/{direction}/...`` (closed: only these three exist)."""

    INCOMING = "Incoming"
    OUTGOING = "Outgoing"
    ALL = "All"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def coerce(cls, value: str | OrderDirection) -> OrderDirection:
        """Return the member for ``value`` (a member or a string in any case)."""
        if isinstance(value, OrderDirection):
            return value
        if isinstance(value, str):
            for member in cls:
                if member.value.lower() == value.lower():
                    return member
        valid = ", ".join(member.value for member in cls)
        raise ValueError(f"invalid order direction {value!r}: expected one of {valid} (case-insensitive)")


class PaymentType(OpenEnum):
    """Type of a :class:`Payment`; unknown types are kept (open enum)."""

    PURCHASE_ORDER = "PurchaseOrder"
    CREDIT_CARD = "CreditCard"
    SPENDING_ACCOUNT = "SpendingAccount"


class PriceMarkupType(OpenEnum):
    """How a spec option changes the price of a :class:`LineItemSpec`; unknown types are kept (open enum)."""

    NO_MARKUP = "NoMarkup"
    AMOUNT_PER_QUANTITY = "AmountPerQuantity"
    AMOUNT_TOTAL = "AmountTotal"
    PERCENTAGE = "Percentage"


# ------------------------------------------------------------------------------------ addresses, users


class Address(_CommerceModel, Generic[_AddressXpT]):
    """A postal address (bill-to, ship-to, ship-from). ``Street1``, ``City`` and ``Country`` are required."""

    id: str | None = Field(default=None, validation_alias="ID", serialization_alias="ID")
    date_created: DateTime | None = _read_only("DateCreated")
    company_name: str | None = Field(default=None, validation_alias="CompanyName", serialization_alias="CompanyName")
    first_name: str | None = Field(default=None, validation_alias="FirstName", serialization_alias="FirstName")
    last_name: str | None = Field(default=None, validation_alias="LastName", serialization_alias="LastName")
    street1: str = Field(validation_alias="Street1", serialization_alias="Street1")
    street2: str | None = Field(default=None, validation_alias="Street2", serialization_alias="Street2")
    city: str = Field(validation_alias="City", serialization_alias="City")
    state: str | None = Field(
        default=None, validation_alias="State", serialization_alias="State", description="Required for US and CA."
    )
    zip: str | None = Field(
        default=None, validation_alias="Zip", serialization_alias="Zip", description="Required for US and CA."
    )
    country: str = Field(
        validation_alias="Country", serialization_alias="Country", description="Two-letter country code."
    )
    phone: str | None = Field(default=None, validation_alias="Phone", serialization_alias="Phone")
    address_name: str | None = Field(default=None, validation_alias="AddressName", serialization_alias="AddressName")
    xp: _AddressXpT | None = Field(default=None, validation_alias="xp", serialization_alias="xp")


class Locale(_CommerceModel):
    """A user's locale (``User.Locale``, read-only there)."""

    id: str | None = Field(default=None, validation_alias="ID", serialization_alias="ID")
    owner_id: str | None = Field(default=None, validation_alias="OwnerID", serialization_alias="OwnerID")
    currency: str | None = Field(default=None, validation_alias="Currency", serialization_alias="Currency")
    language: str | None = Field(default=None, validation_alias="Language", serialization_alias="Language")


class _UserBase(_CommerceModel, Generic[_UserXpT]):
    """Fields shared by :class:`User`, :class:`OrderUser` and :class:`MeUser` (all optional here)."""

    id: str | None = Field(default=None, validation_alias="ID", serialization_alias="ID")
    company_id: str | None = _read_only("CompanyID")
    username: str | None = Field(default=None, validation_alias="Username", serialization_alias="Username")
    password: Secret | None = Field(
        default=None,
        validation_alias="Password",
        serialization_alias="Password",
        description="Write-only; the API never returns it.",
    )
    first_name: str | None = Field(default=None, validation_alias="FirstName", serialization_alias="FirstName")
    last_name: str | None = Field(default=None, validation_alias="LastName", serialization_alias="LastName")
    email: str | None = Field(default=None, validation_alias="Email", serialization_alias="Email")
    phone: str | None = Field(default=None, validation_alias="Phone", serialization_alias="Phone")
    terms_accepted: DateTime | None = Field(
        default=None, validation_alias="TermsAccepted", serialization_alias="TermsAccepted"
    )
    active: bool | None = Field(default=None, validation_alias="Active", serialization_alias="Active")
    xp: _UserXpT | None = Field(default=None, validation_alias="xp", serialization_alias="xp")
    available_roles: list[str] | None = _read_only("AvailableRoles")
    locale: Locale | None = _read_only("Locale")
    date_created: DateTime | None = _read_only("DateCreated")
    last_active: DateTime | None = _read_only("LastActive")
    password_last_set_date: DateTime | None = _read_only("PasswordLastSetDate")


class OrderUser(_UserBase[_OrderUserXpT], Generic[_OrderUserXpT]):
    """The user who placed an order (``Order.FromUser``). All fields optional."""


class MeUser(_UserBase[_MeUserXpT], Generic[_MeUserXpT]):
    """The authenticated user (``GET /v1/me``) and the body of ``PUT /v1/me/register``."""

    buyer: JSONObject | None = _read_only("Buyer", "The user's buyer organisation (``{ID, DefaultCatalogID}``).")
    supplier: JSONObject | None = _read_only("Supplier", "The user's supplier organisation (``{ID}``).")
    seller: JSONObject | None = _read_only("Seller", "The seller organisation (``{ID}``).")


class User(_UserBase[_FullUserXpT], Generic[_FullUserXpT]):
    """A buyer, supplier or admin user (``/v1/buyers/{buyerID}/users`` and friends)."""

    username: str = Field(validation_alias="Username", serialization_alias="Username")
    first_name: str = Field(validation_alias="FirstName", serialization_alias="FirstName")
    last_name: str = Field(validation_alias="LastName", serialization_alias="LastName")
    email: str = Field(validation_alias="Email", serialization_alias="Email")
    active: bool = Field(validation_alias="Active", serialization_alias="Active")
    failed_login_attempts: int | None = _read_only("FailedLoginAttempts")


class UserPatch(_CommerceModel, Generic[_UserPatchXpT]):
    """A partial user for ``PATCH`` calls (``/v1/me``, ``/v1/cart/fromuser``, ...)."""

    id: str | None = Field(default=None, validation_alias="ID", serialization_alias="ID")
    username: str | None = Field(default=None, validation_alias="Username", serialization_alias="Username")
    password: Secret | None = Field(default=None, validation_alias="Password", serialization_alias="Password")
    first_name: str | None = Field(default=None, validation_alias="FirstName", serialization_alias="FirstName")
    last_name: str | None = Field(default=None, validation_alias="LastName", serialization_alias="LastName")
    email: str | None = Field(default=None, validation_alias="Email", serialization_alias="Email")
    phone: str | None = Field(default=None, validation_alias="Phone", serialization_alias="Phone")
    terms_accepted: DateTime | None = Field(
        default=None, validation_alias="TermsAccepted", serialization_alias="TermsAccepted"
    )
    active: bool | None = Field(default=None, validation_alias="Active", serialization_alias="Active")
    xp: _UserPatchXpT | None = Field(default=None, validation_alias="xp", serialization_alias="xp")


# --------------------------------------------------------------------------------------------- orders


class Order(_CommerceModel, Generic[_OrderXpT]):
    """An order or cart (``/v1/cart``, ``/v1/orders/{direction}/{orderID}``)."""

    id: str | None = Field(
        default=None,
        validation_alias="ID",
        serialization_alias="ID",
        description="``A-Za-z0-9-_``, at most 100 characters.",
    )
    from_user: OrderUser | None = _read_only("FromUser")
    from_company_id: str | None = Field(
        default=None, validation_alias="FromCompanyID", serialization_alias="FromCompanyID"
    )
    to_company_id: str | None = Field(default=None, validation_alias="ToCompanyID", serialization_alias="ToCompanyID")
    from_user_id: str | None = Field(default=None, validation_alias="FromUserID", serialization_alias="FromUserID")
    billing_address_id: str | None = Field(
        default=None, validation_alias="BillingAddressID", serialization_alias="BillingAddressID"
    )
    billing_address: Address | None = _read_only("BillingAddress")
    shipping_address_id: str | None = Field(
        default=None,
        validation_alias="ShippingAddressID",
        serialization_alias="ShippingAddressID",
        description="``None`` when line items ship to several addresses.",
    )
    comments: str | None = Field(default=None, validation_alias="Comments", serialization_alias="Comments")
    line_item_count: int | None = _read_only("LineItemCount")
    status: OrderStatus | None = _read_only("Status")
    date_created: DateTime | None = _read_only("DateCreated")
    date_submitted: DateTime | None = _read_only("DateSubmitted")
    date_approved: DateTime | None = _read_only("DateApproved")
    date_declined: DateTime | None = _read_only("DateDeclined")
    date_canceled: DateTime | None = _read_only("DateCanceled")
    date_completed: DateTime | None = _read_only("DateCompleted")
    last_updated: DateTime | None = _read_only("LastUpdated")
    subtotal: Money | None = _read_only("Subtotal", "Sum of the line items' ``LineSubtotal``.")
    shipping_cost: Money | None = Field(
        default=None,
        validation_alias="ShippingCost",
        serialization_alias="ShippingCost",
        description="Writing it needs the ``OverrideShipping`` role.",
    )
    tax_cost: Money | None = Field(
        default=None,
        validation_alias="TaxCost",
        serialization_alias="TaxCost",
        description="Writing it needs the tax override role.",
    )
    gratuity: Money | None = Field(default=None, validation_alias="Gratuity", serialization_alias="Gratuity")
    fees: Money | None = _read_only("Fees")
    promotion_discount: Money | None = _read_only("PromotionDiscount")
    currency: str | None = _read_only("Currency", "Inherited from the user.")
    total: Money | None = _read_only(
        "Total", "Subtotal + TaxCost + ShippingCost + Gratuity + Fees - PromotionDiscount."
    )
    is_submitted: bool | None = _read_only("IsSubmitted")
    subscription_id: str | None = _read_only("SubscriptionID")
    xp: _OrderXpT | None = Field(default=None, validation_alias="xp", serialization_alias="xp")


class OrderPatch(_CommerceModel, Generic[_OrderPatchXpT]):
    """A partial order for ``PATCH /v1/cart`` and ``PATCH /v1/orders/{direction}/{orderID}``."""

    id: str | None = Field(default=None, validation_alias="ID", serialization_alias="ID")
    from_company_id: str | None = Field(
        default=None, validation_alias="FromCompanyID", serialization_alias="FromCompanyID"
    )
    to_company_id: str | None = Field(default=None, validation_alias="ToCompanyID", serialization_alias="ToCompanyID")
    from_user_id: str | None = Field(default=None, validation_alias="FromUserID", serialization_alias="FromUserID")
    billing_address_id: str | None = Field(
        default=None, validation_alias="BillingAddressID", serialization_alias="BillingAddressID"
    )
    shipping_address_id: str | None = Field(
        default=None, validation_alias="ShippingAddressID", serialization_alias="ShippingAddressID"
    )
    comments: str | None = Field(default=None, validation_alias="Comments", serialization_alias="Comments")
    shipping_cost: Money | None = Field(
        default=None, validation_alias="ShippingCost", serialization_alias="ShippingCost"
    )
    tax_cost: Money | None = Field(default=None, validation_alias="TaxCost", serialization_alias="TaxCost")
    gratuity: Money | None = Field(default=None, validation_alias="Gratuity", serialization_alias="Gratuity")
    xp: _OrderPatchXpT | None = Field(default=None, validation_alias="xp", serialization_alias="xp")


# ----------------------------------------------------------------------------------------- line items


class LineItemProduct(_CommerceModel, Generic[_LineItemProductXpT]):
    """The product snapshot on a line item (``LineItem.Product``)."""

    id: str | None = Field(default=None, validation_alias="ID", serialization_alias="ID")
    name: str | None = Field(default=None, validation_alias="Name", serialization_alias="Name")
    description: str | None = Field(default=None, validation_alias="Description", serialization_alias="Description")
    returnable: bool | None = Field(default=None, validation_alias="Returnable", serialization_alias="Returnable")
    quantity_multiplier: int | None = Field(
        default=None, validation_alias="QuantityMultiplier", serialization_alias="QuantityMultiplier"
    )
    ship_weight: float | None = Field(default=None, validation_alias="ShipWeight", serialization_alias="ShipWeight")
    ship_height: float | None = Field(default=None, validation_alias="ShipHeight", serialization_alias="ShipHeight")
    ship_width: float | None = Field(default=None, validation_alias="ShipWidth", serialization_alias="ShipWidth")
    ship_length: float | None = Field(default=None, validation_alias="ShipLength", serialization_alias="ShipLength")
    default_supplier_id: str | None = Field(
        default=None, validation_alias="DefaultSupplierID", serialization_alias="DefaultSupplierID"
    )
    parent_id: str | None = Field(default=None, validation_alias="ParentID", serialization_alias="ParentID")
    xp: _LineItemProductXpT | None = Field(default=None, validation_alias="xp", serialization_alias="xp")


class LineItemVariant(_CommerceModel, Generic[_LineItemVariantXpT]):
    """The variant snapshot on a line item (``LineItem.Variant``)."""

    id: str | None = Field(default=None, validation_alias="ID", serialization_alias="ID")
    name: str | None = Field(default=None, validation_alias="Name", serialization_alias="Name")
    description: str | None = Field(default=None, validation_alias="Description", serialization_alias="Description")
    ship_weight: float | None = Field(default=None, validation_alias="ShipWeight", serialization_alias="ShipWeight")
    ship_height: float | None = Field(default=None, validation_alias="ShipHeight", serialization_alias="ShipHeight")
    ship_width: float | None = Field(default=None, validation_alias="ShipWidth", serialization_alias="ShipWidth")
    ship_length: float | None = Field(default=None, validation_alias="ShipLength", serialization_alias="ShipLength")
    xp: _LineItemVariantXpT | None = Field(default=None, validation_alias="xp", serialization_alias="xp")


class LineItemSpec(_CommerceModel):
    """A spec choice on a line item (``LineItem.Specs[]``). ``SpecID`` is required."""

    spec_id: str = Field(validation_alias="SpecID", serialization_alias="SpecID")
    name: str | None = _read_only("Name")
    option_id: str | None = Field(default=None, validation_alias="OptionID", serialization_alias="OptionID")
    value: str | None = Field(default=None, validation_alias="Value", serialization_alias="Value")
    price_markup_type: PriceMarkupType | None = Field(
        default=None, validation_alias="PriceMarkupType", serialization_alias="PriceMarkupType"
    )
    price_markup: Money | None = Field(default=None, validation_alias="PriceMarkup", serialization_alias="PriceMarkup")


class LineItem(_CommerceModel, Generic[_LineItemXpT]):
    """A line of a cart or order. ``ProductID`` is required and cannot change after create."""

    id: str | None = Field(default=None, validation_alias="ID", serialization_alias="ID")
    product_id: str = Field(validation_alias="ProductID", serialization_alias="ProductID")
    quantity: int | None = Field(
        default=None, validation_alias="Quantity", serialization_alias="Quantity", description="At least 1."
    )
    bundle_item_id: str | None = _read_only("BundleItemID")
    is_bundle: bool | None = _read_only("IsBundle")
    date_added: DateTime | None = _read_only("DateAdded")
    quantity_shipped: int | None = _read_only("QuantityShipped")
    unit_price: Money | None = Field(
        default=None,
        validation_alias="UnitPrice",
        serialization_alias="UnitPrice",
        description="Computed by OrderCloud; writing it needs the ``OverrideUnitPrice`` role.",
    )
    promotion_discount: Money | None = _read_only("PromotionDiscount")
    line_total: Money | None = _read_only("LineTotal", "LineSubtotal - PromotionDiscount.")
    line_subtotal: Money | None = _read_only("LineSubtotal", "UnitPrice x Quantity.")
    cost_center: str | None = Field(default=None, validation_alias="CostCenter", serialization_alias="CostCenter")
    date_needed: DateTime | None = Field(default=None, validation_alias="DateNeeded", serialization_alias="DateNeeded")
    shipping_account: str | None = Field(
        default=None, validation_alias="ShippingAccount", serialization_alias="ShippingAccount"
    )
    shipping_address_id: str | None = Field(
        default=None, validation_alias="ShippingAddressID", serialization_alias="ShippingAddressID"
    )
    ship_from_address_id: str | None = Field(
        default=None, validation_alias="ShipFromAddressID", serialization_alias="ShipFromAddressID"
    )
    product: LineItemProduct | None = _read_only("Product")
    variant: LineItemVariant | None = _read_only("Variant")
    shipping_address: Address | None = _read_only("ShippingAddress")
    ship_from_address: Address | None = _read_only("ShipFromAddress")
    supplier_id: str | None = _read_only("SupplierID")
    inventory_record_id: str | None = Field(
        default=None, validation_alias="InventoryRecordID", serialization_alias="InventoryRecordID"
    )
    price_schedule_id: str | None = _read_only("PriceScheduleID")
    is_on_sale: bool | None = _read_only("IsOnSale")
    price_overridden: bool | None = _read_only("PriceOverridden")
    specs: list[LineItemSpec] | None = Field(default=None, validation_alias="Specs", serialization_alias="Specs")
    incoming_order_id: str | None = _read_only("IncomingOrderID")
    outgoing_order_id: str | None = _read_only("OutgoingOrderID")
    invitation_id: str | None = _read_only("InvitationID")
    xp: _LineItemXpT | None = Field(default=None, validation_alias="xp", serialization_alias="xp")


class LineItemPatch(_CommerceModel, Generic[_LineItemPatchXpT]):
    """A partial line item for ``PATCH .../lineitems/{lineItemID}``."""

    id: str | None = Field(default=None, validation_alias="ID", serialization_alias="ID")
    product_id: str | None = Field(default=None, validation_alias="ProductID", serialization_alias="ProductID")
    quantity: int | None = Field(default=None, validation_alias="Quantity", serialization_alias="Quantity")
    unit_price: Money | None = Field(default=None, validation_alias="UnitPrice", serialization_alias="UnitPrice")
    cost_center: str | None = Field(default=None, validation_alias="CostCenter", serialization_alias="CostCenter")
    date_needed: DateTime | None = Field(default=None, validation_alias="DateNeeded", serialization_alias="DateNeeded")
    shipping_account: str | None = Field(
        default=None, validation_alias="ShippingAccount", serialization_alias="ShippingAccount"
    )
    shipping_address_id: str | None = Field(
        default=None, validation_alias="ShippingAddressID", serialization_alias="ShippingAddressID"
    )
    ship_from_address_id: str | None = Field(
        default=None, validation_alias="ShipFromAddressID", serialization_alias="ShipFromAddressID"
    )
    inventory_record_id: str | None = Field(
        default=None, validation_alias="InventoryRecordID", serialization_alias="InventoryRecordID"
    )
    specs: list[LineItemSpec] | None = Field(default=None, validation_alias="Specs", serialization_alias="Specs")
    xp: _LineItemPatchXpT | None = Field(default=None, validation_alias="xp", serialization_alias="xp")


# ------------------------------------------------------------------------------------------- products


class PriceBreak(_CommerceModel):
    """One quantity break of a :class:`PriceSchedule`."""

    quantity: int | None = Field(default=None, validation_alias="Quantity", serialization_alias="Quantity")
    price: Money | None = Field(default=None, validation_alias="Price", serialization_alias="Price")
    sale_price: Money | None = Field(default=None, validation_alias="SalePrice", serialization_alias="SalePrice")
    subscription_price: Money | None = Field(
        default=None, validation_alias="SubscriptionPrice", serialization_alias="SubscriptionPrice"
    )
    bundle_price: Money | None = Field(default=None, validation_alias="BundlePrice", serialization_alias="BundlePrice")


class PriceSchedule(_CommerceModel, Generic[_PriceScheduleXpT]):
    """The price schedule a buyer sees on a product (``BuyerProduct.PriceSchedule``)."""

    owner_id: str | None = Field(default=None, validation_alias="OwnerID", serialization_alias="OwnerID")
    id: str | None = Field(default=None, validation_alias="ID", serialization_alias="ID")
    name: str | None = Field(default=None, validation_alias="Name", serialization_alias="Name")
    apply_tax: bool | None = Field(default=None, validation_alias="ApplyTax", serialization_alias="ApplyTax")
    apply_shipping: bool | None = Field(
        default=None, validation_alias="ApplyShipping", serialization_alias="ApplyShipping"
    )
    min_quantity: int | None = Field(default=None, validation_alias="MinQuantity", serialization_alias="MinQuantity")
    max_quantity: int | None = Field(default=None, validation_alias="MaxQuantity", serialization_alias="MaxQuantity")
    use_cumulative_quantity: bool | None = Field(
        default=None, validation_alias="UseCumulativeQuantity", serialization_alias="UseCumulativeQuantity"
    )
    restricted_quantity: bool | None = Field(
        default=None, validation_alias="RestrictedQuantity", serialization_alias="RestrictedQuantity"
    )
    price_breaks: list[PriceBreak] | None = Field(
        default=None, validation_alias="PriceBreaks", serialization_alias="PriceBreaks"
    )
    currency: str | None = Field(default=None, validation_alias="Currency", serialization_alias="Currency")
    sale_start: DateTime | None = Field(default=None, validation_alias="SaleStart", serialization_alias="SaleStart")
    sale_end: DateTime | None = Field(default=None, validation_alias="SaleEnd", serialization_alias="SaleEnd")
    is_on_sale: bool | None = _read_only("IsOnSale")
    xp: _PriceScheduleXpT | None = Field(default=None, validation_alias="xp", serialization_alias="xp")


class ProductInventory(_CommerceModel):
    """Inventory settings of a product (``Product.Inventory``)."""

    enabled: bool | None = Field(default=None, validation_alias="Enabled", serialization_alias="Enabled")
    notification_point: int | None = Field(
        default=None, validation_alias="NotificationPoint", serialization_alias="NotificationPoint"
    )
    variant_level_tracking: bool | None = Field(
        default=None, validation_alias="VariantLevelTracking", serialization_alias="VariantLevelTracking"
    )
    order_can_exceed: bool | None = Field(
        default=None, validation_alias="OrderCanExceed", serialization_alias="OrderCanExceed"
    )
    quantity_available: int | None = Field(
        default=None, validation_alias="QuantityAvailable", serialization_alias="QuantityAvailable"
    )
    last_updated: DateTime | None = _read_only("LastUpdated")


class Product(_CommerceModel, Generic[_ProductXpT]):
    """A product (``/v1/products``) or a buyer product (``/v1/me/products``)."""

    owner_id: str | None = Field(default=None, validation_alias="OwnerID", serialization_alias="OwnerID")
    default_price_schedule_id: str | None = Field(
        default=None, validation_alias="DefaultPriceScheduleID", serialization_alias="DefaultPriceScheduleID"
    )
    auto_forward: bool | None = Field(default=None, validation_alias="AutoForward", serialization_alias="AutoForward")
    id: str | None = Field(default=None, validation_alias="ID", serialization_alias="ID")
    parent_id: str | None = Field(default=None, validation_alias="ParentID", serialization_alias="ParentID")
    is_parent: bool | None = Field(default=None, validation_alias="IsParent", serialization_alias="IsParent")
    is_bundle: bool | None = _read_only("IsBundle")
    name: str | None = Field(default=None, validation_alias="Name", serialization_alias="Name")
    description: str | None = Field(default=None, validation_alias="Description", serialization_alias="Description")
    quantity_multiplier: int | None = Field(
        default=None, validation_alias="QuantityMultiplier", serialization_alias="QuantityMultiplier"
    )
    ship_weight: float | None = Field(default=None, validation_alias="ShipWeight", serialization_alias="ShipWeight")
    ship_height: float | None = Field(default=None, validation_alias="ShipHeight", serialization_alias="ShipHeight")
    ship_width: float | None = Field(default=None, validation_alias="ShipWidth", serialization_alias="ShipWidth")
    ship_length: float | None = Field(default=None, validation_alias="ShipLength", serialization_alias="ShipLength")
    active: bool | None = Field(default=None, validation_alias="Active", serialization_alias="Active")
    spec_count: int | None = _read_only("SpecCount")
    variant_count: int | None = _read_only("VariantCount")
    ship_from_address_id: str | None = Field(
        default=None, validation_alias="ShipFromAddressID", serialization_alias="ShipFromAddressID"
    )
    inventory: ProductInventory | None = Field(
        default=None, validation_alias="Inventory", serialization_alias="Inventory"
    )
    default_supplier_id: str | None = Field(
        default=None, validation_alias="DefaultSupplierID", serialization_alias="DefaultSupplierID"
    )
    all_suppliers_can_sell: bool | None = Field(
        default=None, validation_alias="AllSuppliersCanSell", serialization_alias="AllSuppliersCanSell"
    )
    returnable: bool | None = Field(default=None, validation_alias="Returnable", serialization_alias="Returnable")
    date_created: DateTime | None = _read_only("DateCreated")
    xp: _ProductXpT | None = Field(default=None, validation_alias="xp", serialization_alias="xp")
    price_schedule: PriceSchedule | None = _read_only("PriceSchedule", "Only on buyer products (``/v1/me/products``).")


# ------------------------------------------------------------------------------------------- payments


class PaymentTransaction(_CommerceModel, Generic[_PaymentTransactionXpT]):
    """One transaction of a :class:`Payment` (``Payment.Transactions[]``)."""

    id: str | None = Field(default=None, validation_alias="ID", serialization_alias="ID")
    type: str | None = Field(default=None, validation_alias="Type", serialization_alias="Type")
    date_executed: DateTime | None = Field(
        default=None, validation_alias="DateExecuted", serialization_alias="DateExecuted"
    )
    currency: str | None = Field(default=None, validation_alias="Currency", serialization_alias="Currency")
    amount: Money | None = Field(default=None, validation_alias="Amount", serialization_alias="Amount")
    succeeded: bool | None = Field(default=None, validation_alias="Succeeded", serialization_alias="Succeeded")
    result_code: str | None = Field(default=None, validation_alias="ResultCode", serialization_alias="ResultCode")
    result_message: str | None = Field(
        default=None, validation_alias="ResultMessage", serialization_alias="ResultMessage"
    )
    xp: _PaymentTransactionXpT | None = Field(default=None, validation_alias="xp", serialization_alias="xp")


class Payment(_CommerceModel, Generic[_PaymentXpT]):
    """A payment on an order (``/v1/cart/payments``, ``/v1/orders/{direction}/{orderID}/payments``)."""

    id: str | None = Field(default=None, validation_alias="ID", serialization_alias="ID")
    type: PaymentType | None = Field(default=None, validation_alias="Type", serialization_alias="Type")
    date_created: DateTime | None = _read_only("DateCreated")
    credit_card_id: str | None = Field(
        default=None, validation_alias="CreditCardID", serialization_alias="CreditCardID"
    )
    spending_account_id: str | None = Field(
        default=None, validation_alias="SpendingAccountID", serialization_alias="SpendingAccountID"
    )
    description: str | None = Field(default=None, validation_alias="Description", serialization_alias="Description")
    currency: str | None = _read_only("Currency")
    amount: Money | None = Field(default=None, validation_alias="Amount", serialization_alias="Amount")
    accepted: bool | None = Field(default=None, validation_alias="Accepted", serialization_alias="Accepted")
    order_return_id: str | None = Field(
        default=None, validation_alias="OrderReturnID", serialization_alias="OrderReturnID"
    )
    xp: _PaymentXpT | None = Field(default=None, validation_alias="xp", serialization_alias="xp")
    transactions: list[PaymentTransaction] | None = _read_only("Transactions")


# ---------------------------------------------------------------------------------------- API clients


class ApiClient(_CommerceModel, Generic[_ApiClientXpT]):
    """An API client (``/v1/apiclients``): the OAuth ``client_id`` and what may authenticate with it."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    id: str | None = _read_only("ID")
    """The OAuth ``client_id`` (the ``cid`` claim of its tokens); assigned by OrderCloud."""
    client_secret: Secret | None = Field(
        default=None, validation_alias="ClientSecret", serialization_alias="ClientSecret"
    )
    """If set, every grant must send it, even ``password``; leave it unset for anonymous or client-side
    apps."""
    access_token_duration: int = Field(
        validation_alias="AccessTokenDuration", serialization_alias="AccessTokenDuration"
    )
    """Lifetime of access tokens in minutes (10-600). Anonymous tokens use
    :attr:`anonymous_token_duration` instead."""
    active: bool | None = Field(default=None, validation_alias="Active", serialization_alias="Active")
    """``False`` blocks every authentication with this client."""
    app_name: str = Field(validation_alias="AppName", serialization_alias="AppName")
    """Display name of the application."""
    refresh_token_duration: int | None = Field(
        default=None, validation_alias="RefreshTokenDuration", serialization_alias="RefreshTokenDuration"
    )
    """Lifetime of refresh tokens in minutes (0-524160); ``0`` or unset disables refresh tokens.
    Anonymous tokens never get a refresh token."""
    default_context_user_name: str | None = Field(
        default=None, validation_alias="DefaultContextUserName", serialization_alias="DefaultContextUserName"
    )
    """Username of the template user the ``client_credentials`` grant acts as. Must be a buyer user for
    anonymous shopping: each anonymous shopper is a temporary copy of this user."""
    xp: _ApiClientXpT | None = Field(default=None, validation_alias="xp", serialization_alias="xp")
    """Extended properties."""
    allow_any_buyer: bool | None = Field(
        default=None, validation_alias="AllowAnyBuyer", serialization_alias="AllowAnyBuyer"
    )
    """Any buyer user may authenticate (otherwise only assigned buyers)."""
    allow_any_supplier: bool | None = Field(
        default=None, validation_alias="AllowAnySupplier", serialization_alias="AllowAnySupplier"
    )
    """Any supplier user may authenticate (otherwise only assigned suppliers)."""
    allow_seller: bool | None = Field(default=None, validation_alias="AllowSeller", serialization_alias="AllowSeller")
    """Seller (admin) users may authenticate."""
    is_anon_buyer: bool | None = Field(default=None, validation_alias="IsAnonBuyer", serialization_alias="IsAnonBuyer")
    """Enables anonymous shopping when :attr:`default_context_user_name` is a buyer user: a
    ``client_credentials`` request *without* a secret (optionally with ``anonuserid``, the beacon ID)
    returns an anonymous shopper token. Setting it without a buyer default user fails with
    ``ApiClient.RequiredNotAnonBuyer``."""
    assigned_buyer_count: int | None = _read_only("AssignedBuyerCount")
    """Number of buyers assigned to this client."""
    assigned_supplier_count: int | None = _read_only("AssignedSupplierCount")
    """Number of suppliers assigned to this client."""
    order_checkout_integration_event_id: str | None = Field(
        default=None,
        validation_alias="OrderCheckoutIntegrationEventID",
        serialization_alias="OrderCheckoutIntegrationEventID",
    )
    """Integration event called during checkout (shipping rates, tax, order calculation)."""
    order_checkout_integration_event_name: str | None = _read_only("OrderCheckoutIntegrationEventName")
    """Name of the checkout integration event."""
    order_return_integration_event_id: str | None = Field(
        default=None,
        validation_alias="OrderReturnIntegrationEventID",
        serialization_alias="OrderReturnIntegrationEventID",
    )
    """Integration event called to calculate order returns."""
    order_return_integration_event_name: str | None = _read_only("OrderReturnIntegrationEventName")
    """Name of the order-return integration event."""
    add_to_cart_integration_event_id: str | None = Field(
        default=None, validation_alias="AddToCartIntegrationEventID", serialization_alias="AddToCartIntegrationEventID"
    )
    """Integration event called when a line item is added to a cart."""
    add_to_cart_integration_event_name: str | None = _read_only("AddToCartIntegrationEventName")
    """Name of the add-to-cart integration event."""
    minimum_required_roles: list[str] | None = Field(
        default=None, validation_alias="MinimumRequiredRoles", serialization_alias="MinimumRequiredRoles"
    )
    """API roles a user must hold to authenticate with this client."""
    minimum_required_custom_roles: list[str] | None = Field(
        default=None, validation_alias="MinimumRequiredCustomRoles", serialization_alias="MinimumRequiredCustomRoles"
    )
    """Custom roles a user must hold to authenticate with this client."""
    maximum_granted_roles: list[str] | None = Field(
        default=None, validation_alias="MaximumGrantedRoles", serialization_alias="MaximumGrantedRoles"
    )
    """The most API roles a token from this client can carry."""
    maximum_granted_custom_roles: list[str] | None = Field(
        default=None, validation_alias="MaximumGrantedCustomRoles", serialization_alias="MaximumGrantedCustomRoles"
    )
    """The most custom roles a token from this client can carry."""
    anonymous_token_duration: int | None = Field(
        default=None, validation_alias="AnonymousTokenDuration", serialization_alias="AnonymousTokenDuration"
    )
    """Lifetime of anonymous shopper tokens in minutes (OrderCloud's default is 10080, seven days).
    Only used when the client is configured for anonymous shopping (:attr:`is_anon_buyer`)."""


class ApiClientPatch(_CommerceModel, Generic[_ApiClientPatchXpT]):
    """A partial API client for ``PATCH /v1/apiclients/{apiClientID}`` (fields as on :class:`ApiClient`)."""

    client_secret: Secret | None = Field(
        default=None, validation_alias="ClientSecret", serialization_alias="ClientSecret"
    )
    access_token_duration: int | None = Field(
        default=None, validation_alias="AccessTokenDuration", serialization_alias="AccessTokenDuration"
    )
    active: bool | None = Field(default=None, validation_alias="Active", serialization_alias="Active")
    app_name: str | None = Field(default=None, validation_alias="AppName", serialization_alias="AppName")
    refresh_token_duration: int | None = Field(
        default=None, validation_alias="RefreshTokenDuration", serialization_alias="RefreshTokenDuration"
    )
    default_context_user_name: str | None = Field(
        default=None, validation_alias="DefaultContextUserName", serialization_alias="DefaultContextUserName"
    )
    xp: _ApiClientPatchXpT | None = Field(default=None, validation_alias="xp", serialization_alias="xp")
    allow_any_buyer: bool | None = Field(
        default=None, validation_alias="AllowAnyBuyer", serialization_alias="AllowAnyBuyer"
    )
    allow_any_supplier: bool | None = Field(
        default=None, validation_alias="AllowAnySupplier", serialization_alias="AllowAnySupplier"
    )
    allow_seller: bool | None = Field(default=None, validation_alias="AllowSeller", serialization_alias="AllowSeller")
    is_anon_buyer: bool | None = Field(default=None, validation_alias="IsAnonBuyer", serialization_alias="IsAnonBuyer")
    order_checkout_integration_event_id: str | None = Field(
        default=None,
        validation_alias="OrderCheckoutIntegrationEventID",
        serialization_alias="OrderCheckoutIntegrationEventID",
    )
    order_return_integration_event_id: str | None = Field(
        default=None,
        validation_alias="OrderReturnIntegrationEventID",
        serialization_alias="OrderReturnIntegrationEventID",
    )
    add_to_cart_integration_event_id: str | None = Field(
        default=None, validation_alias="AddToCartIntegrationEventID", serialization_alias="AddToCartIntegrationEventID"
    )
    minimum_required_roles: list[str] | None = Field(
        default=None, validation_alias="MinimumRequiredRoles", serialization_alias="MinimumRequiredRoles"
    )
    minimum_required_custom_roles: list[str] | None = Field(
        default=None, validation_alias="MinimumRequiredCustomRoles", serialization_alias="MinimumRequiredCustomRoles"
    )
    maximum_granted_roles: list[str] | None = Field(
        default=None, validation_alias="MaximumGrantedRoles", serialization_alias="MaximumGrantedRoles"
    )
    maximum_granted_custom_roles: list[str] | None = Field(
        default=None, validation_alias="MaximumGrantedCustomRoles", serialization_alias="MaximumGrantedCustomRoles"
    )
    anonymous_token_duration: int | None = Field(
        default=None, validation_alias="AnonymousTokenDuration", serialization_alias="AnonymousTokenDuration"
    )


# --------------------------------------------------------------------------------------------- tokens


class AccessToken(_CommerceModel):
    """The body of a token response (``POST /oauth/token``) or of ``PUT /v1/me/register``."""

    access_token: Secret = Field(validation_alias="access_token", serialization_alias="access_token")
    token_type: str | None = Field(
        default=None, validation_alias="token_type", serialization_alias="token_type", description="``bearer``."
    )
    expires_in: int | None = Field(
        default=None,
        validation_alias="expires_in",
        serialization_alias="expires_in",
        description="Lifetime in seconds.",
    )
    refresh_token: Secret | None = Field(
        default=None,
        validation_alias="refresh_token",
        serialization_alias="refresh_token",
        description="Only when the client's ``RefreshTokenDuration`` > 0; never for anonymous users.",
    )
