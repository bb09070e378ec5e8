"""The base client and the two executors. Resources import this module, never ``_client``.

:class:`BaseClient` holds what both clients share — the :class:`~ordercloud_tracking._options.ClientOptions`,
request building, parsing and the retry decision — and :class:`SyncAPIClient` / :class:`AsyncAPIClient`
are the two thin executors (a retry loop each). ``OrderCloud`` and ``AsyncOrderCloud`` in ``_client``
add the resources on top.

Every client, and every ``with_options`` copy, is set up by :meth:`BaseClient._setup`, the one
constructor path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

import attrs
import httpx
from typing_extensions import Self

from ._auth import Grant, OrderCloudAuth, StaticToken, TokenCache, TokenCaches
from ._context import API_CONTEXT
from ._errors import (
    MissingCredentialsError,
    TokenError,
    api_error,
    connection_error,
    response_validation_error,
)
from ._options import (
    DEFAULT_TIMEOUT,
    USER_AGENT,
    ClientOptions,
    resolve_auth_url,
    resolve_base_url,
    resolve_grant,
)
from ._redact import install_redaction_filter, redact_text
from ._requests import NOT_GIVEN, NotGiven, RequestSpec, Timeout, strip_bom
from ._retry import RetryPolicy, retry_delay
from ._telemetry import retry_event, start_call

if TYPE_CHECKING:
    from .models._base import OCModel

__all__ = ["AsyncAPIClient", "BaseClient", "SyncAPIClient"]

log = logging.getLogger("ordercloud_tracking")

M = TypeVar("M", bound="OCModel")
R = TypeVar("R")
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)


def _server(url: str) -> tuple[str, int, str]:
    parsed = httpx.URL(url)
    return parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80), parsed.path


_TOKEN_SPEC = RequestSpec("POST", "oauth/token", idempotent=True, operation="auth.token", template="")


class BaseClient(Generic[HttpT]):
    """Options and the pure request/response handling shared by both clients."""

    _http: HttpT
    _http_class: ClassVar[type[Any]]
    _twin: ClassVar[str]  # the other client's name, for error messages

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
        owns_http_client: bool = False,
        retry_policy: RetryPolicy | None = None,
        refresh_skew: float = 60.0,
    ) -> None:
        if http_client is not None and not isinstance(http_client, self._http_class):
            raise TypeError(
                f"http_client must be an httpx.{self._http_class.__name__} (use {self._twin} for the other kind)"
            )
        resolved_base = resolve_base_url(environment, region, base_url)
        grant = resolve_grant(client_id, client_secret, grant, scopes)
        policy = retry_policy or RetryPolicy()
        if not isinstance(max_retries, NotGiven):
            policy = attrs.evolve(policy, max_retries=max_retries)
        options = ClientOptions(
            base_url=resolved_base,
            auth_url=resolve_auth_url(resolved_base, auth_url),
            client_id=client_id or getattr(grant, "client_id", None),
            grant=grant,
            environment=environment if base_url is None else None,
            region=region if base_url is None else None,
            timeout=timeout,
            retry_policy=policy,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT, **(default_headers or {})},
            refresh_skew=refresh_skew,
        )
        caches = TokenCaches(options.auth_url, refresh_skew=refresh_skew, clock=options.retry_policy.clock)
        owns = http_client is None or owns_http_client
        http = http_client if http_client is not None else self._http_class(timeout=timeout)
        self._setup(options, http=http, owns_http=owns, caches=caches)
        install_redaction_filter()

    def _setup(
        self,
        options: ClientOptions,
        *,
        http: HttpT,
        owns_http: bool,
        caches: TokenCaches,
        token_cache: TokenCache | None = None,
    ) -> None:
        """The one constructor path: the constructor and every ``with_options`` copy end here."""
        self._options = options
        self._http = http
        self._owns_http = owns_http
        self._caches = caches
        grant = options.grant
        if token_cache is None and grant is not None:
            token_cache = caches.get(grant)
        self._token_cache = token_cache
        self._auth = OrderCloudAuth(token_cache) if token_cache is not None else None
        # Read on every request: kept as plain attributes.
        self._retry = options.retry_policy
        self._headers = dict(options.headers)
        self._api_root = f"{options.base_url}/v1/"
        self._server = _server(self._api_root)  # telemetry: (host, port, path prefix of url.template)
        self._auth_server = _server(options.auth_url)

    # ------------------------------------------------------------------------------------- options
    @property
    def options(self) -> ClientOptions:
        """This client's options (frozen; ``with_options`` makes a copy with others)."""
        return self._options

    def with_options(
        self,
        *,
        timeout: Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
        access_token: str | None = None,
        grant: Grant | None = None,
        retry_policy: RetryPolicy | None = None,
        token_cache: TokenCache | None = None,
    ) -> Self:
        """A copy with other options that shares the connection pool and, for the same grant, the tokens."""
        options = self._options
        if not isinstance(timeout, NotGiven):
            options = attrs.evolve(options, timeout=timeout)
        if retry_policy is not None:
            options = attrs.evolve(options, retry_policy=retry_policy)
        if max_retries is not None:
            options = attrs.evolve(options, retry_policy=attrs.evolve(options.retry_policy, max_retries=max_retries))
        if headers:
            options = attrs.evolve(options, headers={**options.headers, **headers})
        if access_token is not None:
            grant = StaticToken(access_token)
        if token_cache is not None:
            grant = token_cache.grant
        cache = token_cache
        if grant is not None:
            options = options.with_grant(grant)
        elif cache is None:
            cache = self._token_cache
        clone = object.__new__(type(self))
        clone._setup(options, http=self._http, owns_http=False, caches=self._caches, token_cache=cache)
        return clone

    @property
    def token_cache(self) -> TokenCache | None:
        """The token cache (shared with ``with_options`` copies that keep the grant)."""
        return self._token_cache

    def new_token_cache(self, grant: Grant) -> TokenCache:
        """A token cache for ``grant`` that no other client shares (one shopper's session)."""
        caches = self._caches
        return TokenCache(grant, caches.token_url, refresh_skew=caches.refresh_skew, clock=caches.clock)

    def __repr__(self) -> str:
        options = self._options
        fields = f"base_url={options.base_url!r}, client_id={options.client_id!r}, grant={options.grant!r}"
        return f"{type(self).__name__}({fields})"

    # ---------------------------------------------------------------------------- request building
    def _build(self, spec: RequestSpec) -> httpx.Request:
        headers = self._headers
        if spec.body is not None:
            headers = {**headers, "Content-Type": "application/json"}
        if spec.access_token is not None:
            headers = {**headers, "Authorization": f"Bearer {spec.access_token}"}
        timeout = self._options.timeout if isinstance(spec.timeout, NotGiven) else spec.timeout
        return self._http.build_request(
            spec.method,
            self._api_root + spec.path,
            params=list(spec.params) if spec.params else None,
            content=spec.body,
            headers=headers,
            timeout=timeout,
        )

    def _auth_for(self, spec: RequestSpec) -> OrderCloudAuth | None:
        if spec.access_token is not None:
            return None
        if self._auth is None:
            raise MissingCredentialsError(
                "This client has no credentials: pass client_secret= or grant= to the client, "
                "or access_token= to the call",
                method=spec.method,
                url=self._api_root + spec.path,
            )
        return self._auth

    def _require_auth(self) -> OrderCloudAuth:
        if self._auth is None:
            raise MissingCredentialsError("This client has no credentials: pass client_secret= or grant=")
        return self._auth

    @staticmethod
    def _parse(response: httpx.Response, model: type[M]) -> M:
        # pydantic is imported with the first model, not with the client (keeps `import` light).
        from pydantic import ValidationError

        try:
            parsed: M = model.__pydantic_validator__.validate_json(strip_bom(response.content), context=API_CONTEXT)
            return parsed
        except ValidationError as exc:
            error = response_validation_error(response, model, exc)
        raise error  # outside the handler: the validation error holds the body's values

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

    def _delay_after(self, spec: RequestSpec, retries: int, started: float, outcome: object) -> float | None:
        """How long to wait before the next attempt after ``outcome`` (``None``: it is the result).

        Raises the mapped error when not retrying. ``outcome`` is what an attempt returned or the
        ``httpx.TransportError`` / ``TokenError`` it raised; called outside any ``except`` block, so the
        error raised is not chained to an httpx exception.
        """
        if isinstance(outcome, httpx.Response):
            self._log(outcome, started, retries)
            if outcome.is_success:
                return None
        elif not isinstance(outcome, (httpx.TransportError, TokenError)):
            return None  # an attempt's own result (a token)
        decision = retry_delay(self._retry, retries, idempotent=spec.is_idempotent, outcome=outcome)
        if decision.delay is None:
            if isinstance(outcome, httpx.Response):
                raise api_error(outcome, retry_after=decision.retry_after, subject=spec.subject)
            if isinstance(outcome, httpx.TransportError):
                raise connection_error(outcome)
            raise outcome
        reason = f"HTTP {outcome.status_code}" if isinstance(outcome, httpx.Response) else type(outcome).__name__
        log.info(
            "Retrying %s %s in %.2f s after %s (retry %d)", spec.method, spec.path, decision.delay, reason, retries + 1
        )
        retry_event(spec.operation, retries + 1, decision.delay, reason)
        return decision.delay


class SyncAPIClient(BaseClient[httpx.Client]):
    """The synchronous executor: a retry loop around :class:`httpx.Client`."""

    _http_class = httpx.Client
    _twin = "AsyncOrderCloud"

    def get_access_token(self) -> str:
        """A valid access token for this client's grant, requesting one if needed."""
        auth = self._require_auth()
        timeout = httpx.Timeout(self._options.timeout).as_dict()
        return self._retrying(lambda: auth.sync_token(self._http, timeout), _TOKEN_SPEC, self._auth_server)

    def close(self) -> None:
        """Close the connection pool (unless it was passed in as ``http_client``, or this is a copy)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _retrying(self, attempt: Callable[[], R], spec: RequestSpec, server: tuple[str, int, str] | None = None) -> R:
        call = start_call(spec, server or self._server)
        if call is None:
            return self._attempts(attempt, spec)
        with call:
            result = self._attempts(attempt, spec)
            if isinstance(result, httpx.Response):
                call.succeeded(result.status_code)
            return result

    def _attempts(self, attempt: Callable[[], R], spec: RequestSpec) -> R:
        retries = 0
        while True:
            started = time.perf_counter()
            outcome: R | httpx.TransportError | TokenError
            try:
                outcome = attempt()
            except (httpx.TransportError, TokenError) as exc:
                outcome = exc
            delay = self._delay_after(spec, retries, started, outcome)
            if delay is None:
                return cast("R", outcome)
            self._retry.sleep(delay)
            retries += 1

    def _send(self, spec: RequestSpec) -> httpx.Response:
        auth = self._auth_for(spec)
        return self._retrying(lambda: self._http.send(self._build(spec), auth=auth), spec)

    def _request(self, spec: RequestSpec, model: type[M]) -> M:
        return self._parse(self._send(spec), model)


class AsyncAPIClient(BaseClient[httpx.AsyncClient]):
    """The asynchronous executor: a retry loop around :class:`httpx.AsyncClient`."""

    _http_class = httpx.AsyncClient
    _twin = "OrderCloud"

    async def get_access_token(self) -> str:
        """A valid access token for this client's grant, requesting one if needed."""
        auth = self._require_auth()
        timeout = httpx.Timeout(self._options.timeout).as_dict()
        return await self._retrying(lambda: auth.async_token(self._http, timeout), _TOKEN_SPEC, self._auth_server)

    async def close(self) -> None:
        """Close the connection pool (unless it was passed in as ``http_client``, or this is a copy)."""
        if self._owns_http:
            await self._http.aclose()

    async def aclose(self) -> None:
        """Same as :meth:`close`."""
        await self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _retrying(
        self, attempt: Callable[[], Awaitable[R]], spec: RequestSpec, server: tuple[str, int, str] | None = None
    ) -> R:
        call = start_call(spec, server or self._server)
        if call is None:
            return await self._attempts(attempt, spec)
        with call:
            result = await self._attempts(attempt, spec)
            if isinstance(result, httpx.Response):
                call.succeeded(result.status_code)
            return result

    async def _attempts(self, attempt: Callable[[], Awaitable[R]], spec: RequestSpec) -> R:
        retries = 0
        while True:
            started = time.perf_counter()
            outcome: R | httpx.TransportError | TokenError
            try:
                outcome = await attempt()
            except (httpx.TransportError, TokenError) as exc:
                outcome = exc
            delay = self._delay_after(spec, retries, started, outcome)
            if delay is None:
                return cast("R", outcome)
            await self._retry.async_sleep(delay)
            retries += 1

    async def _send(self, spec: RequestSpec) -> httpx.Response:
        auth = self._auth_for(spec)
        return await self._retrying(lambda: self._http.send(self._build(spec), auth=auth), spec)

    async def _request(self, spec: RequestSpec, model: type[M]) -> M:
        return self._parse(await self._send(spec), model)
