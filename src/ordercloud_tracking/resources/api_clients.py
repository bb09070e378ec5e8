"""``/v1/apiclients``: API clients, including the anonymous-shopping settings tracking depends on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models.commerce import ApiClient, ApiClientPatch
from ._base import AsyncCrudResource, CrudEndpoint, CrudResource

if TYPE_CHECKING:
    from .._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["ApiClients", "AsyncApiClients"]

_ENDPOINT = CrudEndpoint("apiclients", ApiClient, ApiClientPatch, object_type="ApiClient", id_name="api_client_id")


class ApiClients(CrudResource[ApiClient, ApiClientPatch]):
    """API clients. For anonymous shopping a client needs ``IsAnonBuyer`` and a buyer
    ``DefaultContextUserName``.
    """

    def __init__(self, client: SyncAPIClient) -> None:
        super().__init__(client)
        self._endpoint = _ENDPOINT


class AsyncApiClients(AsyncCrudResource[ApiClient, ApiClientPatch]):
    """API clients, asynchronously. Same operations as :class:`ApiClients`."""

    def __init__(self, client: AsyncAPIClient) -> None:
        super().__init__(client)
        self._endpoint = _ENDPOINT
