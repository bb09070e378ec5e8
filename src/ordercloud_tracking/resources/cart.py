"""``/v1/cart``: the current buyer user's (or anonymous shopper's) cart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._pagination import FilterValue, ListPage, path_id
from .._requests import NOT_GIVEN, NotGiven, RequestSpec, Timeout
from ..models.commerce import LineItem, LineItemPatch, Order, UserPatch
from ._base import AsyncResource, SyncResource, coerce_model, list_query
from ._submit import submit_async, submit_sync
from .orders import LineItemPage, OrderSpecs

if TYPE_CHECKING:
    from .._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["AsyncCart", "Cart"]


_LINE_ITEM = "cart/lineitems/{lineItemID}"


def _line_path(line_item_id: str) -> str:
    return f"cart/lineitems/{path_id(line_item_id, 'line_item_id')}"


class _Specs:
    """Pure request specs shared by :class:`Cart` and :class:`AsyncCart`."""

    @staticmethod
    def get(t: Timeout | NotGiven, tok: str | None) -> RequestSpec:
        return RequestSpec("GET", "cart", timeout=t, access_token=tok, operation="cart.get")

    @staticmethod
    def list_line_items(params: Sequence[tuple[str, str]], t: Timeout | NotGiven, tok: str | None) -> RequestSpec:
        return RequestSpec(
            "GET", "cart/lineitems", params=params, timeout=t, access_token=tok, operation="cart.list_line_items"
        )

    @staticmethod
    def add_line_item(item: LineItem | Mapping[str, Any], t: Timeout | NotGiven, tok: str | None) -> RequestSpec:
        body = coerce_model(LineItem, item, "line item").to_request_json()
        return RequestSpec(
            "POST", "cart/lineitems", body=body, timeout=t, access_token=tok, operation="cart.add_line_item"
        )

    @staticmethod
    def get_line_item(line_item_id: str, t: Timeout | NotGiven, tok: str | None) -> RequestSpec:
        path = _line_path(line_item_id)
        return RequestSpec(
            "GET",
            path,
            timeout=t,
            access_token=tok,
            subject=("LineItem", line_item_id),
            operation="cart.get_line_item",
            template=_LINE_ITEM,
        )

    @staticmethod
    def save_line_item(
        line_item_id: str, item: LineItem | Mapping[str, Any], t: Timeout | NotGiven, tok: str | None
    ) -> RequestSpec:
        body = coerce_model(LineItem, item, "line item").to_request_json()
        path = _line_path(line_item_id)
        return RequestSpec(
            "PUT",
            path,
            body=body,
            timeout=t,
            access_token=tok,
            subject=("LineItem", line_item_id),
            operation="cart.save_line_item",
            template=_LINE_ITEM,
        )

    @staticmethod
    def patch_line_item(
        line_item_id: str, partial: LineItemPatch | Mapping[str, Any], t: Timeout | NotGiven, tok: str | None
    ) -> RequestSpec:
        body = coerce_model(LineItemPatch, partial, "line item patch").to_request_json()
        path = _line_path(line_item_id)
        return RequestSpec(
            "PATCH",
            path,
            body=body,
            timeout=t,
            access_token=tok,
            subject=("LineItem", line_item_id),
            operation="cart.patch_line_item",
            template=_LINE_ITEM,
        )

    @staticmethod
    def delete_line_item(line_item_id: str, t: Timeout | NotGiven, tok: str | None) -> RequestSpec:
        path = _line_path(line_item_id)
        return RequestSpec(
            "DELETE",
            path,
            timeout=t,
            access_token=tok,
            subject=("LineItem", line_item_id),
            operation="cart.delete_line_item",
            template=_LINE_ITEM,
        )

    @staticmethod
    def patch_from_user(user: UserPatch | Mapping[str, Any], t: Timeout | NotGiven, tok: str | None) -> RequestSpec:
        body = coerce_model(UserPatch, user, "from-user patch").to_request_json()
        return RequestSpec(
            "PATCH", "cart/fromuser", body=body, timeout=t, access_token=tok, operation="cart.patch_from_user"
        )

    @staticmethod
    def submit(t: Timeout | NotGiven, tok: str | None) -> RequestSpec:
        return RequestSpec(
            "POST", "cart/submit", timeout=t, access_token=tok, idempotent=False, operation="cart.submit"
        )


def _check(order_id: str | None, t: Timeout | NotGiven, tok: str | None) -> RequestSpec | None:
    """How an unknown submit outcome is settled: the cart is an ``Outgoing`` order."""
    return OrderSpecs.get("Outgoing", order_id, t, tok) if order_id else None


class Cart(SyncResource):
    """The cart of the user the client acts as (``Shopper`` role). ``get`` never 404s; the cart is created
    by the first line item.
    """

    def __init__(self, client: SyncAPIClient) -> None:
        super().__init__(client)

    def get(self, *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None) -> Order:
        """The current cart (``ID`` is ``None`` until it is used)."""
        return self._client._request(_Specs.get(timeout, access_token), Order)

    def list_line_items(
        self,
        *,
        search: str | None = None,
        search_on: str | Sequence[str] | None = None,
        sort_by: str | Sequence[str] | None = None,
        page: int | None = None,
        page_size: int | None = None,
        filters: Mapping[str, FilterValue] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> ListPage[LineItem]:
        """One page of the cart's line items."""
        params = list_query(search, search_on, sort_by, page, page_size, filters).params()
        return self._client._request(_Specs.list_line_items(params, timeout, access_token), LineItemPage)

    def add_line_item(
        self,
        line_item: LineItem | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> LineItem:
        """POST a line item to the cart (creating the cart if needed)."""
        return self._client._request(_Specs.add_line_item(line_item, timeout, access_token), LineItem)

    def get_line_item(
        self, line_item_id: str, *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None
    ) -> LineItem:
        """One line item of the cart."""
        return self._client._request(_Specs.get_line_item(line_item_id, timeout, access_token), LineItem)

    def save_line_item(
        self,
        line_item_id: str,
        line_item: LineItem | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> LineItem:
        """PUT (create or replace) a line item of the cart."""
        spec = _Specs.save_line_item(line_item_id, line_item, timeout, access_token)
        return self._client._request(spec, LineItem)

    def patch_line_item(
        self,
        line_item_id: str,
        partial: LineItemPatch | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> LineItem:
        """PATCH the given fields of a cart line item."""
        spec = _Specs.patch_line_item(line_item_id, partial, timeout, access_token)
        return self._client._request(spec, LineItem)

    def delete_line_item(
        self, line_item_id: str, *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None
    ) -> None:
        """DELETE a cart line item."""
        self._client._send(_Specs.delete_line_item(line_item_id, timeout, access_token))

    def patch_from_user(
        self,
        user: UserPatch | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> Order:
        """Set the guest's ``FirstName``, ``LastName`` and ``Email`` on the cart."""
        return self._client._request(_Specs.patch_from_user(user, timeout, access_token), Order)

    def submit(
        self,
        *,
        order_id: str | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> Order:
        """Submit the cart. Never resent: if the outcome is unknown the order is read once, and
        :class:`~ordercloud_tracking.AmbiguousSubmitError` is raised if it is not submitted (or the read
        failed too, leaving its state unknown).
        """
        if order_id is None:
            order_id = self.get(timeout=timeout, access_token=access_token).id
        return submit_sync(
            self._client, _Specs.submit(timeout, access_token), _check(order_id, timeout, access_token), order_id
        )


class AsyncCart(AsyncResource):
    """The cart, asynchronously. Same operations as :class:`Cart`."""

    def __init__(self, client: AsyncAPIClient) -> None:
        super().__init__(client)

    async def get(self, *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None) -> Order:
        """The current cart (``ID`` is ``None`` until it is used)."""
        return await self._client._request(_Specs.get(timeout, access_token), Order)

    async def list_line_items(
        self,
        *,
        search: str | None = None,
        search_on: str | Sequence[str] | None = None,
        sort_by: str | Sequence[str] | None = None,
        page: int | None = None,
        page_size: int | None = None,
        filters: Mapping[str, FilterValue] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> ListPage[LineItem]:
        """One page of the cart's line items."""
        params = list_query(search, search_on, sort_by, page, page_size, filters).params()
        return await self._client._request(_Specs.list_line_items(params, timeout, access_token), LineItemPage)

    async def add_line_item(
        self,
        line_item: LineItem | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> LineItem:
        """POST a line item to the cart (creating the cart if needed)."""
        return await self._client._request(_Specs.add_line_item(line_item, timeout, access_token), LineItem)

    async def get_line_item(
        self, line_item_id: str, *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None
    ) -> LineItem:
        """One line item of the cart."""
        return await self._client._request(_Specs.get_line_item(line_item_id, timeout, access_token), LineItem)

    async def save_line_item(
        self,
        line_item_id: str,
        line_item: LineItem | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> LineItem:
        """PUT (create or replace) a line item of the cart."""
        spec = _Specs.save_line_item(line_item_id, line_item, timeout, access_token)
        return await self._client._request(spec, LineItem)

    async def patch_line_item(
        self,
        line_item_id: str,
        partial: LineItemPatch | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> LineItem:
        """PATCH the given fields of a cart line item."""
        spec = _Specs.patch_line_item(line_item_id, partial, timeout, access_token)
        return await self._client._request(spec, LineItem)

    async def delete_line_item(
        self, line_item_id: str, *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None
    ) -> None:
        """DELETE a cart line item."""
        await self._client._send(_Specs.delete_line_item(line_item_id, timeout, access_token))

    async def patch_from_user(
        self,
        user: UserPatch | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> Order:
        """Set the guest's ``FirstName``, ``LastName`` and ``Email`` on the cart."""
        return await self._client._request(_Specs.patch_from_user(user, timeout, access_token), Order)

    async def submit(
        self,
        *,
        order_id: str | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> Order:
        """Submit the cart; never resent (see :meth:`Cart.submit`)."""
        if order_id is None:
            order_id = (await self.get(timeout=timeout, access_token=access_token)).id
        check = _check(order_id, timeout, access_token)
        return await submit_async(self._client, _Specs.submit(timeout, access_token), check, order_id)
