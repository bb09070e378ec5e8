"""``/v1/me``: the current user, registration and ``TransferAnonUserOrder``.

``anonUserToken`` travels in the query string (as the official SDKs send it); the SDK redacts it from
its own logs, httpx's request log and every error.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from typing_extensions import Unpack

from .._base_client import AsyncAPIClient, SyncAPIClient
from .._pagination import ListPage
from .._requests import RequestSpec
from ..models.commerce import AccessToken, MeUser, Order
from ._base import Resource, body, call
from ._params import ListParams, RequestOptions, split_list_params

__all__ = ["AsyncMe", "Me"]

OrderPage = ListPage[Order]


def _anon_token(anon_user_token: str) -> list[tuple[str, str]]:
    if not isinstance(anon_user_token, str) or not anon_user_token.strip():
        raise ValueError("anon_user_token must be the anonymous shopper's access token (a non-empty string)")
    return [("anonUserToken", anon_user_token)]


def _get(options: RequestOptions) -> RequestSpec:
    return call("GET", "me", "me.get", options)


def _register(user: MeUser | Mapping[str, Any], anon_user_token: str, options: RequestOptions) -> RequestSpec:
    data = body(MeUser, user, "user")
    # Not idempotent: registering twice would fail on the second username.
    return call(
        "PUT", "me/register", "me.register", options, params=_anon_token(anon_user_token), body=data, idempotent=False
    )


def _transfer(anon_user_token: str, options: RequestOptions) -> RequestSpec:
    return call("PUT", "me/orders", "me.transfer_anon_user_order", options, params=_anon_token(anon_user_token))


def _list_orders(from_date: datetime | str | None, to_date: datetime | str | None, params: ListParams) -> RequestSpec:
    query, options = split_list_params(params, "me.list_orders")
    dates = [
        (key, value.isoformat() if isinstance(value, datetime) else value)
        for key, value in (("from", from_date), ("to", to_date))
        if value is not None
    ]
    return call("GET", "me/orders", "me.list_orders", options, params=[*dates, *query.params()])


class Me(Resource[SyncAPIClient]):
    """The user the client acts as."""

    def get(self, **options: Unpack[RequestOptions]) -> MeUser:
        """``GET /v1/me``."""
        return self._client._request(_get(options), MeUser)

    def register(
        self, user: MeUser | Mapping[str, Any], *, anon_user_token: str, **options: Unpack[RequestOptions]
    ) -> AccessToken:
        """Turn the anonymous shopper into a registered user (their order moves with them)."""
        return self._client._request(_register(user, anon_user_token, options), AccessToken)

    def transfer_anon_user_order(self, anon_user_token: str, **options: Unpack[RequestOptions]) -> None:
        """``PUT /v1/me/orders?anonUserToken=…``: move the anonymous shopper's order to this user (204)."""
        self._client._send(_transfer(anon_user_token, options))

    def list_orders(
        self,
        *,
        from_date: datetime | str | None = None,
        to_date: datetime | str | None = None,
        **params: Unpack[ListParams],
    ) -> ListPage[Order]:
        """One page of this user's orders."""
        return self._client._request(_list_orders(from_date, to_date, params), OrderPage)


class AsyncMe(Resource[AsyncAPIClient]):
    """The current user, asynchronously. Same operations as :class:`Me`."""

    async def get(self, **options: Unpack[RequestOptions]) -> MeUser:
        """``GET /v1/me``."""
        return await self._client._request(_get(options), MeUser)

    async def register(
        self, user: MeUser | Mapping[str, Any], *, anon_user_token: str, **options: Unpack[RequestOptions]
    ) -> AccessToken:
        """Turn the anonymous shopper into a registered user; returns the new user's token."""
        return await self._client._request(_register(user, anon_user_token, options), AccessToken)

    async def transfer_anon_user_order(self, anon_user_token: str, **options: Unpack[RequestOptions]) -> None:
        """``PUT /v1/me/orders?anonUserToken=…``: move the anonymous shopper's order to this user (204)."""
        await self._client._send(_transfer(anon_user_token, options))

    async def list_orders(
        self,
        *,
        from_date: datetime | str | None = None,
        to_date: datetime | str | None = None,
        **params: Unpack[ListParams],
    ) -> ListPage[Order]:
        """One page of this user's orders."""
        return await self._client._request(_list_orders(from_date, to_date, params), OrderPage)
