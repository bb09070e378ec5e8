"""The fake's state: stored objects, tokens, IDs, the clock, the signer and the outbox of emissions.

Route handlers read and change a :class:`State` under its lock and append the tracking events their request
causes to :attr:`State.outbox`; the front door hands them to the delivery pipeline once the request is done.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs

from ._seed import Seed, SeedApiClient, SeedProduct, SeedUser
from ._wire import JSON, FakeRequest, fail

__all__ = ["Emission", "FakeClock", "Ids", "Signer", "State", "TokenInfo"]


class FakeClock:
    """The fake's time: real time plus an offset you control (``advance``), so tokens can be expired."""

    def __init__(self, *, offset: float = 0.0, source: Callable[[], float] = time.time) -> None:
        self._offset = offset
        self._source = source
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the epoch, as the fake sees them."""
        return self._source() + self._offset

    def __call__(self) -> float:
        return self.now()

    def advance(self, seconds: float) -> None:
        """Move the fake's time forward (tokens expire, dates move)."""
        with self._lock:
            self._offset += seconds

    def datetime(self) -> datetime:
        """:meth:`now` as an aware UTC ``datetime``."""
        return datetime.fromtimestamp(self.now(), tz=timezone.utc)

    def iso(self) -> str:
        """:meth:`now` as OrderCloud writes dates: ISO 8601 in UTC, with milliseconds and ``Z``."""
        return self.datetime().isoformat(timespec="milliseconds").replace("+00:00", "Z")


@attrs.define
class TokenInfo:
    """What the fake knows about an access token it issued."""

    client_id: str
    user_id: str
    username: str
    user_type: str
    roles: tuple[str, ...]
    expires_at: float
    anonymous: bool = False
    order_id: str | None = None
    anon_user_id: str | None = None
    revoked: bool = False


class Ids:
    """Readable sequential IDs (``order-1``, ``li-1`` …), per kind."""

    def __init__(self) -> None:
        self._counters: dict[str, itertools.count[int]] = {}
        self._lock = threading.Lock()

    def next(self, kind: str) -> str:
        with self._lock:
            counter = self._counters.setdefault(kind, itertools.count(1))
            return f"{kind}-{next(counter)}"


class Signer:
    """Issues HS256 JWTs with OrderCloud's claims (the key is per fake; nothing verifies them but the fake)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @staticmethod
    def _b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    def sign(self, claims: Mapping[str, Any]) -> str:
        header = self._b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "fake"}, separators=(",", ":")).encode())
        payload = self._b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{self._b64(signature)}"


@attrs.frozen
class Emission:
    """An event to deliver once the request is done: snapshots of what the message is built from."""

    event_type: str
    client_id: str
    user: JSON | None = None  # the authenticated user (None for an anonymous shopper)
    anon_user_id: str | None = None  # the anonuserid of the shopper, if any
    order: JSON | None = None
    line: JSON | None = None
    lines: tuple[JSON, ...] = ()
    previous_quantity: int | None = None


ORDER_USER_FIELDS = ("ID", "CompanyID", "Username", "FirstName", "LastName", "Email", "Phone", "Active", "xp", "Locale")


class State:
    """Everything the fake knows, seeded from a :class:`Seed`. Handlers hold :attr:`lock` while they run."""

    def __init__(self, seed: Seed, clock: FakeClock, *, base_url: str) -> None:
        self.clock = clock
        self.base_url = base_url
        self.lock = threading.RLock()
        self.signer = Signer(secrets.token_bytes(32))
        self.ids = Ids()
        self.seed = seed
        self.api_clients: dict[str, JSON] = {}
        self.client_secrets: dict[str, str] = {}
        self.users: dict[str, JSON] = {}  # by user ID
        self.passwords: dict[str, str] = {}  # by user ID
        self.roles: dict[str, tuple[str, ...]] = {}  # by user ID
        self.user_types: dict[str, str] = {}  # by user ID
        self.products: dict[str, SeedProduct] = {}
        self.orders: dict[str, JSON] = {}
        self.order_meta: dict[str, JSON] = {}  # owner, client, anon id
        self.line_items: dict[str, dict[str, JSON]] = {}
        self.tracking_events: dict[str, JSON] = {}
        self.delivery_configs: dict[str, JSON] = {}
        self.tokens: dict[str, TokenInfo] = {}
        self.refresh_tokens: dict[str, TokenInfo] = {}
        self.anonymous_tokens_issued: list[TokenInfo] = []
        self.outbox: list[Emission] = []  # the events of the request being handled
        for user in seed.users:
            self.add_user(user)
        for client in seed.api_clients:
            self.add_api_client(client)
        for product in seed.products:
            self.products[product.id] = product

    # ------------------------------------------------------------------------------------- seeding
    def add_user(self, user: SeedUser) -> str:
        user_id = user.id or self.ids.next("user")
        self.users[user_id] = {
            "ID": user_id,
            "CompanyID": "fake-marketplace" if user.user_type == "admin" else "fake-buyer",
            "Username": user.username,
            "FirstName": user.first_name,
            "LastName": user.last_name,
            "Email": user.email,
            "Phone": None,
            "TermsAccepted": None,
            "Active": user.active,
            "xp": dict(user.xp),
            "AvailableRoles": list(user.available_roles),
            "Locale": {
                "ID": f"locale-{user.language}",
                "OwnerID": None,
                "Currency": user.currency,
                "Language": user.language,
            },
            "DateCreated": self.clock.iso(),
            "LastActive": None,
            "PasswordLastSetDate": self.clock.iso(),
        }
        self.passwords[user_id] = user.password
        self.roles[user_id] = user.available_roles
        self.user_types[user_id] = user.user_type
        return user_id

    def add_api_client(self, client: SeedApiClient) -> None:
        self.api_clients[client.id] = {
            "ID": client.id,
            "AppName": client.app_name,
            "Active": client.active,
            "AccessTokenDuration": client.access_token_duration,
            "RefreshTokenDuration": client.refresh_token_duration,
            "AnonymousTokenDuration": client.anonymous_token_duration,
            "DefaultContextUserName": client.default_context_username,
            "IsAnonBuyer": client.is_anon_buyer,
            "AllowAnyBuyer": client.allow_any_buyer,
            "AllowAnySupplier": False,
            "AllowSeller": client.allow_seller,
            "xp": {},
        }
        if client.client_secret:
            self.client_secrets[client.id] = client.client_secret

    def user_by_name(self, username: str) -> JSON | None:
        return next((u for u in self.users.values() if u["Username"] == username), None)

    def order_user(self, user_id: str) -> JSON:
        """The ``FromUser`` of an order: the user's public fields."""
        user = self.users.get(user_id, {})
        return {k: user.get(k) for k in ORDER_USER_FIELDS}

    def user_snapshot(self, user_id: str) -> JSON | None:
        user = self.users.get(user_id)
        return copy.deepcopy(user) if user is not None else None

    # --------------------------------------------------------------------------------------- tokens
    def authorize(self, request: FakeRequest, roles: Sequence[str]) -> TokenInfo:
        """The token of ``request`` after checking it is valid and has one of ``roles`` (else 401/403)."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            fail(401, "InvalidToken", "Access token is missing. Send 'Authorization: Bearer {token}'.")
        info = self.tokens.get(token.strip())
        if info is None:
            fail(401, "InvalidToken", "Access token is invalid.")
        if info.revoked:
            fail(401, "Auth.TokenRevoked", "Access token has been revoked.")
        if info.expires_at <= self.clock.now():
            fail(401, "InvalidToken", "Access token has expired.")
        if not any(role in info.roles for role in roles):
            fail(
                403,
                "Auth.InsufficientRoles",
                "User does not have role(s) required to perform this action.",
                {"SufficientRoles": list(roles), "AssignedRoles": list(info.roles)},
            )
        return info

    def revoke(self, token: str | None = None, *, user_id: str | None = None) -> int:
        """Revoke one token, or every token of a user; returns how many."""
        count = 0
        for store in (self.tokens, self.refresh_tokens):  # a user's refresh tokens go with their access tokens
            for value, info in store.items():
                if (token is not None and value == token) or (user_id is not None and info.user_id == user_id):
                    info.revoked = True
                    count += 1
        return count
