"""The fake's seed data: what a fresh fake starts with (API clients, users, products) and their types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

__all__ = [
    "ADMIN_CLIENT_ID",
    "ADMIN_CLIENT_SECRET",
    "ADMIN_ROLES",
    "BUYER_ROLES",
    "DEFAULT_SEED",
    "STOREFRONT_CLIENT_ID",
    "Seed",
    "SeedApiClient",
    "SeedProduct",
    "SeedUser",
]

ADMIN_CLIENT_ID = "admin-client"
ADMIN_CLIENT_SECRET = "admin-client-secret"  # noqa: S105 - the default seed's public test credential
STOREFRONT_CLIENT_ID = "storefront"

BUYER_ROLES = ("Shopper", "MeAdmin", "MeAddressAdmin", "MeXpAdmin", "MeCreditCardAdmin", "BuyerReader")
ADMIN_ROLES = (
    "FullAccess",
    "TrackingEventAdmin",
    "TrackingEventReader",
    "DeliveryConfigAdmin",
    "ApiClientAdmin",
    "ApiClientReader",
    "OrderAdmin",
    "OrderReader",
    "ProductAdmin",
    "ProductReader",
    "BuyerAdmin",
    "BuyerReader",
    "Shopper",
)


@attrs.frozen
class SeedApiClient:
    """An API client to seed. Durations are in minutes, as on OrderCloud."""

    id: str
    app_name: str = "Fake app"
    client_secret: str | None = attrs.field(default=None, repr=False)
    is_anon_buyer: bool = False
    default_context_username: str | None = None
    access_token_duration: int = 600
    refresh_token_duration: int = 0
    anonymous_token_duration: int = 10080
    active: bool = True
    allow_any_buyer: bool = True
    allow_seller: bool = True


@attrs.frozen
class SeedUser:
    """A user to seed: ``user_type`` ``"buyer"`` (roles of a shopper) or ``"admin"`` (every admin role)."""

    username: str
    password: str = attrs.field(repr=False)
    id: str | None = None
    first_name: str = "Test"
    last_name: str = "User"
    email: str | None = None
    user_type: str = "buyer"
    roles: tuple[str, ...] | None = None
    language: str = "en"
    currency: str = "USD"
    active: bool = True
    xp: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def available_roles(self) -> tuple[str, ...]:
        """The roles the user's tokens may carry: ``roles`` if given, else those of ``user_type``."""
        if self.roles is not None:
            return self.roles
        return ADMIN_ROLES if self.user_type == "admin" else BUYER_ROLES


def _breaks(
    value: Sequence[tuple[int, Decimal | str | float]] | Decimal | str | float,
) -> tuple[tuple[int, Decimal], ...]:
    if isinstance(value, (Decimal, str, float, int)):
        return ((1, Decimal(str(value))),)
    return tuple(sorted((int(q), Decimal(str(p))) for q, p in value))


@attrs.frozen
class SeedProduct:
    """A product with a price schedule: ``price`` is a unit price or ``[(min_quantity, unit_price), ...]``."""

    id: str
    name: str
    price: tuple[tuple[int, Decimal], ...] = attrs.field(converter=_breaks)
    description: str | None = None
    xp: Mapping[str, Any] = attrs.field(factory=dict)
    active: bool = True

    def unit_price(self, quantity: int) -> Decimal:
        """The unit price for ``quantity``: that of the largest break not above it (the first break's below all)."""
        price = self.price[0][1]
        for minimum, unit in self.price:
            if quantity >= minimum:
                price = unit
        return price


@attrs.frozen
class Seed:
    """Everything a fresh fake starts with (and returns to on ``reset()``)."""

    api_clients: tuple[SeedApiClient, ...] = ()
    users: tuple[SeedUser, ...] = ()
    products: tuple[SeedProduct, ...] = ()
    currency: str = "USD"


#: ``FakeOrderCloud()`` starts with this: an admin client, an anonymous storefront client, three buyers
#: and three products.
DEFAULT_SEED = Seed(
    api_clients=(
        SeedApiClient(
            id=ADMIN_CLIENT_ID,
            app_name="Admin integration",
            client_secret=ADMIN_CLIENT_SECRET,
            default_context_username="admin",
        ),
        SeedApiClient(
            id=STOREFRONT_CLIENT_ID,
            app_name="Storefront",
            is_anon_buyer=True,
            default_context_username="anon-template",
            refresh_token_duration=0,
        ),
    ),
    users=(
        SeedUser("admin", "admin-password", id="admin-user", first_name="Ada", last_name="Admin", user_type="admin"),
        SeedUser("anon-template", "unused-password", id="anon-template", first_name="Anonymous", last_name="Shopper"),
        SeedUser(
            "jane", "jane-password", id="buyer-jane", first_name="Jane", last_name="Doe", email="jane@example.com"
        ),
        SeedUser(
            "john", "john-password", id="buyer-john", first_name="John", last_name="Roe", email="john@example.com"
        ),
        SeedUser(
            "ines",
            "ines-password",
            id="buyer-ines",
            first_name="Inès",
            last_name="Durand",
            email="ines@example.fr",
            language="fr",
            currency="EUR",
        ),
    ),
    products=(
        SeedProduct(
            "SKU-MUG", "Mug", [(1, "12.50"), (10, "11.00")], description="Blue mug, 350 ml", xp={"Color": "Blue"}
        ),
        SeedProduct("SKU-TEE", "T-shirt", "20.00", description="Organic cotton tee"),
        SeedProduct("SKU-CAP", "Cap", "15.00", description="Baseball cap"),
    ),
)
