"""What every resource shares: binding to a client, per-call options, and the six-operation CRUD shape.

A resource's requests are described once, as pure :class:`~ordercloud_tracking._requests.RequestSpec`
builders (:class:`CrudEndpoint`); the sync and async classes only send them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from .._pagination import FilterValue, ListPage, ListQuery, PageWalker, path_id
from .._requests import NOT_GIVEN, NotGiven, RequestSpec, Timeout
from ..models._base import OCModel

if TYPE_CHECKING:
    from .._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["AsyncCrudResource", "AsyncResource", "CrudEndpoint", "CrudResource", "SyncResource"]

M = TypeVar("M", bound=OCModel)
P = TypeVar("P", bound=OCModel)
T = TypeVar("T", bound=OCModel)


def coerce_model(model: type[T], value: T | Mapping[str, Any], what: str) -> T:
    """``value`` as ``model``: a mapping (JSON or attribute names) is validated as the caller's input."""
    if isinstance(value, model):
        return value
    if isinstance(value, OCModel):
        raise TypeError(f"{what} must be a {model.__name__} or a mapping, got {type(value).__name__}")
    if isinstance(value, Mapping):
        return model.model_validate(dict(value))
    raise TypeError(f"{what} must be a {model.__name__} or a mapping, got {type(value).__name__}")


class SyncResource:
    """Base of the synchronous resources: holds the client."""

    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._client!r})"


class AsyncResource:
    """Base of the asynchronous resources: holds the client."""

    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._client!r})"


class CrudEndpoint(Generic[M, P]):
    """Request specs for a resource with OrderCloud's six operations (list, get, create, save, patch, delete)."""

    def __init__(self, path: str, model: type[M], patch_model: type[P], *, object_type: str, id_name: str) -> None:
        self.path = path
        self.model = model
        self.patch_model = patch_model
        self.object_type = object_type
        self.id_name = id_name
        self.page_model = cast("type[ListPage[M]]", ListPage[model])  # type: ignore[valid-type]
        # Telemetry: "TrackingEvent" gives span names "tracking_events.get" and the template ".../{trackingEventID}".
        self.resource = re.sub(r"(?<!^)(?=[A-Z])", "_", object_type).lower() + "s"
        self.item_template = f"{path}/{{{object_type[0].lower()}{object_type[1:]}ID}}"

    def _on_item(
        self,
        method: str,
        operation: str,
        object_id: str,
        timeout: Timeout | NotGiven,
        access_token: str | None,
        body: bytes | None = None,
        *,
        subject: bool = True,
    ) -> RequestSpec:
        return RequestSpec(
            method,
            f"{self.path}/{path_id(object_id, self.id_name)}",
            body=body,
            timeout=timeout,
            access_token=access_token,
            subject=(self.object_type, object_id) if subject else None,
            operation=f"{self.resource}.{operation}",
            template=self.item_template,
        )

    def list(
        self, params: Sequence[tuple[str, str]], timeout: Timeout | NotGiven, access_token: str | None
    ) -> RequestSpec:
        operation = f"{self.resource}.list"
        return RequestSpec(
            "GET", self.path, params=params, timeout=timeout, access_token=access_token, operation=operation
        )

    def get(self, object_id: str, timeout: Timeout | NotGiven, access_token: str | None) -> RequestSpec:
        return self._on_item("GET", "get", object_id, timeout, access_token)

    def create(self, obj: M | Mapping[str, Any], timeout: Timeout | NotGiven, access_token: str | None) -> RequestSpec:
        body = coerce_model(self.model, obj, self.object_type).to_request_json()
        operation = f"{self.resource}.create"
        return RequestSpec(
            "POST", self.path, body=body, timeout=timeout, access_token=access_token, operation=operation
        )

    def save(
        self, object_id: str, obj: M | Mapping[str, Any], timeout: Timeout | NotGiven, access_token: str | None
    ) -> RequestSpec:
        body = coerce_model(self.model, obj, self.object_type).to_request_json()
        return self._on_item("PUT", "save", object_id, timeout, access_token, body, subject=False)

    def patch(
        self, object_id: str, partial: P | Mapping[str, Any], timeout: Timeout | NotGiven, access_token: str | None
    ) -> RequestSpec:
        body = coerce_model(self.patch_model, partial, f"{self.object_type} patch").to_request_json()
        return self._on_item("PATCH", "patch", object_id, timeout, access_token, body)

    def delete(self, object_id: str, timeout: Timeout | NotGiven, access_token: str | None) -> RequestSpec:
        return self._on_item("DELETE", "delete", object_id, timeout, access_token)


def list_query(
    search: str | None,
    search_on: str | Sequence[str] | None,
    sort_by: str | Sequence[str] | None,
    page: int | None,
    page_size: int | None,
    filters: Mapping[str, FilterValue] | None,
) -> ListQuery:
    return ListQuery(
        search=search, search_on=search_on, sort_by=sort_by, page=page, page_size=page_size, filters=filters
    )


class CrudResource(SyncResource, Generic[M, P]):
    """A synchronous resource with list, iter_all, get, create, save, patch and delete."""

    _endpoint: CrudEndpoint[M, P]

    def list(
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
    ) -> ListPage[M]:
        """One page. ``filters`` become query parameters (nested keys dotted, lists repeated)."""
        query = list_query(search, search_on, sort_by, page, page_size, filters)
        spec = self._endpoint.list(query.params(), timeout, access_token)
        return self._client._request(spec, self._endpoint.page_model)

    def iter_all(
        self,
        *,
        search: str | None = None,
        search_on: str | Sequence[str] | None = None,
        sort_by: str | Sequence[str] | None = None,
        page_size: int | None = None,
        filters: Mapping[str, FilterValue] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> Iterator[M]:
        """Every item, page after page (LastID paging past page 30 when sorted by ID, the default)."""
        walker = PageWalker(list_query(search, search_on, sort_by, None, page_size, filters), path=self._endpoint.path)
        return self._walk(walker, timeout, access_token)

    def _walk(self, walker: PageWalker, timeout: Timeout | NotGiven, access_token: str | None) -> Iterator[M]:
        params: list[tuple[str, str]] | None = walker.first()
        while params is not None:
            page = self._client._request(self._endpoint.list(params, timeout, access_token), self._endpoint.page_model)
            walker.check(page)
            yield from page.items
            params = walker.next(page)

    def get(self, object_id: str, *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None) -> M:
        """One object by ID; :class:`~ordercloud_tracking.NotFoundError` if it does not exist."""
        return self._client._request(self._endpoint.get(object_id, timeout, access_token), self._endpoint.model)

    def create(
        self, obj: M | Mapping[str, Any], *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None
    ) -> M:
        """POST a new object (an existing ID is a :class:`~ordercloud_tracking.ConflictError`)."""
        return self._client._request(self._endpoint.create(obj, timeout, access_token), self._endpoint.model)

    def save(
        self,
        object_id: str,
        obj: M | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> M:
        """PUT: create or replace the object with this ID (idempotent)."""
        return self._client._request(self._endpoint.save(object_id, obj, timeout, access_token), self._endpoint.model)

    def patch(
        self,
        object_id: str,
        partial: P | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> M:
        """PATCH only the given fields; an explicit ``None`` clears a field, an omitted one is untouched."""
        spec = self._endpoint.patch(object_id, partial, timeout, access_token)
        return self._client._request(spec, self._endpoint.model)

    def delete(
        self, object_id: str, *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None
    ) -> None:
        """DELETE the object."""
        self._client._send(self._endpoint.delete(object_id, timeout, access_token))


class AsyncCrudResource(AsyncResource, Generic[M, P]):
    """An asynchronous resource with list, iter_all, get, create, save, patch and delete."""

    _endpoint: CrudEndpoint[M, P]

    async def list(
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
    ) -> ListPage[M]:
        """One page. ``filters`` become query parameters (nested keys dotted, lists repeated)."""
        query = list_query(search, search_on, sort_by, page, page_size, filters)
        spec = self._endpoint.list(query.params(), timeout, access_token)
        return await self._client._request(spec, self._endpoint.page_model)

    def iter_all(
        self,
        *,
        search: str | None = None,
        search_on: str | Sequence[str] | None = None,
        sort_by: str | Sequence[str] | None = None,
        page_size: int | None = None,
        filters: Mapping[str, FilterValue] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> AsyncIterator[M]:
        """Every item, page after page (``async for``); LastID paging past page 30 when sorted by ID."""
        walker = PageWalker(list_query(search, search_on, sort_by, None, page_size, filters), path=self._endpoint.path)
        return self._walk(walker, timeout, access_token)

    async def _walk(
        self, walker: PageWalker, timeout: Timeout | NotGiven, access_token: str | None
    ) -> AsyncIterator[M]:
        params: list[tuple[str, str]] | None = walker.first()
        while params is not None:
            spec = self._endpoint.list(params, timeout, access_token)
            page = await self._client._request(spec, self._endpoint.page_model)
            walker.check(page)
            for item in page.items:
                yield item
            params = walker.next(page)

    async def get(
        self, object_id: str, *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None
    ) -> M:
        """One object by ID; :class:`~ordercloud_tracking.NotFoundError` if it does not exist."""
        return await self._client._request(self._endpoint.get(object_id, timeout, access_token), self._endpoint.model)

    async def create(
        self, obj: M | Mapping[str, Any], *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None
    ) -> M:
        """POST a new object (an existing ID is a :class:`~ordercloud_tracking.ConflictError`)."""
        return await self._client._request(self._endpoint.create(obj, timeout, access_token), self._endpoint.model)

    async def save(
        self,
        object_id: str,
        obj: M | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> M:
        """PUT: create or replace the object with this ID (idempotent)."""
        spec = self._endpoint.save(object_id, obj, timeout, access_token)
        return await self._client._request(spec, self._endpoint.model)

    async def patch(
        self,
        object_id: str,
        partial: P | Mapping[str, Any],
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> M:
        """PATCH only the given fields; an explicit ``None`` clears a field, an omitted one is untouched."""
        spec = self._endpoint.patch(object_id, partial, timeout, access_token)
        return await self._client._request(spec, self._endpoint.model)

    async def delete(
        self, object_id: str, *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None
    ) -> None:
        """DELETE the object."""
        await self._client._send(self._endpoint.delete(object_id, timeout, access_token))
