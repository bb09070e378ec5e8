"""``/v1/cart``: the current buyer user's (or anonymous shopper's) cart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from typing_extensions import Unpack

from .._base_client import AsyncAPIClient, SyncAPIClient
from .._pagination import ListPage
from .._requests import RequestSpec
from ..models.commerce import LineItem, LineItemPatch, Order, UserPatch
from ._base import Resource, body, call
from ._params import ListParams, RequestOptions
from ._submit import submit_async, submit_sync
from .orders import LineItemSpecs, OrderSpecs

__all__ = ["AsyncCart", "Cart"]

_LINE_ITEMS = LineItemSpecs.under("cart", "cart")


def _get(options: RequestOptions) -> RequestSpec:
    return call("GET", "cart", "cart.get", options)


def _patch_from_user(user: UserPatch | Mapping[str, Any], options: RequestOptions) -> RequestSpec:
    return call(
        "PATCH", "cart/fromuser", "cart.patch_from_user", options, body=body(UserPatch, user, "from-user patch")
    )


def _submit(options: RequestOptions) -> RequestSpec:
    return call("POST", "cart/submit", "cart.submit", options, idempotent=False)


def _check(order_id: str | None, options: RequestOptions) -> RequestSpec | None:
    """How an unknown submit outcome is settled: the cart is an ``Outgoing`` order."""
    return OrderSpecs.get("Outgoing", order_id, options) if order_id else None


class Cart(Resource[SyncAPIClient]):
    """The cart of the user the client acts as (``Shopper`` role). ``get`` never 404s; the cart is created
    by the first line item.
    """

    def get(self, **options: Unpack[RequestOptions]) -> Order:
        """The current cart (``ID`` is ``None`` until it is used)."""
        return self._client._request(_get(options), Order)

    def list_line_items(self, **params: Unpack[ListParams]) -> ListPage[LineItem]:
        """One page of the cart's line items."""
        return self._client._request(_LINE_ITEMS.list(params), _LINE_ITEMS.page_model)

    def add_line_item(self, line_item: LineItem | Mapping[str, Any], **options: Unpack[RequestOptions]) -> LineItem:
        """POST a line item to the cart (creating the cart if needed)."""
        return self._client._request(_LINE_ITEMS.create(line_item, options), LineItem)

    def get_line_item(self, line_item_id: str, **options: Unpack[RequestOptions]) -> LineItem:
        """One line item of the cart."""
        return self._client._request(_LINE_ITEMS.get(line_item_id, options), LineItem)

    def save_line_item(
        self, line_item_id: str, line_item: LineItem | Mapping[str, Any], **options: Unpack[RequestOptions]
    ) -> LineItem:
        """PUT (create or replace) a line item of the cart."""
        return self._client._request(_LINE_ITEMS.save(line_item_id, line_item, options), LineItem)

    def patch_line_item(
        self, line_item_id: str, partial: LineItemPatch | Mapping[str, Any], **options: Unpack[RequestOptions]
    ) -> LineItem:
        """PATCH the given fields of a cart line item."""
        return self._client._request(_LINE_ITEMS.patch(line_item_id, partial, options), LineItem)

    def delete_line_item(self, line_item_id: str, **options: Unpack[RequestOptions]) -> None:
        """DELETE a cart line item."""
        self._client._send(_LINE_ITEMS.delete(line_item_id, options))

    def patch_from_user(self, user: UserPatch | Mapping[str, Any], **options: Unpack[RequestOptions]) -> Order:
        """Set the guest's ``FirstName``, ``LastName`` and ``Email`` on the cart."""
        return self._client._request(_patch_from_user(user, options), Order)

    def submit(self, *, order_id: str | None = None, **options: Unpack[RequestOptions]) -> Order:
        """Submit the cart. Never resent: if the outcome is unknown the order is read once, and
        :class:`~ordercloud_tracking.AmbiguousSubmitError` is raised if it is not submitted (or the read
        failed too, leaving its state unknown).
        """
        if order_id is None:
            order_id = self.get(**options).id
        return submit_sync(self._client, _submit(options), _check(order_id, options), order_id)


class AsyncCart(Resource[AsyncAPIClient]):
    """The cart, asynchronously. Same operations as :class:`Cart`."""

    async def get(self, **options: Unpack[RequestOptions]) -> Order:
        """The current cart (``ID`` is ``None`` until it is used)."""
        return await self._client._request(_get(options), Order)

    async def list_line_items(self, **params: Unpack[ListParams]) -> ListPage[LineItem]:
        """One page of the cart's line items."""
        return await self._client._request(_LINE_ITEMS.list(params), _LINE_ITEMS.page_model)

    async def add_line_item(
        self, line_item: LineItem | Mapping[str, Any], **options: Unpack[RequestOptions]
    ) -> LineItem:
        """POST a line item to the cart (creating the cart if needed)."""
        return await self._client._request(_LINE_ITEMS.create(line_item, options), LineItem)

    async def get_line_item(self, line_item_id: str, **options: Unpack[RequestOptions]) -> LineItem:
        """One line item of the cart."""
        return await self._client._request(_LINE_ITEMS.get(line_item_id, options), LineItem)

    async def save_line_item(
        self, line_item_id: str, line_item: LineItem | Mapping[str, Any], **options: Unpack[RequestOptions]
    ) -> LineItem:
        """PUT (create or replace) a line item of the cart."""
        return await self._client._request(_LINE_ITEMS.save(line_item_id, line_item, options), LineItem)

    async def patch_line_item(
        self, line_item_id: str, partial: LineItemPatch | Mapping[str, Any], **options: Unpack[RequestOptions]
    ) -> LineItem:
        """PATCH the given fields of a cart line item."""
        return await self._client._request(_LINE_ITEMS.patch(line_item_id, partial, options), LineItem)

    async def delete_line_item(self, line_item_id: str, **options: Unpack[RequestOptions]) -> None:
        """DELETE a cart line item."""
        await self._client._send(_LINE_ITEMS.delete(line_item_id, options))

    async def patch_from_user(self, user: UserPatch | Mapping[str, Any], **options: Unpack[RequestOptions]) -> Order:
        """Set the guest's ``FirstName``, ``LastName`` and ``Email`` on the cart."""
        return await self._client._request(_patch_from_user(user, options), Order)

    async def submit(self, *, order_id: str | None = None, **options: Unpack[RequestOptions]) -> Order:
        """Submit the cart; never resent (see :meth:`Cart.submit`)."""
        if order_id is None:
            order_id = (await self.get(**options)).id
        return await submit_async(self._client, _submit(options), _check(order_id, options), order_id)
