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

Patch models
    :class:`OrderPatch`, :class:`LineItemPatch`, :class:`UserPatch` and :class:`ApiClientPatch` hold the
    fields a caller writes on their model, all optional. Each shares them with its model through a
    private base (declared once), so the model lists them first, then the fields the API computes.

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
_UserFieldsXpT = TypeVar("_UserFieldsXpT", default=JSONObject)
_UserXpT = TypeVar("_UserXpT", default=JSONObject)
_OrderUserXpT = TypeVar("_OrderUserXpT", default=JSONObject)
_MeUserXpT = TypeVar("_MeUserXpT", default=JSONObject)
_FullUserXpT = TypeVar("_FullUserXpT", default=JSONObject)
_UserPatchXpT = TypeVar("_UserPatchXpT", default=JSONObject)
_OrderFieldsXpT = TypeVar("_OrderFieldsXpT", default=JSONObject)
_OrderXpT = TypeVar("_OrderXpT", default=JSONObject)
_OrderPatchXpT = TypeVar("_OrderPatchXpT", default=JSONObject)
_ProductFieldsXpT = TypeVar("_ProductFieldsXpT", default=JSONObject)
_LineItemProductXpT = TypeVar("_LineItemProductXpT", default=JSONObject)
_LineItemVariantXpT = TypeVar("_LineItemVariantXpT", default=JSONObject)
_LineItemFieldsXpT = TypeVar("_LineItemFieldsXpT", default=JSONObject)
_LineItemXpT = TypeVar("_LineItemXpT", default=JSONObject)
_LineItemPatchXpT = TypeVar("_LineItemPatchXpT", default=JSONObject)
_PriceScheduleXpT = TypeVar("_PriceScheduleXpT", default=JSONObject)
_ProductXpT = TypeVar("_ProductXpT", default=JSONObject)
_PaymentTransactionXpT = TypeVar("_PaymentTransactionXpT", default=JSONObject)
_PaymentXpT = TypeVar("_PaymentXpT", default=JSONObject)
_ApiClientFieldsXpT = TypeVar("_ApiClientFieldsXpT", default=JSONObject)
_ApiClientXpT = TypeVar("_ApiClientXpT", default=JSONObject)
_ApiClientPatchXpT = TypeVar("_ApiClientPatchXpT", default=JSONObject)

_READ_ONLY_KEY = "readOnly"


def _read_only(description: str | None = None) -> Any:
    """An optional field the API computes: ``None`` by default, ``readOnly`` in the JSON schema."""
    return Field(default=None, description=description, json_schema_extra={_READ_ONLY_KEY: True})


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

    id: str | None = None
    date_created: DateTime | None = _read_only()
    company_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    street1: str
    street2: str | None = None
    city: str
    state: str | None = Field(default=None, description="Required for US and CA.")
    zip: str | None = Field(default=None, description="Required for US and CA.")
    country: str = Field(description="Two-letter country code.")
    phone: str | None = None
    address_name: str | None = None
    xp: _AddressXpT | None = None


class Locale(_CommerceModel):
    """A user's locale (``User.Locale``, read-only there)."""

    id: str | None = None
    owner_id: str | None = None
    currency: str | None = None
    language: str | None = None


class _UserFields(_CommerceModel, Generic[_UserFieldsXpT]):
    """The fields a caller writes on a user, all optional: :class:`UserPatch`, and the base of the others."""

    id: str | None = None
    username: str | None = None
    password: Secret | None = Field(default=None, description="Write-only; the API never returns it.")
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    terms_accepted: DateTime | None = None
    active: bool | None = None
    xp: _UserFieldsXpT | None = None


class _UserBase(_UserFields[_UserXpT], Generic[_UserXpT]):
    """Fields shared by :class:`User`, :class:`OrderUser` and :class:`MeUser` (all optional here)."""

    company_id: str | None = _read_only()
    available_roles: list[str] | None = _read_only()
    locale: Locale | None = _read_only()
    date_created: DateTime | None = _read_only()
    last_active: DateTime | None = _read_only()
    password_last_set_date: DateTime | None = _read_only()


class OrderUser(_UserBase[_OrderUserXpT], Generic[_OrderUserXpT]):
    """The user who placed an order (``Order.FromUser``). All fields optional."""


class MeUser(_UserBase[_MeUserXpT], Generic[_MeUserXpT]):
    """The authenticated user (``GET /v1/me``) and the body of ``PUT /v1/me/register``."""

    buyer: JSONObject | None = _read_only("The user's buyer organisation (``{ID, DefaultCatalogID}``).")
    supplier: JSONObject | None = _read_only("The user's supplier organisation (``{ID}``).")
    seller: JSONObject | None = _read_only("The seller organisation (``{ID}``).")


class User(_UserBase[_FullUserXpT], Generic[_FullUserXpT]):
    """A buyer, supplier or admin user (``/v1/buyers/{buyerID}/users`` and friends)."""

    username: str
    first_name: str
    last_name: str
    email: str
    active: bool
    failed_login_attempts: int | None = _read_only()


class UserPatch(_UserFields[_UserPatchXpT], Generic[_UserPatchXpT]):
    """A partial user for ``PATCH`` calls (``/v1/me``, ``/v1/cart/fromuser``, ...)."""


# --------------------------------------------------------------------------------------------- orders


class _OrderFields(_CommerceModel, Generic[_OrderFieldsXpT]):
    """The fields a caller writes on an order, all optional: :class:`OrderPatch`, and the base of :class:`Order`."""

    id: str | None = Field(default=None, description="``A-Za-z0-9-_``, at most 100 characters.")
    from_company_id: str | None = None
    to_company_id: str | None = None
    from_user_id: str | None = None
    billing_address_id: str | None = None
    shipping_address_id: str | None = Field(
        default=None, description="``None`` when line items ship to several addresses."
    )
    comments: str | None = None
    shipping_cost: Money | None = Field(default=None, description="Writing it needs the ``OverrideShipping`` role.")
    tax_cost: Money | None = Field(default=None, description="Writing it needs the tax override role.")
    gratuity: Money | None = None
    xp: _OrderFieldsXpT | None = None


class Order(_OrderFields[_OrderXpT], Generic[_OrderXpT]):
    """An order or cart (``/v1/cart``, ``/v1/orders/{direction}/{orderID}``)."""

    from_user: OrderUser | None = _read_only()
    billing_address: Address | None = _read_only()
    line_item_count: int | None = _read_only()
    status: OrderStatus | None = _read_only()
    date_created: DateTime | None = _read_only()
    date_submitted: DateTime | None = _read_only()
    date_approved: DateTime | None = _read_only()
    date_declined: DateTime | None = _read_only()
    date_canceled: DateTime | None = _read_only()
    date_completed: DateTime | None = _read_only()
    last_updated: DateTime | None = _read_only()
    subtotal: Money | None = _read_only("Sum of the line items' ``LineSubtotal``.")
    fees: Money | None = _read_only()
    promotion_discount: Money | None = _read_only()
    currency: str | None = _read_only("Inherited from the user.")
    total: Money | None = _read_only("Subtotal + TaxCost + ShippingCost + Gratuity + Fees - PromotionDiscount.")
    is_submitted: bool | None = _read_only()
    subscription_id: str | None = _read_only()


class OrderPatch(_OrderFields[_OrderPatchXpT], Generic[_OrderPatchXpT]):
    """A partial order for ``PATCH /v1/cart`` and ``PATCH /v1/orders/{direction}/{orderID}``."""


# ----------------------------------------------------------------------------------------- line items


class _ProductFields(_CommerceModel, Generic[_ProductFieldsXpT]):
    """What every product and variant has: :class:`LineItemVariant`, and the base of :class:`LineItemProduct` and
    :class:`Product`."""

    id: str | None = None
    name: str | None = None
    description: str | None = None
    ship_weight: float | None = None
    ship_height: float | None = None
    ship_width: float | None = None
    ship_length: float | None = None
    xp: _ProductFieldsXpT | None = None


class LineItemProduct(_ProductFields[_LineItemProductXpT], Generic[_LineItemProductXpT]):
    """The product snapshot on a line item (``LineItem.Product``)."""

    returnable: bool | None = None
    quantity_multiplier: int | None = None
    default_supplier_id: str | None = None
    parent_id: str | None = None


class LineItemVariant(_ProductFields[_LineItemVariantXpT], Generic[_LineItemVariantXpT]):
    """The variant snapshot on a line item (``LineItem.Variant``)."""


class LineItemSpec(_CommerceModel):
    """A spec choice on a line item (``LineItem.Specs[]``). ``SpecID`` is required."""

    spec_id: str
    name: str | None = _read_only()
    option_id: str | None = None
    value: str | None = None
    price_markup_type: PriceMarkupType | None = None
    price_markup: Money | None = None


class _LineItemFields(_CommerceModel, Generic[_LineItemFieldsXpT]):
    """The fields a caller writes on a line item, all optional: :class:`LineItemPatch`, and the base of
    :class:`LineItem`."""

    id: str | None = None
    product_id: str | None = None
    quantity: int | None = Field(default=None, description="At least 1.")
    unit_price: Money | None = Field(
        default=None, description="Computed by OrderCloud; writing it needs the ``OverrideUnitPrice`` role."
    )
    cost_center: str | None = None
    date_needed: DateTime | None = None
    shipping_account: str | None = None
    shipping_address_id: str | None = None
    ship_from_address_id: str | None = None
    inventory_record_id: str | None = None
    specs: list[LineItemSpec] | None = None
    xp: _LineItemFieldsXpT | None = None


class LineItem(_LineItemFields[_LineItemXpT], Generic[_LineItemXpT]):
    """A line of a cart or order. ``ProductID`` is required and cannot change after create."""

    product_id: str
    bundle_item_id: str | None = _read_only()
    is_bundle: bool | None = _read_only()
    date_added: DateTime | None = _read_only()
    quantity_shipped: int | None = _read_only()
    promotion_discount: Money | None = _read_only()
    line_total: Money | None = _read_only("LineSubtotal - PromotionDiscount.")
    line_subtotal: Money | None = _read_only("UnitPrice x Quantity.")
    product: LineItemProduct | None = _read_only()
    variant: LineItemVariant | None = _read_only()
    shipping_address: Address | None = _read_only()
    ship_from_address: Address | None = _read_only()
    supplier_id: str | None = _read_only()
    price_schedule_id: str | None = _read_only()
    is_on_sale: bool | None = _read_only()
    price_overridden: bool | None = _read_only()
    incoming_order_id: str | None = _read_only()
    outgoing_order_id: str | None = _read_only()
    invitation_id: str | None = _read_only()


class LineItemPatch(_LineItemFields[_LineItemPatchXpT], Generic[_LineItemPatchXpT]):
    """A partial line item for ``PATCH .../lineitems/{lineItemID}``."""


# ------------------------------------------------------------------------------------------- products


class PriceBreak(_CommerceModel):
    """One quantity break of a :class:`PriceSchedule`."""

    quantity: int | None = None
    price: Money | None = None
    sale_price: Money | None = None
    subscription_price: Money | None = None
    bundle_price: Money | None = None


class PriceSchedule(_CommerceModel, Generic[_PriceScheduleXpT]):
    """The price schedule a buyer sees on a product (``BuyerProduct.PriceSchedule``)."""

    owner_id: str | None = None
    id: str | None = None
    name: str | None = None
    apply_tax: bool | None = None
    apply_shipping: bool | None = None
    min_quantity: int | None = None
    max_quantity: int | None = None
    use_cumulative_quantity: bool | None = None
    restricted_quantity: bool | None = None
    price_breaks: list[PriceBreak] | None = None
    currency: str | None = None
    sale_start: DateTime | None = None
    sale_end: DateTime | None = None
    is_on_sale: bool | None = _read_only()
    xp: _PriceScheduleXpT | None = None


class ProductInventory(_CommerceModel):
    """Inventory settings of a product (``Product.Inventory``)."""

    enabled: bool | None = None
    notification_point: int | None = None
    variant_level_tracking: bool | None = None
    order_can_exceed: bool | None = None
    quantity_available: int | None = None
    last_updated: DateTime | None = _read_only()


class Product(_ProductFields[_ProductXpT], Generic[_ProductXpT]):
    """A product (``/v1/products``) or a buyer product (``/v1/me/products``)."""

    owner_id: str | None = None
    default_price_schedule_id: str | None = None
    auto_forward: bool | None = None
    parent_id: str | None = None
    is_parent: bool | None = None
    is_bundle: bool | None = _read_only()
    quantity_multiplier: int | None = None
    active: bool | None = None
    spec_count: int | None = _read_only()
    variant_count: int | None = _read_only()
    ship_from_address_id: str | None = None
    inventory: ProductInventory | None = None
    default_supplier_id: str | None = None
    all_suppliers_can_sell: bool | None = None
    returnable: bool | None = None
    date_created: DateTime | None = _read_only()
    price_schedule: PriceSchedule | None = _read_only("Only on buyer products (``/v1/me/products``).")


# ------------------------------------------------------------------------------------------- payments


class PaymentTransaction(_CommerceModel, Generic[_PaymentTransactionXpT]):
    """One transaction of a :class:`Payment` (``Payment.Transactions[]``)."""

    id: str | None = None
    type: str | None = None
    date_executed: DateTime | None = None
    currency: str | None = None
    amount: Money | None = None
    succeeded: bool | None = None
    result_code: str | None = None
    result_message: str | None = None
    xp: _PaymentTransactionXpT | None = None


class Payment(_CommerceModel, Generic[_PaymentXpT]):
    """A payment on an order (``/v1/cart/payments``, ``/v1/orders/{direction}/{orderID}/payments``)."""

    id: str | None = None
    type: PaymentType | None = None
    date_created: DateTime | None = _read_only()
    credit_card_id: str | None = None
    spending_account_id: str | None = None
    description: str | None = None
    currency: str | None = _read_only()
    amount: Money | None = None
    accepted: bool | None = None
    order_return_id: str | None = None
    xp: _PaymentXpT | None = None
    transactions: list[PaymentTransaction] | None = _read_only()


# ---------------------------------------------------------------------------------------- API clients


class _ApiClientFields(_CommerceModel, Generic[_ApiClientFieldsXpT]):
    """The fields a caller writes on an API client, all optional: :class:`ApiClientPatch`, and the base of
    :class:`ApiClient`."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    client_secret: Secret | None = None
    """If set, every grant must send it, even ``password``; leave it unset for anonymous or client-side
    apps."""
    access_token_duration: int | None = None  # required on ApiClient, described there
    active: bool | None = None
    """``False`` blocks every authentication with this client."""
    app_name: str | None = None  # required on ApiClient, described there
    refresh_token_duration: int | None = None
    """Lifetime of refresh tokens in minutes (0-524160); ``0`` or unset disables refresh tokens.
    Anonymous tokens never get a refresh token."""
    default_context_user_name: str | None = None
    """Username of the template user the ``client_credentials`` grant acts as. Must be a buyer user for
    anonymous shopping: each anonymous shopper is a temporary copy of this user."""
    xp: _ApiClientFieldsXpT | None = None
    """Extended properties."""
    allow_any_buyer: bool | None = None
    """Any buyer user may authenticate (otherwise only assigned buyers)."""
    allow_any_supplier: bool | None = None
    """Any supplier user may authenticate (otherwise only assigned suppliers)."""
    allow_seller: bool | None = None
    """Seller (admin) users may authenticate."""
    is_anon_buyer: bool | None = None
    """Enables anonymous shopping when :attr:`default_context_user_name` is a buyer user: a
    ``client_credentials`` request *without* a secret (optionally with ``anonuserid``, the beacon ID)
    returns an anonymous shopper token. Setting it without a buyer default user fails with
    ``ApiClient.RequiredNotAnonBuyer``."""
    order_checkout_integration_event_id: str | None = None
    """Integration event called during checkout (shipping rates, tax, order calculation)."""
    order_return_integration_event_id: str | None = None
    """Integration event called to calculate order returns."""
    add_to_cart_integration_event_id: str | None = None
    """Integration event called when a line item is added to a cart."""
    minimum_required_roles: list[str] | None = None
    """API roles a user must hold to authenticate with this client."""
    minimum_required_custom_roles: list[str] | None = None
    """Custom roles a user must hold to authenticate with this client."""
    maximum_granted_roles: list[str] | None = None
    """The most API roles a token from this client can carry."""
    maximum_granted_custom_roles: list[str] | None = None
    """The most custom roles a token from this client can carry."""
    anonymous_token_duration: int | None = None
    """Lifetime of anonymous shopper tokens in minutes (OrderCloud's default is 10080, seven days).
    Only used when the client is configured for anonymous shopping (:attr:`is_anon_buyer`)."""


class ApiClient(_ApiClientFields[_ApiClientXpT], Generic[_ApiClientXpT]):
    """An API client (``/v1/apiclients``): the OAuth ``client_id`` and what may authenticate with it."""

    access_token_duration: int
    """Lifetime of access tokens in minutes (10-600). Anonymous tokens use
    :attr:`anonymous_token_duration` instead."""
    app_name: str
    """Display name of the application."""
    id: str | None = _read_only()
    """The OAuth ``client_id`` (the ``cid`` claim of its tokens); assigned by OrderCloud."""
    assigned_buyer_count: int | None = _read_only()
    """Number of buyers assigned to this client."""
    assigned_supplier_count: int | None = _read_only()
    """Number of suppliers assigned to this client."""
    order_checkout_integration_event_name: str | None = _read_only()
    """Name of the checkout integration event."""
    order_return_integration_event_name: str | None = _read_only()
    """Name of the order-return integration event."""
    add_to_cart_integration_event_name: str | None = _read_only()
    """Name of the add-to-cart integration event."""


class ApiClientPatch(_ApiClientFields[_ApiClientPatchXpT], Generic[_ApiClientPatchXpT]):
    """A partial API client for ``PATCH /v1/apiclients/{apiClientID}`` (fields as on :class:`ApiClient`)."""


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
