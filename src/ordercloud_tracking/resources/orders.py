"""``/v1/orders/{direction}``: orders and their line items (buyers use ``Outgoing``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._pagination import FilterValue, ListPage, path_id
from .._requests import NOT_GIVEN, NotGiven, RequestSpec, Timeout
from ..models.commerce import LineItem, LineItemPatch, Order, OrderDirection
from ._base import AsyncResource, SyncResource, coerce_model, list_query
from ._submit import submit_async, submit_sync

if TYPE_CHECKING:
    from .._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["AsyncOrders", "OrderSpecs", "Orders"]

Direction = str | OrderDirection
LineItemPage = ListPage[LineItem]


_ORDERS = "orders/{direction}"
_ORDER = f"{_ORDERS}/{{orderID}}"
_LINE_ITEMS = f"{_ORDER}/lineitems"
_LINE_ITEM = f"{_LINE_ITEMS}/{{lineItemID}}"


def _order_path(direction: Direction, order_id: str) -> str:
    return f"orders/{OrderDirection.coerce(direction).value}/{path_id(order_id, 'order_id')}"


def _line_path(direction: Direction, order_id: str, line_item_id: str) -> str:
    return f"{_order_path(direction, order_id)}/lineitems/{path_id(line_item_id, 'line_item_id')}"


class OrderSpecs:
    """Pure request specs shared by :class:`Orders` and :class:`AsyncOrders`."""

    @staticmethod
    def create(
        direction: Direction, order: Order | Mapping[str, Any], t: Timeout | NotGiven, tok: str | None
    ) -> RequestSpec:
        body = coerce_model(Order, order, "order").to_request_json()
        path = f"orders/{OrderDirection.coerce(direction).value}"
        return RequestSpec(
            "POST", path, body=body, timeout=t, access_token=tok, operation="orders.create", template=_ORDERS
        )

    @staticmethod
    def get(direction: Direction, order_id: str, t: Timeout | NotGiven, tok: str | None) -> RequestSpec:
        path = _order_path(direction, order_id)
        return RequestSpec(
            "GET",
            path,
            timeout=t,
            access_token=tok,
            subject=("Order", order_id),
            operation="orders.get",
            template=_ORDER,
        )

    @staticmethod
    def list_line_items(
        direction: Direction, order_id: str, params: Sequence[tuple[str, str]], t: Timeout | NotGiven, tok: str | None
    ) -> RequestSpec:
        path = f"{_order_path(direction, order_id)}/lineitems"
        return RequestSpec(
            "GET",
            path,
            params=params,
            timeout=t,
            access_token=tok,
            subject=("Order", order_id),
            operation="orders.list_line_items",
            template=_LINE_ITEMS,
        )

    @staticmethod
    def add_line_item(
        direction: Direction, order_id: str, item: LineItem | Mapping[str, Any], t: Timeout | NotGiven, tok: str | None
    ) -> RequestSpec:
        body = coerce_model(LineItem, item, "line item").to_request_json()
        path = f"{_order_path(direction, order_id)}/lineitems"
        return RequestSpec(
            "POST",
            path,
            body=body,
            timeout=t,
            access_token=tok,
            subject=("Order", order_id),
            operation="orders.add_line_item",
            template=_LINE_ITEMS,
        )

    @staticmethod
    def get_line_item(
        direction: Direction, order_id: str, line_item_id: str, t: Timeout | NotGiven, tok: str | None
    ) -> RequestSpec:
        path = _line_path(direction, order_id, line_item_id)
        return RequestSpec(
            "GET",
            path,
            timeout=t,
            access_token=tok,
            subject=("LineItem", line_item_id),
            operation="orders.get_line_item",
            template=_LINE_ITEM,
        )

    @staticmethod
    def save_line_item(
        direction: Direction,
        order_id: str,
        line_item_id: str,
        item: LineItem | Mapping[str, Any],
        t: Timeout | NotGiven,
        tok: str | None,
    ) -> RequestSpec:
        body = coerce_model(LineItem, item, "line item").to_request_json()
        path = _line_path(direction, order_id, line_item_id)
        return RequestSpec(
            "PUT",
            path,
            body=body,
            timeout=t,
            access_token=tok,
            subject=("LineItem", line_item_id),
            operation="orders.save_line_item",
            template=_LINE_ITEM,
        )

    @staticmethod
    def patch_line_item(
        direction: Direction,
        order_id: str,
        line_item_id: str,
        partial: LineItemPatch | Mapping[str, Any],
        t: Timeout | NotGiven,
        tok: str | None,
    ) -> RequestSpec:
        body = coerce_model(LineItemPatch, partial, "line item patch").to_request_json()
        path = _line_path(direction, order_id, line_item_id)
        return RequestSpec(
            "PATCH",
            path,
            body=body,
            timeout=t,
            access_token=tok,
            subject=("LineItem", line_item_id),
            operation="orders.patch_line_item",
            template=_LINE_ITEM,
        )

    @staticmethod
    def delete_line_item(
        direction: Direction, order_id: str, line_item_id: str, t: Timeout | NotGiven, tok: str | None
    ) -> RequestSpec:
        path = _line_path(direction, order_id, line_item_id)
        return RequestSpec(
            "DELETE",
            path,
            timeout=t,
            access_token=tok,
            subject=("LineItem", line_item_id),
            operation="orders.delete_line_item",
            template=_LINE_ITEM,
        )

    @staticmethod
    def submit(direction: Direction, order_id: str, t: Timeout | NotGiven, tok: str | None) -> RequestSpec:
        path = f"{_order_path(direction, order_id)}/submit"
        return RequestSpec(
            "POST",
            path,
            timeout=t,
            access_token=tok,
            idempotent=False,
            subject=("Order", order_id),
            operation="orders.submit",
            template=f"{_ORDER}/submit",
        )


class Orders(SyncResource):
    """Orders and line items under ``/v1/orders/{direction}``."""

    def __init__(self, client: SyncAPIClient) -> None:
        super().__init__(client)

    def create(
        self,
        direction: Direction,
        order: Order | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> Order:
        """POST a new order."""
        return self._client._request(OrderSpecs.create(direction, order, timeout, access_token), Order)

    def get(
        self,
        direction: Direction,
        order_id: str,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> Order:
        """One order."""
        return self._client._request(OrderSpecs.get(direction, order_id, timeout, access_token), Order)

    def list_line_items(
        self,
        direction: Direction,
        order_id: str,
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
        """One page of the order's line items (hydrated with Product and Variant)."""
        params = list_query(search, search_on, sort_by, page, page_size, filters).params()
        return self._client._request(
            OrderSpecs.list_line_items(direction, order_id, params, timeout, access_token), LineItemPage
        )

    def add_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item: LineItem | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> LineItem:
        """POST a line item (emits ``LineItemAdded`` where tracking is configured)."""
        spec = OrderSpecs.add_line_item(direction, order_id, line_item, timeout, access_token)
        return self._client._request(spec, LineItem)

    def get_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item_id: str,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> LineItem:
        """One line item."""
        spec = OrderSpecs.get_line_item(direction, order_id, line_item_id, timeout, access_token)
        return self._client._request(spec, LineItem)

    def save_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item_id: str,
        line_item: LineItem | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> LineItem:
        """PUT (create or replace) a line item."""
        spec = OrderSpecs.save_line_item(direction, order_id, line_item_id, line_item, timeout, access_token)
        return self._client._request(spec, LineItem)

    def patch_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item_id: str,
        partial: LineItemPatch | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> LineItem:
        """PATCH the given fields of a line item."""
        spec = OrderSpecs.patch_line_item(direction, order_id, line_item_id, partial, timeout, access_token)
        return self._client._request(spec, LineItem)

    def delete_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item_id: str,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> None:
        """DELETE a line item."""
        self._client._send(OrderSpecs.delete_line_item(direction, order_id, line_item_id, timeout, access_token))

    def submit(
        self,
        direction: Direction,
        order_id: str,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> Order:
        """Submit the order. Never resent: an unknown outcome is settled with one GET of the order, and
        :class:`~ordercloud_tracking.AmbiguousSubmitError` is raised if it is not submitted (or the GET
        failed too, leaving its state unknown)."""
        submit = OrderSpecs.submit(direction, order_id, timeout, access_token)
        return submit_sync(self._client, submit, OrderSpecs.get(direction, order_id, timeout, access_token), order_id)


class AsyncOrders(AsyncResource):
    """Orders and line items, asynchronously. Same operations as :class:`Orders`."""

    def __init__(self, client: AsyncAPIClient) -> None:
        super().__init__(client)

    async def create(
        self,
        direction: Direction,
        order: Order | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> Order:
        """POST a new order."""
        return await self._client._request(OrderSpecs.create(direction, order, timeout, access_token), Order)

    async def get(
        self,
        direction: Direction,
        order_id: str,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> Order:
        """One order."""
        return await self._client._request(OrderSpecs.get(direction, order_id, timeout, access_token), Order)

    async def list_line_items(
        self,
        direction: Direction,
        order_id: str,
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
        """One page of the order's line items (hydrated with Product and Variant)."""
        params = list_query(search, search_on, sort_by, page, page_size, filters).params()
        return await self._client._request(
            OrderSpecs.list_line_items(direction, order_id, params, timeout, access_token), LineItemPage
        )

    async def add_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item: LineItem | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> LineItem:
        """POST a line item (emits ``LineItemAdded`` where tracking is configured)."""
        spec = OrderSpecs.add_line_item(direction, order_id, line_item, timeout, access_token)
        return await self._client._request(spec, LineItem)

    async def get_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item_id: str,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> LineItem:
        """One line item."""
        spec = OrderSpecs.get_line_item(direction, order_id, line_item_id, timeout, access_token)
        return await self._client._request(spec, LineItem)

    async def save_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item_id: str,
        line_item: LineItem | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> LineItem:
        """PUT (create or replace) a line item."""
        spec = OrderSpecs.save_line_item(direction, order_id, line_item_id, line_item, timeout, access_token)
        return await self._client._request(spec, LineItem)

    async def patch_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item_id: str,
        partial: LineItemPatch | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> LineItem:
        """PATCH the given fields of a line item."""
        spec = OrderSpecs.patch_line_item(direction, order_id, line_item_id, partial, timeout, access_token)
        return await self._client._request(spec, LineItem)

    async def delete_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item_id: str,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> None:
        """DELETE a line item."""
        await self._client._send(OrderSpecs.delete_line_item(direction, order_id, line_item_id, timeout, access_token))

    async def submit(
        self,
        direction: Direction,
        order_id: str,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> Order:
        """Submit the order; never resent (see :meth:`Orders.submit`)."""
        submit = OrderSpecs.submit(direction, order_id, timeout, access_token)
        check = OrderSpecs.get(direction, order_id, timeout, access_token)
        return await submit_async(self._client, submit, check, order_id)
