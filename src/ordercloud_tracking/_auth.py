"""Grants, the token cache and the httpx auth flow shared by the sync and async clients.

The auth flow is written once, as a generator that yields either an :class:`httpx.Request` to send or
a lock command. :class:`OrderCloudAuth` drives it with a :class:`threading.Lock` for
:class:`httpx.Client` and with an :class:`asyncio.Lock` for :class:`httpx.AsyncClient`, so both clients
share one state machine:

1. a fresh token (not within ``refresh_skew`` seconds of expiry) is used without taking any lock;
2. a token inside the skew window is still used by everyone while exactly one caller refreshes it;
3. with no usable token, callers queue on the lock and exactly one token request is made;
4. a 401 answer invalidates that token and the request is replayed once with a new one.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar

import attrs
import httpx

if TYPE_CHECKING:
    import asyncio

from ._driven import Driven
from ._errors import MissingCredentialsError, TokenError, token_error
from ._public import set_public_home
from ._retry import TOKEN_REQUEST_EXTENSION
from ._telemetry import token_rejected, token_requested

__all__ = [
    "AnonymousGrant",
    "ClientCredentials",
    "DecodedToken",
    "Grant",
    "OrderCloudAuth",
    "PasswordGrant",
    "RefreshTokenGrant",
    "StaticToken",
    "TokenCache",
    "decode_token",
]

_DEFAULT_LIFETIME: Final = 600.0  # seconds; OrderCloud's minimum AccessTokenDuration is 10 minutes


# --------------------------------------------------------------------------------------------- grants


def _scopes(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    return tuple(value)


@attrs.frozen
class ClientCredentials:
    """``client_credentials`` grant with a secret: acts as the API client's default context user."""

    client_id: str
    client_secret: str = attrs.field(repr=False)
    scopes: tuple[str, ...] = attrs.field(default=("FullAccess",), converter=_scopes)

    def form(self) -> dict[str, str]:
        """The token request's form fields (they include the secret: never log them)."""
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "scope": " ".join(self.scopes),
        }


@attrs.frozen
class PasswordGrant:
    """``password`` grant: a user's username and password (plus the client secret, if the client has one)."""

    client_id: str
    username: str
    password: str = attrs.field(repr=False)
    client_secret: str | None = attrs.field(default=None, repr=False)
    scopes: tuple[str, ...] = attrs.field(default=("FullAccess",), converter=_scopes)

    def form(self) -> dict[str, str]:
        """The token request's form fields; ``client_secret`` only when set (they hold the password: never log them)."""
        form = {
            "grant_type": "password",
            "client_id": self.client_id,
            "username": self.username,
            "password": self.password,
            "scope": " ".join(self.scopes),
        }
        if self.client_secret:
            form["client_secret"] = self.client_secret
        return form


@attrs.frozen
class AnonymousGrant:
    """Anonymous shopper token: ``client_credentials`` without a secret, optionally with ``anonuserid``."""

    client_id: str
    anon_user_id: str | None = None
    scopes: tuple[str, ...] = attrs.field(default=("Shopper",), converter=_scopes)

    def form(self) -> dict[str, str]:
        """The token request's form fields: ``client_credentials`` without a secret, plus ``anonuserid`` when set."""
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "scope": " ".join(self.scopes)}
        if self.anon_user_id:
            form["anonuserid"] = self.anon_user_id
        return form


@attrs.frozen
class StaticToken:
    """A token obtained elsewhere. It is never refreshed: a 401 raises :class:`AuthenticationError`, and once it
    is known to have expired, calls raise :class:`MissingCredentialsError` without sending anything.
    """

    access_token: str = attrs.field(repr=False)


@attrs.frozen
class RefreshTokenGrant:
    """Continue a user's session from a refresh token you hold (no password kept anywhere)."""

    client_id: str
    refresh_token: str = attrs.field(repr=False)
    client_secret: str | None = attrs.field(default=None, repr=False)

    def form(self) -> dict[str, str]:
        """The form-encoded fields of the token request."""
        form = {"grant_type": "refresh_token", "client_id": self.client_id, "refresh_token": self.refresh_token}
        if self.client_secret:
            form["client_secret"] = self.client_secret
        return form


Grant: TypeAlias = ClientCredentials | PasswordGrant | AnonymousGrant | RefreshTokenGrant | StaticToken


# ------------------------------------------------------------------------------------- decode_token


def _b64url_json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError, RecursionError):
        pass  # raised below, outside the handler: the decoding error holds the token's text
    raise ValueError("Malformed token: a segment is not base64url-encoded JSON (or nests too deeply)")


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    return None


@attrs.frozen
class DecodedToken:
    """The claims of an OrderCloud JWT, read without checking the signature."""

    usr: str | None
    cid: str | None
    u: str | None
    usrtype: str | None
    role: list[str]
    iss: str | None
    aud: str | None
    exp: int | float | None
    nbf: int | float | None
    orderid: str | None
    imp: str | None
    claims: Mapping[str, Any] = attrs.field(repr=False)
    header: Mapping[str, Any] = attrs.field(repr=False, factory=dict)

    @property
    def expires_at(self) -> datetime | None:
        """``exp`` as an aware datetime."""
        return _epoch(self.exp)

    @property
    def not_before(self) -> datetime | None:
        """``nbf`` as an aware datetime."""
        return _epoch(self.nbf)

    @property
    def is_anonymous(self) -> bool:
        """True for anonymous shopper tokens (they carry an ``orderid`` claim)."""
        return bool(self.orderid)

    def __getitem__(self, claim: str) -> Any:
        return self.claims[claim]

    def get(self, claim: str, default: Any = None) -> Any:
        """Any claim by name, including ones this class has no attribute for."""
        return self.claims.get(claim, default)


def decode_token(token: str) -> DecodedToken:
    """Decode an OrderCloud JWT's header and claims without verifying it."""
    if not isinstance(token, str):
        raise ValueError("Malformed token: expected a string")
    try:
        return _decode(token)
    except RecursionError:
        pass  # claims nested deeper than Python can handle; raised outside the handler, unchained
    raise ValueError("Malformed token: the claims are nested too deeply")


def _decode(token: str) -> DecodedToken:
    parts = token.strip().split(".")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise ValueError("Malformed token: expected three dot-separated segments")
    header = _b64url_json(parts[0])
    claims = _b64url_json(parts[1])
    if not isinstance(claims, dict) or not isinstance(header, dict):
        raise ValueError("Malformed token: header and payload must be JSON objects")
    role = claims.get("role")
    roles = [role] if isinstance(role, str) else [str(r) for r in role] if isinstance(role, list) else []

    def text(name: str) -> str | None:
        value = claims.get(name)
        return None if value is None else str(value)

    def number(name: str) -> int | float | None:
        value = claims.get(name)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    return DecodedToken(
        usr=text("usr"),
        cid=text("cid"),
        u=text("u"),
        usrtype=text("usrtype"),
        role=roles,
        iss=text("iss"),
        aud=text("aud"),
        exp=number("exp"),
        nbf=number("nbf"),
        orderid=text("orderid"),
        imp=text("imp"),
        claims=claims,
        header=header,
    )


# -------------------------------------------------------------------------------------- token cache


@attrs.define
class _Token:
    access_token: str = attrs.field(repr=False)
    expires_at: float
    refresh_token: str | None = attrs.field(default=None, repr=False)


def _expiry(payload: Mapping[str, Any], access_token: str, now: float) -> float:
    expires_in = payload.get("expires_in")
    if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool) and expires_in > 0:
        return now + float(expires_in)
    try:
        exp = decode_token(access_token).exp
    except ValueError:
        exp = None
    return float(exp) if exp is not None else now + _DEFAULT_LIFETIME


class TokenCache:
    """Tokens for one grant and token URL, shared by a client and its ``with_options`` copies."""

    def __init__(
        self,
        grant: Grant,
        token_url: str,
        *,
        refresh_skew: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.grant = grant
        self.token_url = token_url
        self.refresh_skew = refresh_skew
        self.clock = clock
        self._token: _Token | None = None
        if isinstance(grant, StaticToken):
            self._token = _Token(grant.access_token, float("inf"))
        self.thread_lock = threading.Lock()
        self._async_lock: asyncio.Lock | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None
        self.token_requests = 0  # how many token requests this cache has made (for diagnostics/tests)

    def __repr__(self) -> str:
        return f"TokenCache(grant={self.grant!r}, token_url={self.token_url!r})"

    @property
    def renewable(self) -> bool:
        """Whether a new token can be obtained (false for :class:`StaticToken`)."""
        return not isinstance(self.grant, StaticToken)

    def async_lock(self) -> asyncio.Lock:
        """The asyncio lock for the running event loop (a new one if the loop changed)."""
        import asyncio  # only async clients pay for importing asyncio

        loop = asyncio.get_running_loop()
        if self._async_lock is None or self._async_loop is not loop:
            self._async_lock = asyncio.Lock()
            self._async_loop = loop
        return self._async_lock

    def fresh(self) -> str | None:
        """A token that is not within ``refresh_skew`` of expiry."""
        token = self._token
        if token is not None and token.expires_at - self.refresh_skew > self.clock():
            return token.access_token
        return None

    def usable(self) -> str | None:
        """A token that has not expired yet (it may be due for an early refresh)."""
        token = self._token
        if token is not None and token.expires_at > self.clock():
            return token.access_token
        return None

    def invalidate(self, access_token: str | None = None) -> None:
        """Forget the cached token (only if it is still ``access_token``, when given)."""
        token = self._token
        if token is not None and self.renewable and (access_token is None or token.access_token == access_token):
            # Keep the refresh token: a 401 means the access token is bad, not the refresh token.
            self._token = _Token("", float("-inf"), token.refresh_token) if token.refresh_token else None

    def set_token(
        self,
        access_token: str,
        *,
        expires_in: float | None = None,
        expires_at: float | None = None,
        refresh_token: str | None = None,
    ) -> None:
        """Seed the cache with a token obtained elsewhere (e.g. from ``Me.Register``)."""
        payload: dict[str, Any] = {} if expires_in is None else {"expires_in": expires_in}
        expiry = expires_at if expires_at is not None else _expiry(payload, access_token, self.clock())
        self._token = _Token(access_token, expiry, refresh_token)

    @property
    def access_token(self) -> str | None:
        """The current token if it has not expired."""
        return self.usable()

    def build_token_request(self, timeout: Mapping[str, Any] | None = None) -> httpx.Request:
        """The form-encoded token request: a refresh grant when a refresh token is held."""
        grant = self.grant
        if isinstance(grant, StaticToken):  # pragma: no cover - guarded by ``renewable``
            raise RuntimeError("A StaticToken cannot be refreshed")  # a client state, not an HTTP answer
        token = self._token
        if token is not None and token.refresh_token:
            # Reference §4.2 lists client_id and refresh_token; §3 says a client that has a secret needs it on
            # *all* grant types. Sending the secret we hold satisfies both readings.
            form = {"grant_type": "refresh_token", "client_id": grant.client_id, "refresh_token": token.refresh_token}
            if isinstance(grant, (ClientCredentials, PasswordGrant, RefreshTokenGrant)) and grant.client_secret:
                form["client_secret"] = grant.client_secret
        else:
            form = grant.form()
        self.token_requests += 1
        extensions: dict[str, Any] = {TOKEN_REQUEST_EXTENSION: True}
        if timeout is not None:
            extensions["timeout"] = dict(timeout)
        return httpx.Request(
            "POST",
            self.token_url,
            data=form,
            headers={"Accept": "application/json"},
            extensions=extensions,
        )

    def store(self, request: httpx.Request, response: httpx.Response) -> str | None:
        """Keep the token from a token response; ``None`` means "retry with the primary grant"."""
        is_refresh = b"grant_type=refresh_token" in request.content
        if response.is_success:
            payload = _token_payload(response.content)
            access_token = payload.get("access_token") if payload is not None else None
            if payload is None or not isinstance(access_token, str) or not access_token:
                # Not chained: a decoding error would hold the response text, tokens included.
                raise TokenError(
                    "The token endpoint returned no access_token",
                    status_code=response.status_code,
                    method="POST",
                    url=request.url,
                )
            refresh = payload.get("refresh_token")
            self._token = _Token(
                access_token,
                _expiry(payload, access_token, self.clock()),
                refresh if isinstance(refresh, str) and refresh else None,
            )
            return access_token
        if is_refresh and response.status_code in (400, 401) and not isinstance(self.grant, RefreshTokenGrant):
            self._token = None  # the refresh token is spent or revoked: fall back to the grant
            return None
        raise token_error(request, response)

    def current(self) -> tuple[str, float, str | None] | None:
        """``(access_token, expires_at, refresh_token)`` of the cached token, if any (credentials!)."""
        token = self._token
        if token is None or not token.access_token:
            return None
        return token.access_token, token.expires_at, token.refresh_token


def _token_payload(content: bytes) -> dict[str, Any] | None:
    """The token response's JSON object, or ``None`` when it is not one (not JSON, or nested too deeply)."""
    try:
        payload = json.loads(content.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


# ---------------------------------------------------------------------------------------- auth flow

_ACQUIRE: Final = "acquire"  # wait for the lock
_TRY_ACQUIRE: Final = "try-acquire"  # take the lock only if free; the flow is told whether it got it
_RELEASE: Final = "release"

_Step: TypeAlias = httpx.Request | str
T = TypeVar("T")


class OrderCloudAuth(httpx.Auth):
    """``httpx.Auth`` that adds ``Authorization: Bearer`` from a :class:`TokenCache`."""

    requires_response_body = True

    def __init__(self, cache: TokenCache) -> None:
        self.cache = cache

    def __repr__(self) -> str:
        return f"OrderCloudAuth({self.cache!r})"

    # The shared state machine ------------------------------------------------------------------
    def _flow(self, request: httpx.Request) -> Generator[_Step, Any, None]:
        timeout = request.extensions.get("timeout")
        token = yield from self._obtain(timeout)
        request.headers["Authorization"] = f"Bearer {token}"
        response: httpx.Response = yield request
        if response.status_code == 401 and self.cache.renewable:
            token_rejected()
            self.cache.invalidate(token)
            token = yield from self._obtain(timeout)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def _obtain(self, timeout: Mapping[str, Any] | None = None) -> Generator[_Step, Any, str]:
        cache = self.cache
        token = cache.fresh()
        if token is not None:
            return token
        usable = cache.usable()
        if usable is not None and not cache.renewable:
            return usable
        if usable is not None:
            got = yield _TRY_ACQUIRE
            if not got:  # someone else is refreshing; the current token is still valid
                return usable
        else:
            yield _ACQUIRE
        token = cache.fresh()
        while token is None:
            if not cache.renewable:
                # A client state: nothing was sent, so no HTTP status to claim.
                raise MissingCredentialsError(
                    "The static access token has expired (nothing was sent): pass a new one, "
                    "e.g. with_options(access_token=...)"
                )
            request = cache.build_token_request(timeout)
            token_requested(request.content)
            response: httpx.Response = yield request
            token = cache.store(request, response)
        yield _RELEASE
        return token

    # Drivers: perform the flow's steps (requests through httpx, the token lock) --------------------------
    def _run_sync(self, flow: Generator[_Step, Any, T]) -> Generator[httpx.Request, httpx.Response, T]:
        mutex = self.cache.thread_lock
        with Driven(flow) as run, _Holding(mutex) as lock:
            while (step := run.step) is not None:
                if isinstance(step, httpx.Request):
                    response = yield step
                    response.read()  # overriding sync_auth_flow skips httpx's requires_response_body read
                    run.send(response)
                elif step == _RELEASE:
                    lock.release()
                    run.send(None)
                else:
                    lock.held = mutex.acquire(blocking=step == _ACQUIRE)
                    run.send(lock.held)
        return run.value

    async def _run_async(
        self, flow: Generator[_Step, Any, Any], results: list[Any]
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        mutex = self.cache.async_lock()
        with Driven(flow) as run, _Holding(mutex) as lock:
            while (step := run.step) is not None:
                if isinstance(step, httpx.Request):
                    response = yield step
                    await response.aread()  # overriding async_auth_flow skips httpx's body read
                    run.send(response)
                elif step == _RELEASE:
                    lock.release()
                    run.send(None)
                elif step == _ACQUIRE or not mutex.locked():
                    lock.held = await mutex.acquire()  # after _TRY_ACQUIRE: free, so this does not wait
                    run.send(lock.held)
                else:
                    run.send(False)  # _TRY_ACQUIRE while another task refreshes
        results.append(run.value)

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        return self._run_sync(self._flow(request))

    def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        return self._run_async(self._flow(request), [])

    def sync_token(self, http: httpx.Client, timeout: Mapping[str, Any] | None = None) -> str:
        """A valid access token, fetched through ``http`` if needed (single-flight)."""
        driver = self._run_sync(self._obtain(timeout if timeout is not None else http.timeout.as_dict()))
        with contextlib.closing(driver):  # a failed send releases the lock now, not when the GC gets to it
            try:
                request = next(driver)
                while True:
                    request = driver.send(http.send(request, auth=None))
            except StopIteration as stop:
                token: str = stop.value
                return token

    async def async_token(self, http: httpx.AsyncClient, timeout: Mapping[str, Any] | None = None) -> str:
        """A valid access token, fetched through ``http`` if needed (single-flight)."""
        results: list[str] = []
        driver = self._run_async(self._obtain(timeout if timeout is not None else http.timeout.as_dict()), results)
        async with contextlib.aclosing(driver):
            try:
                request = await driver.__anext__()
                while True:
                    request = await driver.asend(await http.send(request, auth=None))
            except StopAsyncIteration:
                return results[0]


@attrs.define
class _Holding:
    """The token lock as a driver holds it; whatever is still held is released on the way out."""

    lock: threading.Lock | asyncio.Lock
    held: bool = False

    def release(self) -> None:
        self.lock.release()
        self.held = False

    def __enter__(self) -> _Holding:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.held:
            self.release()


class TokenCaches:
    """Token caches by grant, shared by a client and all its ``with_options`` copies."""

    def __init__(self, token_url: str, *, refresh_skew: float, clock: Callable[[], float]) -> None:
        self.token_url = token_url
        self.refresh_skew = refresh_skew
        self.clock = clock
        self._caches: weakref.WeakValueDictionary[Grant, TokenCache] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()

    def get(self, grant: Grant) -> TokenCache:
        with self._lock:
            cache = self._caches.get(grant)
            if cache is None:
                cache = TokenCache(grant, self.token_url, refresh_skew=self.refresh_skew, clock=self.clock)
                self._caches[grant] = cache
            return cache


set_public_home([AnonymousGrant, ClientCredentials, DecodedToken, PasswordGrant, RefreshTokenGrant, StaticToken])
