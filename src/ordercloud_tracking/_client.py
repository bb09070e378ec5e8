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

    Pass ``http_client=`` to use your own :class:`httpx.Client` (a transport for tests, proxies …); the
    SDK never closes a client it was given, unless ``owns_http_client=True`` hands it over. Here a
    :class:`httpx.MockTransport` stands in for OrderCloud:

    >>> import httpx
    >>> event = {"ID": "te-1", "Name": "Orders", "EventType": "OrderSubmitted", "ClientID": "web"}
    >>> def ordercloud(request: httpx.Request) -> httpx.Response:
    ...     if request.url.path == "/oauth/token":
    ...         return httpx.Response(200, json={"access_token": "t", "token_type": "bearer", "expires_in": 600})
    ...     return httpx.Response(200, json=event)
    >>> http = httpx.Client(transport=httpx.MockTransport(ordercloud))
    >>> with OrderCloud(client_id="web", client_secret="...", http_client=http, owns_http_client=True) as client:
    ...     client.tracking_events.get("te-1").event_type
    <TrackingEventType.ORDER_SUBMITTED: 'OrderSubmitted'>
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
    """Asynchronous OrderCloud client on :class:`httpx.AsyncClient`; the same resources, awaited.

    >>> import asyncio, httpx
    >>> event = {"ID": "te-1", "Name": "Orders", "EventType": "OrderSubmitted", "ClientID": "web"}
    >>> def ordercloud(request: httpx.Request) -> httpx.Response:
    ...     if request.url.path == "/oauth/token":
    ...         return httpx.Response(200, json={"access_token": "t", "token_type": "bearer", "expires_in": 600})
    ...     return httpx.Response(200, json=event)
    >>> async def main() -> str:
    ...     http = httpx.AsyncClient(transport=httpx.MockTransport(ordercloud))
    ...     async with AsyncOrderCloud(client_id="web", client_secret="...", http_client=http) as client:
    ...         event = await client.tracking_events.get("te-1")
    ...     await http.aclose()
    ...     return event.id
    >>> asyncio.run(main())
    'te-1'
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
