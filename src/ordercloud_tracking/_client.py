"""``OrderCloud`` (on ``httpx.Client``) and ``AsyncOrderCloud`` (on ``httpx.AsyncClient``).

Both are native: the async client never runs the sync one in a thread and the sync client never drives a
coroutine. What they share — options, request building, retry decisions, error mapping and the auth
state machine — lives in :class:`_BaseClient`, ``_transport`` and ``_auth``; each executor below is a
short loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Generic, TypeVar

import attrs
import httpx
from typing_extensions import Self

from ._auth import ClientCredentials, Grant, OrderCloudAuth, StaticToken, TokenCache, TokenCaches
from ._context import API_CONTEXT
from ._errors import APIError, AuthenticationError, TokenError, redact_text
from ._logging import install_redaction_filter
from ._options import DEFAULT_TIMEOUT, RetryPolicy, resolve_auth_url, resolve_base_url
from ._transport import (
    NOT_GIVEN,
    NotGiven,
    RequestSpec,
    Timeout,
    api_error,
    connection_error,
    retry_delay,
    strip_bom,
)
from ._version import __version__

if TYPE_CHECKING:
    from .models._base import OCModel
    from .resources.api_clients import ApiClients, AsyncApiClients
    from .resources.cart import AsyncCart, Cart
    from .resources.delivery_configs import AsyncDeliveryConfigs, DeliveryConfigs
    from .resources.me import AsyncMe, Me
    from .resources.orders import AsyncOrders, Orders
    from .resources.tracking_events import AsyncTrackingEvents, TrackingEvents

__all__ = ["AsyncOrderCloud", "OrderCloud"]

log = logging.getLogger("ordercloud_tracking")

M = TypeVar("M", bound="OCModel")
R = TypeVar("R")

USER_AGENT = f"ordercloud-tracking-python/{__version__}"


HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)


class _BaseClient(Generic[HttpT]):
    """Options and the pure request/response handling shared by both clients."""

    _http: HttpT
    _http_class: type[HttpT]
    _twin: str  # the other client's name, for error messages

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        grant: Grant | None = None,
        environment: str = "production",
        region: str = "us-west",
        base_url: str | httpx.URL | None = None,
        auth_url: str | httpx.URL | None = None,
        scopes: tuple[str, ...] | list[str] = ("FullAccess",),
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | None = None,
        http_client: HttpT | None = None,
        retry_policy: RetryPolicy | None = None,
        refresh_skew: float = 60.0,
    ) -> None:
        if http_client is not None and not isinstance(http_client, self._http_class):
            raise TypeError(
                f"http_client must be an httpx.{self._http_class.__name__} (use {self._twin} for the other kind)"
            )
        self.base_url = resolve_base_url(environment, region, base_url)
        self.auth_url = resolve_auth_url(self.base_url, auth_url)
        self.environment = environment if base_url is None else None
        self.region = region if base_url is None else None
        if grant is None and client_secret is not None:
            if not client_id:
                raise ValueError("client_id is required with client_secret")
            grant = ClientCredentials(client_id, client_secret, tuple(scopes))
        if grant is not None and client_id and getattr(grant, "client_id", client_id) != client_id:
            raise ValueError("client_id does not match the grant's client_id")
        self.client_id = client_id or getattr(grant, "client_id", None)
        # max_retries defaults to 2, or to retry_policy's; when both are given, max_retries wins.
        policy = retry_policy or RetryPolicy()
        self._retry = policy if isinstance(max_retries, NotGiven) else attrs.evolve(policy, max_retries=max_retries)
        self.timeout = timeout
        self._headers: dict[str, str] = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **(default_headers or {}),
        }
        self._caches = TokenCaches(self.auth_url, refresh_skew=refresh_skew, clock=self._retry.clock)
        self._grant = grant
        self._token_cache: TokenCache | None = self._caches.get(grant) if grant is not None else None
        self._auth: OrderCloudAuth | None = OrderCloudAuth(self._token_cache) if self._token_cache else None
        self._http = http_client if http_client is not None else self._http_class(timeout=timeout)
        self._owns_http = http_client is None
        install_redaction_filter()

    # ------------------------------------------------------------------------------------- options
    @property
    def grant(self) -> Grant | None:
        """The grant this client authenticates with."""
        return self._grant

    @property
    def max_retries(self) -> int:
        return self._retry.max_retries

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry

    @property
    def token_cache(self) -> TokenCache | None:
        """The token cache (shared with ``with_options`` copies that keep the grant)."""
        return self._token_cache

    def with_options(
        self,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
        access_token: str | None = None,
        grant: Grant | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> Self:
        """A copy with other options that shares the connection pool and, for the same grant, the tokens.

        ``access_token=`` makes the copy act as another user (a :class:`StaticToken`); ``grant=`` gives it
        other credentials. Closing a copy never closes the shared pool.

        >>> shopper = client.with_options(access_token=token, timeout=5)   # doctest: +SKIP
        """
        clone = object.__new__(type(self))
        clone.__dict__.update(
            {key: value for key, value in self.__dict__.items() if key not in type(self)._resource_names()}
        )
        clone._owns_http = False
        if not isinstance(timeout, NotGiven):
            clone.timeout = timeout
        if retry_policy is not None:
            clone._retry = retry_policy
        if max_retries is not None:
            clone._retry = attrs.evolve(clone._retry, max_retries=max_retries)
        if headers:
            clone._headers = {**self._headers, **headers}
        if access_token is not None:
            grant = StaticToken(access_token)
        if grant is not None:
            clone._grant = grant
            clone._token_cache = self._caches.get(grant)
            clone._auth = OrderCloudAuth(clone._token_cache)
            clone.client_id = getattr(grant, "client_id", self.client_id)
        return clone

    def _private_token_cache(self, grant: Grant) -> TokenCache:
        """A token cache for ``grant`` that no other client shares (one shopper's session)."""
        caches = self._caches
        return TokenCache(grant, caches.token_url, refresh_skew=caches.refresh_skew, clock=caches.clock)

    def _with_token_cache(self, cache: TokenCache) -> Self:
        """A copy that authenticates through ``cache`` (shares the pool, not the tokens)."""
        clone = self.with_options()
        clone._grant = cache.grant
        clone._token_cache = cache
        clone._auth = OrderCloudAuth(cache)
        clone.client_id = getattr(cache.grant, "client_id", self.client_id)
        return clone

    @classmethod
    def _resource_names(cls) -> frozenset[str]:
        return frozenset(name for name, value in vars(cls).items() if isinstance(value, cached_property))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, client_id={self.client_id!r}, grant={self._grant!r})"

    # ---------------------------------------------------------------------------- request building
    def _build(self, spec: RequestSpec) -> httpx.Request:
        headers = self._headers
        if spec.body is not None:
            headers = {**headers, "Content-Type": "application/json"}
        if spec.access_token is not None:
            headers = {**headers, "Authorization": f"Bearer {spec.access_token}"}
        timeout = self.timeout if isinstance(spec.timeout, NotGiven) else spec.timeout
        return self._http.build_request(
            spec.method,
            f"{self.base_url}/v1/{spec.path}",
            params=list(spec.params) if spec.params else None,
            content=spec.body,
            headers=headers,
            timeout=timeout,
        )

    def _auth_for(self, spec: RequestSpec) -> OrderCloudAuth | None:
        if spec.access_token is not None:
            return None
        if self._auth is None:
            raise AuthenticationError(
                "This client has no credentials: pass client_secret= or grant= to the client, "
                "or access_token= to the call",
                status_code=401,
                method=spec.method,
                url=f"{self.base_url}/v1/{spec.path}",
            )
        return self._auth

    @staticmethod
    def _parse(response: httpx.Response, model: type[M]) -> M:
        # pydantic is imported with the first model, not with the client (keeps `import` light).
        from pydantic import ValidationError

        try:
            return model.model_validate_json(strip_bom(response.content), context=API_CONTEXT)
        except ValidationError as exc:
            raise APIError(
                f"Unexpected {model.__name__} body from OrderCloud: {exc.error_count()} validation error(s): "
                + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3]),
                status_code=response.status_code,
                method=response.request.method,
                url=response.request.url,
            ) from exc

    @staticmethod
    def _log(response: httpx.Response, started: float, attempt: int) -> None:
        if log.isEnabledFor(logging.DEBUG):
            request = response.request
            log.debug(
                "%s %s -> %d in %.1f ms (attempt %d)",
                request.method,
                redact_text(str(request.url)),
                response.status_code,
                (time.perf_counter() - started) * 1000,
                attempt + 1,
            )

    def _delay_or_raise(
        self,
        spec: RequestSpec,
        retries: int,
        *,
        response: httpx.Response | None = None,
        error: httpx.TransportError | TokenError | None = None,
    ) -> float:
        """How long to wait before the next attempt; raises the mapped error when not retrying."""
        decision = retry_delay(self._retry, retries, idempotent=spec.is_idempotent, response=response, error=error)
        if decision.delay is None:
            if response is not None:
                raise api_error(response, retry_after=decision.retry_after, subject=spec.subject)
            if isinstance(error, httpx.TransportError):
                raise connection_error(error) from error
            assert error is not None
            raise error
        reason = f"HTTP {response.status_code}" if response is not None else type(error).__name__
        log.info(
            "Retrying %s %s in %.2f s after %s (retry %d)", spec.method, spec.path, decision.delay, reason, retries + 1
        )
        return decision.delay


class OrderCloud(_BaseClient[httpx.Client]):
    """Synchronous OrderCloud client on :class:`httpx.Client`.

    >>> client = OrderCloud(client_id="...", client_secret="...", environment="sandbox")   # doctest: +SKIP
    >>> for event in client.tracking_events.iter_all():                                    # doctest: +SKIP
    ...     print(event.id, event.event_type)

    Pass ``http_client=`` to use your own :class:`httpx.Client` (a transport for tests, proxies …); the
    SDK never closes a client it was given.
    """

    _http_class = httpx.Client
    _twin = "AsyncOrderCloud"

    # ----------------------------------------------------------------------------------- resources
    @cached_property
    def tracking_events(self) -> TrackingEvents:
        """``/v1/integrations/trackingEvents``."""
        from .resources.tracking_events import TrackingEvents

        return TrackingEvents(self)

    @cached_property
    def delivery_configs(self) -> DeliveryConfigs:
        """``/v1/integrations/deliveryconfig``."""
        from .resources.delivery_configs import DeliveryConfigs

        return DeliveryConfigs(self)

    @cached_property
    def me(self) -> Me:
        """``/v1/me``: the current user, registration and ``TransferAnonUserOrder``."""
        from .resources.me import Me

        return Me(self)

    @cached_property
    def cart(self) -> Cart:
        """``/v1/cart``: the current user's cart and its line items."""
        from .resources.cart import Cart

        return Cart(self)

    @cached_property
    def orders(self) -> Orders:
        """``/v1/orders/{direction}``: orders and their line items."""
        from .resources.orders import Orders

        return Orders(self)

    @cached_property
    def api_clients(self) -> ApiClients:
        """``/v1/apiclients``."""
        from .resources.api_clients import ApiClients

        return ApiClients(self)

    # ------------------------------------------------------------------------------------- options
    def get_access_token(self) -> str:
        """A valid access token for this client's grant, requesting one if needed."""
        if self._auth is None:
            raise AuthenticationError("This client has no credentials", status_code=401)
        auth = self._auth
        timeout = httpx.Timeout(self.timeout).as_dict()
        return self._retrying(
            lambda: auth.sync_token(self._http, timeout), RequestSpec("POST", "oauth/token", idempotent=True)
        )

    def close(self) -> None:
        """Close the connection pool (unless it was passed in as ``http_client``, or this is a copy)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> OrderCloud:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------ executor
    def _retrying(self, attempt: Callable[[], R], spec: RequestSpec) -> R:
        retries = 0
        while True:
            started = time.perf_counter()
            try:
                result = attempt()
            except (httpx.TransportError, TokenError) as exc:
                delay = self._delay_or_raise(spec, retries, error=exc)
            else:
                if not isinstance(result, httpx.Response):
                    return result
                self._log(result, started, retries)
                if result.is_success:
                    return result
                delay = self._delay_or_raise(spec, retries, response=result)
            self._retry.sleep(delay)
            retries += 1

    def _send(self, spec: RequestSpec) -> httpx.Response:
        auth = self._auth_for(spec)
        return self._retrying(lambda: self._http.send(self._build(spec), auth=auth), spec)

    def _request(self, spec: RequestSpec, model: type[M]) -> M:
        return self._parse(self._send(spec), model)


class AsyncOrderCloud(_BaseClient[httpx.AsyncClient]):
    """Asynchronous OrderCloud client on :class:`httpx.AsyncClient`.

    >>> async with AsyncOrderCloud(client_id="...", client_secret="...") as client:   # doctest: +SKIP
    ...     event = await client.tracking_events.get("te-submit-web")
    """

    _http_class = httpx.AsyncClient
    _twin = "OrderCloud"

    # ----------------------------------------------------------------------------------- resources
    @cached_property
    def tracking_events(self) -> AsyncTrackingEvents:
        """``/v1/integrations/trackingEvents``."""
        from .resources.tracking_events import AsyncTrackingEvents

        return AsyncTrackingEvents(self)

    @cached_property
    def delivery_configs(self) -> AsyncDeliveryConfigs:
        """``/v1/integrations/deliveryconfig``."""
        from .resources.delivery_configs import AsyncDeliveryConfigs

        return AsyncDeliveryConfigs(self)

    @cached_property
    def me(self) -> AsyncMe:
        """``/v1/me``: the current user, registration and ``TransferAnonUserOrder``."""
        from .resources.me import AsyncMe

        return AsyncMe(self)

    @cached_property
    def cart(self) -> AsyncCart:
        """``/v1/cart``: the current user's cart and its line items."""
        from .resources.cart import AsyncCart

        return AsyncCart(self)

    @cached_property
    def orders(self) -> AsyncOrders:
        """``/v1/orders/{direction}``: orders and their line items."""
        from .resources.orders import AsyncOrders

        return AsyncOrders(self)

    @cached_property
    def api_clients(self) -> AsyncApiClients:
        """``/v1/apiclients``."""
        from .resources.api_clients import AsyncApiClients

        return AsyncApiClients(self)

    # ------------------------------------------------------------------------------------- options
    async def get_access_token(self) -> str:
        """A valid access token for this client's grant, requesting one if needed."""
        if self._auth is None:
            raise AuthenticationError("This client has no credentials", status_code=401)
        auth = self._auth
        timeout = httpx.Timeout(self.timeout).as_dict()
        return await self._retrying(
            lambda: auth.async_token(self._http, timeout), RequestSpec("POST", "oauth/token", idempotent=True)
        )

    async def close(self) -> None:
        """Close the connection pool (unless it was passed in as ``http_client``, or this is a copy)."""
        if self._owns_http:
            await self._http.aclose()

    aclose = close

    async def __aenter__(self) -> AsyncOrderCloud:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ------------------------------------------------------------------------------------ executor
    async def _retrying(self, attempt: Callable[[], Awaitable[R]], spec: RequestSpec) -> R:
        retries = 0
        while True:
            started = time.perf_counter()
            try:
                result = await attempt()
            except (httpx.TransportError, TokenError) as exc:
                delay = self._delay_or_raise(spec, retries, error=exc)
            else:
                if not isinstance(result, httpx.Response):
                    return result
                self._log(result, started, retries)
                if result.is_success:
                    return result
                delay = self._delay_or_raise(spec, retries, response=result)
            await self._retry.async_sleep(delay)
            retries += 1

    async def _send(self, spec: RequestSpec) -> httpx.Response:
        auth = self._auth_for(spec)
        return await self._retrying(lambda: self._http.send(self._build(spec), auth=auth), spec)

    async def _request(self, spec: RequestSpec, model: type[M]) -> M:
        return self._parse(await self._send(spec), model)
