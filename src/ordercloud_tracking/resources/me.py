"""``/v1/me``: the current user, registration and ``TransferAnonUserOrder``.

``anonUserToken`` travels in the query string (as the official SDKs send it); the SDK redacts it from
its own logs, httpx's request log and every error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .._pagination import FilterValue, ListPage
from .._requests import NOT_GIVEN, NotGiven, RequestSpec, Timeout
from ..models.commerce import AccessToken, MeUser, Order
from ._base import AsyncResource, SyncResource, coerce_model, list_query

if TYPE_CHECKING:
    from .._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["AsyncMe", "Me"]

OrderPage = ListPage[Order]


def _anon_token(anon_user_token: str) -> str:
    if not isinstance(anon_user_token, str) or not anon_user_token.strip():
        raise ValueError("anon_user_token must be the anonymous shopper's access token (a non-empty string)")
    return anon_user_token


class _Specs:
    """Pure request specs shared by :class:`Me` and :class:`AsyncMe`."""

    @staticmethod
    def get(t: Timeout | NotGiven, tok: str | None) -> RequestSpec:
        return RequestSpec("GET", "me", timeout=t, access_token=tok, operation="me.get")

    @staticmethod
    def register(
        user: MeUser | Mapping[str, Any], anon_user_token: str, t: Timeout | NotGiven, tok: str | None
    ) -> RequestSpec:
        body = coerce_model(MeUser, user, "user").to_request_json()
        params = [("anonUserToken", _anon_token(anon_user_token))]
        # Not idempotent: registering twice would fail on the second username.
        return RequestSpec(
            "PUT",
            "me/register",
            params=params,
            body=body,
            timeout=t,
            access_token=tok,
            idempotent=False,
            operation="me.register",
        )

    @staticmethod
    def transfer(anon_user_token: str, t: Timeout | NotGiven, tok: str | None) -> RequestSpec:
        params = [("anonUserToken", _anon_token(anon_user_token))]
        return RequestSpec(
            "PUT", "me/orders", params=params, timeout=t, access_token=tok, operation="me.transfer_anon_user_order"
        )

    @staticmethod
    def list_orders(params: Sequence[tuple[str, str]], t: Timeout | NotGiven, tok: str | None) -> RequestSpec:
        return RequestSpec("GET", "me/orders", params=params, timeout=t, access_token=tok, operation="me.list_orders")


def _date_params(from_date: datetime | str | None, to_date: datetime | str | None) -> list[tuple[str, str]]:
    pairs = []
    for key, value in (("from", from_date), ("to", to_date)):
        if value is not None:
            pairs.append((key, value.isoformat() if isinstance(value, datetime) else value))
    return pairs


class Me(SyncResource):
    """The user the client acts as."""

    def __init__(self, client: SyncAPIClient) -> None:
        super().__init__(client)

    def get(self, *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None) -> MeUser:
        """``GET /v1/me``."""
        return self._client._request(_Specs.get(timeout, access_token), MeUser)

    def register(
        self,
        user: MeUser | Mapping[str, Any],
        *,
        anon_user_token: str,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> AccessToken:
        """Turn the anonymous shopper into a registered user (their order moves with them)."""
        spec = _Specs.register(user, anon_user_token, timeout, access_token)
        return self._client._request(spec, AccessToken)

    def transfer_anon_user_order(
        self, anon_user_token: str, *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None
    ) -> None:
        """``PUT /v1/me/orders?anonUserToken=…``: move the anonymous shopper's order to this user (204)."""
        self._client._send(_Specs.transfer(anon_user_token, timeout, access_token))

    def list_orders(
        self,
        *,
        from_date: datetime | str | None = None,
        to_date: datetime | str | None = None,
        search: str | None = None,
        search_on: str | Sequence[str] | None = None,
        sort_by: str | Sequence[str] | None = None,
        page: int | None = None,
        page_size: int | None = None,
        filters: Mapping[str, FilterValue] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> ListPage[Order]:
        """One page of this user's orders."""
        query = list_query(search, search_on, sort_by, page, page_size, filters)
        params = [*_date_params(from_date, to_date), *query.params()]
        return self._client._request(_Specs.list_orders(params, timeout, access_token), OrderPage)


class AsyncMe(AsyncResource):
    """The current user, asynchronously. Same operations as :class:`Me`."""

    def __init__(self, client: AsyncAPIClient) -> None:
        super().__init__(client)

    async def get(self, *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None) -> MeUser:
        """``GET /v1/me``."""
        return await self._client._request(_Specs.get(timeout, access_token), MeUser)

    async def register(
        self,
        user: MeUser | Mapping[str, Any],
        *,
        anon_user_token: str,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> AccessToken:
        """Turn the anonymous shopper into a registered user; returns the new user's token."""
        spec = _Specs.register(user, anon_user_token, timeout, access_token)
        return await self._client._request(spec, AccessToken)

    async def transfer_anon_user_order(
        self, anon_user_token: str, *, timeout: Timeout | NotGiven = NOT_GIVEN, access_token: str | None = None
    ) -> None:
        """``PUT /v1/me/orders?anonUserToken=…``: move the anonymous shopper's order to this user (204)."""
        await self._client._send(_Specs.transfer(anon_user_token, timeout, access_token))

    async def list_orders(
        self,
        *,
        from_date: datetime | str | None = None,
        to_date: datetime | str | None = None,
        search: str | None = None,
        search_on: str | Sequence[str] | None = None,
        sort_by: str | Sequence[str] | None = None,
        page: int | None = None,
        page_size: int | None = None,
        filters: Mapping[str, FilterValue] | None = None,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        access_token: str | None = None,
    ) -> ListPage[Order]:
        """One page of this user's orders."""
        query = list_query(search, search_on, sort_by, page, page_size, filters)
        params = [*_date_params(from_date, to_date), *query.params()]
        return await self._client._request(_Specs.list_orders(params, timeout, access_token), OrderPage)
