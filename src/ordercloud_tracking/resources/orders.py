"""``/v1/orders/{direction}``: orders and their line items (buyers use ``Outgoing``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from typing_extensions import Unpack

from .._base_client import AsyncAPIClient, SyncAPIClient
from .._pagination import ListPage, path_id
from .._requests import RequestSpec
from ..models.commerce import LineItem, LineItemPatch, Order, OrderDirection
from ._base import CrudEndpoint, Resource, body, call
from ._params import ListParams, RequestOptions
from ._submit import submit_async, submit_sync

__all__ = ["AsyncOrders", "LineItemSpecs", "OrderSpecs", "Orders"]

Direction = str | OrderDirection

_ORDERS = "orders/{direction}"
_ORDER = f"{_ORDERS}/{{orderID}}"


def _order_path(direction: Direction, order_id: str) -> str:
    return f"orders/{OrderDirection.coerce(direction).value}/{path_id(order_id, 'order_id')}"


class LineItemSpecs(CrudEndpoint[LineItem, LineItemPatch]):
    """Request specs for the line items of the cart or of one order: the six calls, named ``add_line_item`` …"""

    subject_on_save = True
    _VERBS: ClassVar[Mapping[str, str]] = {"list": "list_line_items", "create": "add_line_item"}

    @classmethod
    def under(cls, resource: str, path: str, template: str | None = None, order_id: str | None = None) -> LineItemSpecs:
        """The line items under ``path``: the cart's, or an order's (with the order's ``template`` and ID)."""
        return cls(
            f"{path}/lineitems",
            LineItem,
            LineItemPatch,
            "line_item_id",
            template=f"{template}/lineitems" if template else None,
            parent=("Order", order_id) if order_id else None,
            resource=resource,
            what="line item",
        )

    def operation(self, verb: str) -> str:
        return f"{self.resource}.{self._VERBS.get(verb, f'{verb}_line_item')}"


class OrderSpecs:
    """Pure request specs shared by :class:`Orders` and :class:`AsyncOrders`."""

    @staticmethod
    def create(direction: Direction, order: Order | Mapping[str, Any], options: RequestOptions) -> RequestSpec:
        path = f"orders/{OrderDirection.coerce(direction).value}"
        return call("POST", path, "orders.create", options, body=body(Order, order, "order"), template=_ORDERS)

    @staticmethod
    def get(direction: Direction, order_id: str, options: RequestOptions) -> RequestSpec:
        path = _order_path(direction, order_id)
        return call("GET", path, "orders.get", options, template=_ORDER, subject=("Order", order_id))

    @staticmethod
    def submit(direction: Direction, order_id: str, options: RequestOptions) -> RequestSpec:
        path = f"{_order_path(direction, order_id)}/submit"
        subject = ("Order", order_id)
        return call(
            "POST", path, "orders.submit", options, template=f"{_ORDER}/submit", subject=subject, idempotent=False
        )

    @staticmethod
    def line_items(direction: Direction, order_id: str) -> LineItemSpecs:
        return LineItemSpecs.under("orders", _order_path(direction, order_id), _ORDER, order_id)


class Orders(Resource[SyncAPIClient]):
    """Orders and line items under ``/v1/orders/{direction}``."""

    def create(
        self, direction: Direction, order: Order | Mapping[str, Any], **options: Unpack[RequestOptions]
    ) -> Order:
        """POST a new order."""
        return self._client._request(OrderSpecs.create(direction, order, options), Order)

    def get(self, direction: Direction, order_id: str, **options: Unpack[RequestOptions]) -> Order:
        """One order."""
        return self._client._request(OrderSpecs.get(direction, order_id, options), Order)

    def list_line_items(self, direction: Direction, order_id: str, **params: Unpack[ListParams]) -> ListPage[LineItem]:
        """One page of the order's line items (hydrated with Product and Variant)."""
        line_items = OrderSpecs.line_items(direction, order_id)
        return self._client._request(line_items.list(params), line_items.page_model)

    def add_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item: LineItem | Mapping[str, Any],
        **options: Unpack[RequestOptions],
    ) -> LineItem:
        """POST a line item (emits ``LineItemAdded`` where tracking is configured)."""
        return self._client._request(OrderSpecs.line_items(direction, order_id).create(line_item, options), LineItem)

    def get_line_item(
        self, direction: Direction, order_id: str, line_item_id: str, **options: Unpack[RequestOptions]
    ) -> LineItem:
        """One line item."""
        return self._client._request(OrderSpecs.line_items(direction, order_id).get(line_item_id, options), LineItem)

    def save_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item_id: str,
        line_item: LineItem | Mapping[str, Any],
        **options: Unpack[RequestOptions],
    ) -> LineItem:
        """PUT (create or replace) a line item."""
        spec = OrderSpecs.line_items(direction, order_id).save(line_item_id, line_item, options)
        return self._client._request(spec, LineItem)

    def patch_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item_id: str,
        partial: LineItemPatch | Mapping[str, Any],
        **options: Unpack[RequestOptions],
    ) -> LineItem:
        """PATCH the given fields of a line item."""
        spec = OrderSpecs.line_items(direction, order_id).patch(line_item_id, partial, options)
        return self._client._request(spec, LineItem)

    def delete_line_item(
        self, direction: Direction, order_id: str, line_item_id: str, **options: Unpack[RequestOptions]
    ) -> None:
        """DELETE a line item."""
        self._client._send(OrderSpecs.line_items(direction, order_id).delete(line_item_id, options))

    def submit(self, direction: Direction, order_id: str, **options: Unpack[RequestOptions]) -> Order:
        """Submit the order. Never resent: an unknown outcome is settled with one GET of the order, and
        :class:`~ordercloud_tracking.AmbiguousSubmitError` is raised if it is not submitted (or the GET
        failed too, leaving its state unknown)."""
        submit = OrderSpecs.submit(direction, order_id, options)
        return submit_sync(self._client, submit, OrderSpecs.get(direction, order_id, options), order_id)


class AsyncOrders(Resource[AsyncAPIClient]):
    """Orders and line items, asynchronously. Same operations as :class:`Orders`."""

    async def create(
        self, direction: Direction, order: Order | Mapping[str, Any], **options: Unpack[RequestOptions]
    ) -> Order:
        """POST a new order."""
        return await self._client._request(OrderSpecs.create(direction, order, options), Order)

    async def get(self, direction: Direction, order_id: str, **options: Unpack[RequestOptions]) -> Order:
        """One order."""
        return await self._client._request(OrderSpecs.get(direction, order_id, options), Order)

    async def list_line_items(
        self, direction: Direction, order_id: str, **params: Unpack[ListParams]
    ) -> ListPage[LineItem]:
        """One page of the order's line items (hydrated with Product and Variant)."""
        line_items = OrderSpecs.line_items(direction, order_id)
        return await self._client._request(line_items.list(params), line_items.page_model)

    async def add_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item: LineItem | Mapping[str, Any],
        **options: Unpack[RequestOptions],
    ) -> LineItem:
        """POST a line item (emits ``LineItemAdded`` where tracking is configured)."""
        spec = OrderSpecs.line_items(direction, order_id).create(line_item, options)
        return await self._client._request(spec, LineItem)

    async def get_line_item(
        self, direction: Direction, order_id: str, line_item_id: str, **options: Unpack[RequestOptions]
    ) -> LineItem:
        """One line item."""
        spec = OrderSpecs.line_items(direction, order_id).get(line_item_id, options)
        return await self._client._request(spec, LineItem)

    async def save_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item_id: str,
        line_item: LineItem | Mapping[str, Any],
        **options: Unpack[RequestOptions],
    ) -> LineItem:
        """PUT (create or replace) a line item."""
        spec = OrderSpecs.line_items(direction, order_id).save(line_item_id, line_item, options)
        return await self._client._request(spec, LineItem)

    async def patch_line_item(
        self,
        direction: Direction,
        order_id: str,
        line_item_id: str,
        partial: LineItemPatch | Mapping[str, Any],
        **options: Unpack[RequestOptions],
    ) -> LineItem:
        """PATCH the given fields of a line item."""
        spec = OrderSpecs.line_items(direction, order_id).patch(line_item_id, partial, options)
        return await self._client._request(spec, LineItem)

    async def delete_line_item(
        self, direction: Direction, order_id: str, line_item_id: str, **options: Unpack[RequestOptions]
    ) -> None:
        """DELETE a line item."""
        await self._client._send(OrderSpecs.line_items(direction, order_id).delete(line_item_id, options))

    async def submit(self, direction: Direction, order_id: str, **options: Unpack[RequestOptions]) -> Order:
        """Submit the order; never resent (see :meth:`Orders.submit`)."""
        submit = OrderSpecs.submit(direction, order_id, options)
        return await submit_async(self._client, submit, OrderSpecs.get(direction, order_id, options), order_id)
