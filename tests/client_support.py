"""Helpers for the client tests: a scripted OrderCloud behind ``httpx.MockTransport``, a fake clock,
recorded sleeps, and one way to call sync and async clients from the same test.

Nothing here touches the network or waits in real time.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl

import httpx

from ordercloud_tracking import (
    AsyncOrderCloud,
    ClientCredentials,
    OrderCloud,
    RetryPolicy,
)
from ordercloud_tracking._auth import Grant

T = TypeVar("T")

BASE_URL = "https://api.test"
TOKEN_URL = f"{BASE_URL}/oauth/token"
API = f"{BASE_URL}/v1"
T0 = 1_700_000_000.0  # a whole second, so HTTP-dates (second resolution) are exact

Mode = Literal["sync", "async"]
MODES: list[Mode] = ["sync", "async"]
Client = OrderCloud | AsyncOrderCloud

TE_JSON: dict[str, Any] = {
    "ID": "te1",
    "EventType": "OrderSubmitted",
    "ClientID": "client-id",
    "Name": "Orders to Send",
    "ConfigData": {},
    "DeliveryConfigID": "dc1",
}


class FakeClock:
    """A wall clock that only moves when told to (``RetryPolicy(clock=...)``; the token cache uses it too)."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sleeps:
    """Records every wait the client asks for instead of waiting (sync and async flavours)."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.calls.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.calls.append(seconds)


def retry_policy(sleeps: Sleeps, clock: FakeClock | None = None, **kwargs: Any) -> RetryPolicy:
    return RetryPolicy(
        sleep=sleeps.sleep,
        async_sleep=sleeps.async_sleep,
        clock=clock if clock is not None else FakeClock(),
        **kwargs,
    )


Reply = httpx.Response | type[httpx.TransportError] | Callable[[httpx.Request], httpx.Response]


def _answer(reply: Reply, request: httpx.Request) -> httpx.Response:
    if isinstance(reply, httpx.Response):
        return reply
    if isinstance(reply, type):
        raise reply(f"scripted {reply.__name__}", request=request)
    return reply(request)


def token_json(access_token: str, *, expires_in: float = 3600, refresh_token: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"access_token": access_token, "token_type": "bearer", "expires_in": expires_in}
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    return body


class Server:
    """OrderCloud, scripted: ``/oauth/token`` mints ``tok-1``, ``tok-2`` … (or plays ``token_replies``);
    API requests get the queued ``replies`` in order, then ``default``. Every request is recorded.
    """

    def __init__(
        self,
        *,
        expires_in: float = 3600,
        refresh_token: str | None = None,
        token_prefix: str = "tok-",  # noqa: S107 - a fake token
        default: Reply | None = None,
    ) -> None:
        self.expires_in = expires_in
        self.refresh_token = refresh_token
        self.token_prefix = token_prefix
        self.replies: deque[Reply] = deque()
        self.token_replies: deque[Reply] = deque()
        self.default: Reply = default if default is not None else (lambda request: httpx.Response(200, json=TE_JSON))
        self.requests: list[httpx.Request] = []
        self.issued: list[str] = []
        self._lock = threading.Lock()

    def reply(self, *replies: Reply) -> Server:
        self.replies.extend(replies)
        return self

    @property
    def token_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/oauth/token"]

    @property
    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != "/oauth/token"]

    def mint(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            token = f"{self.token_prefix}{len(self.issued) + 1}"
            self.issued.append(token)
        return httpx.Response(200, json=token_json(token, expires_in=self.expires_in, refresh_token=self.refresh_token))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(snapshot(request))
            if request.url.path == "/oauth/token":
                reply: Reply = self.token_replies.popleft() if self.token_replies else self.mint
            else:
                reply = self.replies.popleft() if self.replies else self.default
        return _answer(reply, request)


def snapshot(request: httpx.Request) -> httpx.Request:
    """A copy of a request as it was sent (the SDK re-sends the same object with a new token on a 401)."""
    return httpx.Request(
        request.method,
        request.url,
        headers=request.headers.copy(),
        content=request.content,
        extensions=dict(request.extensions),
    )


def form(request: httpx.Request) -> dict[str, str]:
    """The form fields of a token request (each must appear once)."""
    pairs = parse_qsl(request.content.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    fields = dict(pairs)
    assert len(fields) == len(pairs), f"repeated form field in {sorted(k for k, _ in pairs)}"
    return fields


def bearer(request: httpx.Request) -> str | None:
    value: str | None = request.headers.get("Authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    assert scheme == "Bearer"
    return token


def make_client(
    mode: Mode,
    handler: Callable[[httpx.Request], Any],
    *,
    grant: Grant | None = None,
    sleeps: Sleeps | None = None,
    clock: FakeClock | None = None,
    policy: RetryPolicy | None = None,
    **kwargs: Any,
) -> Client:
    """A client of the given mode on a MockTransport, with recorded sleeps and a fixed clock."""
    if policy is None:
        policy = retry_policy(sleeps if sleeps is not None else Sleeps(), clock)
    if grant is None and "client_secret" not in kwargs and "client_id" not in kwargs:
        grant = ClientCredentials("client-id", "client-secret")
    kwargs.setdefault("base_url", BASE_URL)
    transport = httpx.MockTransport(handler)
    if mode == "sync":
        return OrderCloud(grant=grant, retry_policy=policy, http_client=httpx.Client(transport=transport), **kwargs)
    return AsyncOrderCloud(
        grant=grant, retry_policy=policy, http_client=httpx.AsyncClient(transport=transport), **kwargs
    )


async def resolve(value: T | Awaitable[T]) -> T:
    """The result of a sync call, or of awaiting an async one: lets one test body drive both clients."""
    if inspect.isawaitable(value):
        return await value
    return value


async def collect(items: Iterator[T] | AsyncIterator[T]) -> list[T]:
    """Every item of a sync or async iterator."""
    if isinstance(items, Iterator):
        return list(items)
    return [item async for item in items]


def json_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def sync_client(handler: Callable[[httpx.Request], Any], **kwargs: Any) -> OrderCloud:
    client = make_client("sync", handler, **kwargs)
    assert isinstance(client, OrderCloud)
    return client


def async_client(handler: Callable[[httpx.Request], Any], **kwargs: Any) -> AsyncOrderCloud:
    client = make_client("async", handler, **kwargs)
    assert isinstance(client, AsyncOrderCloud)
    return client
