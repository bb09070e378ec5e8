"""``/v1/apiclients``: API clients, including the anonymous-shopping settings tracking depends on."""

from __future__ import annotations

from ..models.commerce import ApiClient, ApiClientPatch
from ._base import AsyncCrudResource, CrudEndpoint, CrudResource

__all__ = ["ApiClients", "AsyncApiClients"]

_ENDPOINT = CrudEndpoint("apiclients", ApiClient, ApiClientPatch, id_name="api_client_id")


class ApiClients(CrudResource[ApiClient, ApiClientPatch]):
    """API clients. For anonymous shopping a client needs ``IsAnonBuyer`` and a buyer
    ``DefaultContextUserName``.
    """

    _endpoint = _ENDPOINT


class AsyncApiClients(AsyncCrudResource[ApiClient, ApiClientPatch]):
    """API clients, asynchronously. Same operations as :class:`ApiClients`."""

    _endpoint = _ENDPOINT
