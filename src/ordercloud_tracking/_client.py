"""``OrderCloud`` (on ``httpx.Client``) and ``AsyncOrderCloud`` (on ``httpx.AsyncClient``).

Both are native: the async client never runs the sync one in a thread and the sync client never drives a
coroutine. What they share — options, request building, retry decisions, error mapping and the auth
state machine — lives in ``_base_client`` (the base client and the two executors), ``_requests``,
``_retry``, ``_errors`` and ``_auth``; this module only adds the resources, which attach lazily.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from ._base_client import AsyncAPIClient, SyncAPIClient
from ._public import set_public_home

if TYPE_CHECKING:
    from .resources.api_clients import ApiClients, AsyncApiClients
    from .resources.cart import AsyncCart, Cart
    from .resources.delivery_configs import AsyncDeliveryConfigs, DeliveryConfigs
    from .resources.me import AsyncMe, Me
    from .resources.orders import AsyncOrders, Orders
    from .resources.tracking_events import AsyncTrackingEvents, TrackingEvents

__all__ = ["AsyncOrderCloud", "OrderCloud"]


class OrderCloud(SyncAPIClient):
    """Synchronous OrderCloud client on :class:`httpx.Client`.

    >>> client = OrderCloud(client_id="...", client_secret="...", environment="sandbox")   # doctest: +SKIP
    >>> for event in client.tracking_events.iter_all():                                    # doctest: +SKIP
    ...     print(event.id, event.event_type)

    Pass ``http_client=`` to use your own :class:`httpx.Client` (a transport for tests, proxies …); the
    SDK never closes a client it was given, unless ``owns_http_client=True`` hands it over.
    """

    # ----------------------------------------------------------------------------------- resources
    @cached_property
    def tracking_events(self) -> TrackingEvents:
        """``/v1/integrations/trackingEvents``."""
        from .resources.tracking_events import TrackingEvents

        return TrackingEvents(self)

    @cached_property
    def delivery_configs(self) -> DeliveryConfigs:
        """``/v1/integrations/deliveryconfig``."""
        from .resources.delivery_configs import DeliveryConfigs

        return DeliveryConfigs(self)

    @cached_property
    def me(self) -> Me:
        """``/v1/me``: the current user, registration and ``TransferAnonUserOrder``."""
        from .resources.me import Me

        return Me(self)

    @cached_property
    def cart(self) -> Cart:
        """``/v1/cart``: the current user's cart and its line items."""
        from .resources.cart import Cart

        return Cart(self)

    @cached_property
    def orders(self) -> Orders:
        """``/v1/orders/{direction}``: orders and their line items."""
        from .resources.orders import Orders

        return Orders(self)

    @cached_property
    def api_clients(self) -> ApiClients:
        """``/v1/apiclients``."""
        from .resources.api_clients import ApiClients

        return ApiClients(self)


class AsyncOrderCloud(AsyncAPIClient):
    """Asynchronous OrderCloud client on :class:`httpx.AsyncClient`.

    >>> async with AsyncOrderCloud(client_id="...", client_secret="...") as client:   # doctest: +SKIP
    ...     event = await client.tracking_events.get("te-submit-web")
    """

    # ----------------------------------------------------------------------------------- resources
    @cached_property
    def tracking_events(self) -> AsyncTrackingEvents:
        """``/v1/integrations/trackingEvents``."""
        from .resources.tracking_events import AsyncTrackingEvents

        return AsyncTrackingEvents(self)

    @cached_property
    def delivery_configs(self) -> AsyncDeliveryConfigs:
        """``/v1/integrations/deliveryconfig``."""
        from .resources.delivery_configs import AsyncDeliveryConfigs

        return AsyncDeliveryConfigs(self)

    @cached_property
    def me(self) -> AsyncMe:
        """``/v1/me``: the current user, registration and ``TransferAnonUserOrder``."""
        from .resources.me import AsyncMe

        return AsyncMe(self)

    @cached_property
    def cart(self) -> AsyncCart:
        """``/v1/cart``: the current user's cart and its line items."""
        from .resources.cart import AsyncCart

        return AsyncCart(self)

    @cached_property
    def orders(self) -> AsyncOrders:
        """``/v1/orders/{direction}``: orders and their line items."""
        from .resources.orders import AsyncOrders

        return AsyncOrders(self)

    @cached_property
    def api_clients(self) -> AsyncApiClients:
        """``/v1/apiclients``."""
        from .resources.api_clients import AsyncApiClients

        return AsyncApiClients(self)


set_public_home([OrderCloud, AsyncOrderCloud])
