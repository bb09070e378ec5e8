"""What every resource shares: binding to a client, per-call options, and the six-operation CRUD shape.

A resource's requests are described once, as pure :class:`~ordercloud_tracking._requests.RequestSpec`
builders (:func:`call`, :class:`CrudEndpoint`); the sync and async classes only send them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar, cast

import attrs
from typing_extensions import Unpack

from .._base_client import AsyncAPIClient, SyncAPIClient
from .._pagination import ListPage, PageWalker, path_id
from .._requests import RequestSpec, check_keywords
from ..models._base import OCModel
from ._params import IterAllParams, ListParams, RequestOptions, split_list_params

__all__ = ["AsyncCrudResource", "CrudEndpoint", "CrudResource", "Resource", "body", "call"]

M = TypeVar("M", bound=OCModel)
P = TypeVar("P", bound=OCModel)
T = TypeVar("T", bound=OCModel)
ClientT = TypeVar("ClientT", SyncAPIClient, AsyncAPIClient)


def body(model: type[T], value: T | Mapping[str, Any], what: str) -> bytes:
    """The JSON request body of ``value`` as ``model``: a mapping (JSON or attribute names) is validated first."""
    if isinstance(value, model):
        return value.to_request_json()
    if isinstance(value, Mapping) and not isinstance(value, OCModel):
        return model.model_validate(dict(value)).to_request_json()
    raise TypeError(f"{what} must be a {model.__name__} or a mapping, got {type(value).__name__}")


def call(
    method: str,
    path: str,
    operation: str,
    options: RequestOptions,
    *,
    params: Sequence[tuple[str, str]] | None = None,
    body: bytes | None = None,
    template: str | None = None,
    subject: tuple[str, str] | None = None,
    idempotent: bool | None = None,
) -> RequestSpec:
    """The spec of one resource call; ``options`` are its keywords (an unknown one is a ``TypeError``)."""
    check_keywords(options, RequestOptions, operation)
    return RequestSpec(
        method,
        path,
        params=params,
        body=body,
        idempotent=idempotent,
        subject=subject,
        operation=operation,
        template=template,
        **options,
    )


class Resource(Generic[ClientT]):
    """Base of the resources: holds the client (a ``SyncAPIClient`` or an ``AsyncAPIClient``)."""

    def __init__(self, client: ClientT) -> None:
        self._client: ClientT = client

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._client!r})"


@attrs.frozen
class CrudEndpoint(Generic[M, P]):
    """Request specs for a collection with OrderCloud's six calls: list, create, and get, save, patch, delete by ID.

    ``path`` is the collection with its IDs filled in; ``template`` the same with placeholders (``None``
    when it has no IDs); ``parent`` the object a 404 on the collection itself names.
    """

    path: str
    model: type[M]
    patch_model: type[P]
    id_name: str  # the ID's name in argument errors (``event_id``)
    template: str | None = None
    parent: tuple[str, str] | None = None
    resource: str = ""  # the span names' first part; "": from the model ("TrackingEvent": "tracking_events")
    what: str = ""  # how a wrong body is named in a TypeError; "": the model's name

    subject_on_save: ClassVar[bool] = False  # a PUT creates: its 404 is not about the object

    @property
    def object_type(self) -> str:
        """The model's name: the subject of a 404, and ``{trackingEventID}`` in the item template."""
        return self.model.__name__

    @property
    def page_model(self) -> type[ListPage[M]]:
        return cast("type[ListPage[M]]", ListPage[self.model])  # type: ignore[name-defined]

    def operation(self, verb: str) -> str:
        """The span name of a call: ``tracking_events.get``."""
        resource = self.resource or re.sub(r"(?<!^)(?=[A-Z])", "_", self.object_type).lower() + "s"
        return f"{resource}.{verb}"

    def _body(self, model: type[T], value: T | Mapping[str, Any], suffix: str = "") -> bytes:
        return body(model, value, f"{self.what or self.object_type}{suffix}")

    def _item(
        self, method: str, verb: str, object_id: str, options: RequestOptions, data: bytes | None = None
    ) -> RequestSpec:
        path = f"{self.path}/{path_id(object_id, self.id_name)}"
        template = f"{self.template or self.path}/{{{self.object_type[0].lower()}{self.object_type[1:]}ID}}"
        subject = None if verb == "save" and not self.subject_on_save else (self.object_type, object_id)
        return call(method, path, self.operation(verb), options, body=data, template=template, subject=subject)

    def list(self, params: ListParams) -> RequestSpec:
        query, options = split_list_params(params, self.operation("list"))
        return self.page(query.params(), options)

    def walker(self, params: IterAllParams) -> tuple[PageWalker, RequestOptions]:
        """The page walker of ``iter_all`` and the options of its requests."""
        query, options = split_list_params(params, self.operation("iter_all"), IterAllParams)
        return PageWalker(query, path=self.path), options

    def page(self, params: Sequence[tuple[str, str]], options: RequestOptions) -> RequestSpec:
        """One page of the collection, with the query parameters ``params``."""
        operation = self.operation("list")
        return call("GET", self.path, operation, options, params=params, template=self.template, subject=self.parent)

    def create(self, obj: M | Mapping[str, Any], options: RequestOptions) -> RequestSpec:
        data = self._body(self.model, obj)
        operation = self.operation("create")
        return call("POST", self.path, operation, options, body=data, template=self.template, subject=self.parent)

    def get(self, object_id: str, options: RequestOptions) -> RequestSpec:
        return self._item("GET", "get", object_id, options)

    def save(self, object_id: str, obj: M | Mapping[str, Any], options: RequestOptions) -> RequestSpec:
        return self._item("PUT", "save", object_id, options, self._body(self.model, obj))

    def patch(self, object_id: str, partial: P | Mapping[str, Any], options: RequestOptions) -> RequestSpec:
        return self._item(
            "PATCH",
            "patch",
            object_id,
            options,
            self._body(self.patch_model, partial, " patch"),
        )

    def delete(self, object_id: str, options: RequestOptions) -> RequestSpec:
        return self._item("DELETE", "delete", object_id, options)


class CrudResource(Resource[SyncAPIClient], Generic[M, P]):
    """A synchronous resource with list, iter_all, get, create, save, patch and delete."""

    _endpoint: CrudEndpoint[M, P]

    def list(self, **params: Unpack[ListParams]) -> ListPage[M]:
        """One page. ``filters`` become query parameters (nested keys dotted, lists repeated)."""
        return self._client._request(self._endpoint.list(params), self._endpoint.page_model)

    def iter_all(self, **params: Unpack[IterAllParams]) -> Iterator[M]:
        """Every item, page after page (LastID paging past page 30 when sorted by ID, the default)."""
        walker, options = self._endpoint.walker(params)
        return self._walk(walker, options)

    def _walk(self, walker: PageWalker, options: RequestOptions) -> Iterator[M]:
        params: list[tuple[str, str]] | None = walker.first()
        while params is not None:
            page = self._client._request(self._endpoint.page(params, options), self._endpoint.page_model)
            walker.check(page)
            yield from page.items
            params = walker.next(page)

    def get(self, object_id: str, **options: Unpack[RequestOptions]) -> M:
        """One object by ID; :class:`~ordercloud_tracking.NotFoundError` if it does not exist."""
        return self._client._request(self._endpoint.get(object_id, options), self._endpoint.model)

    def create(self, obj: M | Mapping[str, Any], **options: Unpack[RequestOptions]) -> M:
        """POST a new object (an existing ID is a :class:`~ordercloud_tracking.ConflictError`)."""
        return self._client._request(self._endpoint.create(obj, options), self._endpoint.model)

    def save(self, object_id: str, obj: M | Mapping[str, Any], **options: Unpack[RequestOptions]) -> M:
        """PUT: create or replace the object with this ID (idempotent)."""
        return self._client._request(self._endpoint.save(object_id, obj, options), self._endpoint.model)

    def patch(self, object_id: str, partial: P | Mapping[str, Any], **options: Unpack[RequestOptions]) -> M:
        """PATCH only the given fields; an explicit ``None`` clears a field, an omitted one is untouched."""
        return self._client._request(self._endpoint.patch(object_id, partial, options), self._endpoint.model)

    def delete(self, object_id: str, **options: Unpack[RequestOptions]) -> None:
        """DELETE the object."""
        self._client._send(self._endpoint.delete(object_id, options))


class AsyncCrudResource(Resource[AsyncAPIClient], Generic[M, P]):
    """An asynchronous resource with list, iter_all, get, create, save, patch and delete."""

    _endpoint: CrudEndpoint[M, P]

    async def list(self, **params: Unpack[ListParams]) -> ListPage[M]:
        """One page. ``filters`` become query parameters (nested keys dotted, lists repeated)."""
        return await self._client._request(self._endpoint.list(params), self._endpoint.page_model)

    def iter_all(self, **params: Unpack[IterAllParams]) -> AsyncIterator[M]:
        """Every item, page after page (``async for``); LastID paging past page 30 when sorted by ID."""
        walker, options = self._endpoint.walker(params)
        return self._walk(walker, options)

    async def _walk(self, walker: PageWalker, options: RequestOptions) -> AsyncIterator[M]:
        params: list[tuple[str, str]] | None = walker.first()
        while params is not None:
            page = await self._client._request(self._endpoint.page(params, options), self._endpoint.page_model)
            walker.check(page)
            for item in page.items:
                yield item
            params = walker.next(page)

    async def get(self, object_id: str, **options: Unpack[RequestOptions]) -> M:
        """One object by ID; :class:`~ordercloud_tracking.NotFoundError` if it does not exist."""
        return await self._client._request(self._endpoint.get(object_id, options), self._endpoint.model)

    async def create(self, obj: M | Mapping[str, Any], **options: Unpack[RequestOptions]) -> M:
        """POST a new object (an existing ID is a :class:`~ordercloud_tracking.ConflictError`)."""
        return await self._client._request(self._endpoint.create(obj, options), self._endpoint.model)

    async def save(self, object_id: str, obj: M | Mapping[str, Any], **options: Unpack[RequestOptions]) -> M:
        """PUT: create or replace the object with this ID (idempotent)."""
        return await self._client._request(self._endpoint.save(object_id, obj, options), self._endpoint.model)

    async def patch(self, object_id: str, partial: P | Mapping[str, Any], **options: Unpack[RequestOptions]) -> M:
        """PATCH only the given fields; an explicit ``None`` clears a field, an omitted one is untouched."""
        return await self._client._request(self._endpoint.patch(object_id, partial, options), self._endpoint.model)

    async def delete(self, object_id: str, **options: Unpack[RequestOptions]) -> None:
        """DELETE the object."""
        await self._client._send(self._endpoint.delete(object_id, options))
