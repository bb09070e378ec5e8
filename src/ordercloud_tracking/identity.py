"""One shopper's identity, from anonymous visitor to known customer, without losing the cart.

Sitecore can only tell that the anonymous visitor who filled a cart is the customer who ordered when the
storefront (a) requests the anonymous token with the visitor's beacon ID as ``anonuserid`` and (b) calls
``TransferAnonUserOrder`` with that anonymous token right after login. :class:`ShopperSession` (and
:class:`AsyncShopperSession`) does both, keeps the same beacon ID at logout, and serialises to a compact
string for a server-side session store::

    session = ShopperSession.start(client, client_id=STOREFRONT_CLIENT_ID, anon_user_id=beacon_id)
    session.client.cart.add_line_item(LineItem(product_id="SKU-1", quantity=1))
    session.login("jane", "s3cret")          # password grant, then TransferAnonUserOrder
    session.client.cart.submit()
    store["oc"] = session.dumps()            # a credential: keep it server-side

    session = ShopperSession.loads(client, store["oc"])   # next request

Sessions share the base client's connection pool but never its tokens: each session has its own token
caches, so two shoppers (or two tabs of one shopper) never mix carts. The string from :meth:`dumps`
holds access tokens, never passwords; treat it as a credential, and never log it.

Given an identity link store (``links=``, an :class:`~ordercloud_tracking.stores.IdentityLinks`), a session
records *user ID ↔ beacon ID* at :meth:`~ShopperSession.login` and :meth:`~ShopperSession.register`, so
:func:`~ordercloud_tracking.sitecore.to_send_event` / :func:`~ordercloud_tracking.sitecore.to_discover_event`
with the same store send a login that carries no ``AnonymousId`` to the cart's Sitecore contact.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, TypeVar

import attrs
from typing_extensions import Self, TypedDict, Unpack

from ._auth import AnonymousGrant, Grant, PasswordGrant, RefreshTokenGrant, StaticToken, TokenCache, decode_token
from ._client import AsyncOrderCloud, OrderCloud
from ._errors import AnonymousTransferError, AuthenticationError, NotFoundError, OrderCloudError
from ._flow import Flow, call, run_async, run_sync
from ._requests import check_keywords
from .models.commerce import MeUser, Order

if TYPE_CHECKING:
    from .stores import IdentityLinks

__all__ = ["AsyncShopperSession", "SessionOptions", "ShopperSession"]

_VERSION: Final = 1
_PREFIX: Final = "ocs1."

_log = logging.getLogger("ordercloud_tracking.identity")

State = Literal["anonymous", "user"]
C = TypeVar("C", OrderCloud, AsyncOrderCloud)


@attrs.frozen
class _Snapshot:
    """What a session is, as data (pure; shared by the sync and async sessions)."""

    client_id: str
    anon_user_id: str
    state: State
    anon_token: str | None = attrs.field(default=None, repr=False)
    user_token: str | None = attrs.field(default=None, repr=False)
    user_refresh_token: str | None = attrs.field(default=None, repr=False)
    user_expires_at: float | None = None
    transferred_order_id: str | None = None
    pending_transfer: bool = False

    def dumps(self) -> str:
        data = {
            "v": _VERSION,
            "c": self.client_id,
            "a": self.anon_user_id,
            "s": self.state,
            "at": self.anon_token,
            "ut": self.user_token,
            "ur": self.user_refresh_token,
            "ue": self.user_expires_at,
            "o": self.transferred_order_id,
            "p": self.pending_transfer,
        }
        raw = json.dumps({k: v for k, v in data.items() if v not in (None, False)}, separators=(",", ":"))
        return _PREFIX + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def loads(cls, data: str) -> _Snapshot:
        if not isinstance(data, str) or not data.startswith(_PREFIX):
            raise ValueError("Not a ShopperSession string (expected the output of ShopperSession.dumps())")
        body = data[len(_PREFIX) :]
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (binascii.Error, UnicodeError, ValueError, RecursionError) as exc:  # RecursionError: deep nesting
            raise ValueError("Malformed ShopperSession string") from exc
        if not isinstance(payload, dict) or payload.get("v") != _VERSION:
            raise ValueError("Unsupported ShopperSession string version")
        state = payload.get("s")
        client_id, anon_user_id = payload.get("c"), payload.get("a")
        if state not in ("anonymous", "user") or not isinstance(client_id, str) or not isinstance(anon_user_id, str):
            raise ValueError("Malformed ShopperSession string")
        token_key = "at" if state == "anonymous" else "ut"
        if not isinstance(payload.get(token_key), str):
            raise ValueError("Malformed ShopperSession string: no token for its state")
        if any(not isinstance(payload.get(key), (str, type(None))) for key in ("at", "ut", "ur", "o")):
            raise ValueError("Malformed ShopperSession string")
        expires_at = payload.get("ue")
        return cls(
            client_id=client_id,
            anon_user_id=anon_user_id,
            state=state,
            anon_token=payload.get("at"),
            user_token=payload.get("ut"),
            user_refresh_token=payload.get("ur"),
            user_expires_at=expires_at
            if isinstance(expires_at, (int, float)) and not isinstance(expires_at, bool)
            else None,
            transferred_order_id=payload.get("o"),
            pending_transfer=payload.get("p") is True,
        )


def _acting_as(base: C, grant: Grant) -> tuple[C, TokenCache]:
    """A copy of ``base`` that authenticates with ``grant`` through a token cache no other client shares
    (it shares the connection pool, never the tokens), and that cache."""
    cache = base.new_token_cache(grant)
    return base.with_options(token_cache=cache), cache


def _user_grant(client_id: str, access_token: str, refresh_token: str | None, client_secret: str | None) -> Grant:
    """The logged-in user's grant. It never holds a password: it refreshes with the refresh token when
    OrderCloud issued one; otherwise the session ends when the token expires (log in again)."""
    return RefreshTokenGrant(client_id, refresh_token, client_secret) if refresh_token else StaticToken(access_token)


def _new_anon_user_id() -> str:
    return uuid.uuid4().hex


def _order_id_of(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return decode_token(token).orderid
    except ValueError:
        return None


def _needs_transfer(order: Order | None) -> bool:
    return order is not None and bool(order.line_item_count)


def _transfer_error(order_id: str | None, exc: BaseException) -> AnonymousTransferError:
    return AnonymousTransferError(
        f"Logged in, but moving the anonymous order {order_id or '(unknown)'} to the user failed: {exc}. "
        "The session now acts as the user; call transfer_anonymous_order() to retry.",
        logged_in=True,
        order_id=order_id,
        cause=exc,
    )


def _registered_id(user: MeUser | dict[str, Any]) -> str | None:
    """The ID a registration asked for (``None``: OrderCloud chooses one; read it back with ``GET /v1/me``)."""
    user_id = user.id if isinstance(user, MeUser) else user.get("ID")
    return user_id if isinstance(user_id, str) and user_id else None


class SessionOptions(TypedDict, total=False):
    """The keywords of ``ShopperSession.start`` and ``AsyncShopperSession.start``."""

    client_id: str | None
    """The storefront API client's ID (default: the client's own)."""
    anon_user_id: str | None
    """The beacon/visitor ID the anonymous token carries as ``anonuserid`` (default: a new UUID4 hex)."""
    scopes: Sequence[str]
    """The roles the shopper's tokens ask for (default ``("Shopper",)``)."""
    links: IdentityLinks | None
    """Where ``login`` and ``register`` record user ID ↔ ``anon_user_id`` (best effort), if given."""


def _anon_grant(client_id: str, anon_user_id: str, scopes: Sequence[str]) -> AnonymousGrant:
    return AnonymousGrant(client_id, anon_user_id=anon_user_id, scopes=tuple(scopes))


class _Session(Generic[C]):
    """One shopper's state and flows, written once for both clients.

    The flows (``_login``, ``_transfer``, ``_register``) are generators of client calls; the sync and the
    async session run them with :func:`~ordercloud_tracking._flow.run_sync` / ``run_async``.
    """

    client: C
    _anon: C
    _anon_cache: TokenCache

    def __init__(
        self,
        base: C,
        snapshot: _Snapshot,
        *,
        scopes: Sequence[str] = ("Shopper",),
        links: IdentityLinks | None = None,
    ) -> None:
        self._base: C = base
        self._links = links
        self._scopes = tuple(scopes)
        self._snapshot = snapshot
        self._anon, self._anon_cache = _acting_as(base, _anon_grant(snapshot.client_id, snapshot.anon_user_id, scopes))
        if snapshot.anon_token:
            self._anon_cache.set_token(snapshot.anon_token)
        self._user: tuple[C, TokenCache] | None = None
        if snapshot.state == "user" and snapshot.user_token:
            self._user = self._user_client(
                snapshot.user_token, snapshot.user_expires_at, snapshot.user_refresh_token, None
            )
        self.client = self._anon if self._user is None else self._user[0]

    @classmethod
    def _new(cls, client: C, options: SessionOptions) -> Self:
        check_keywords(options, SessionOptions, f"{cls.__name__}.start")
        client_id = options.get("client_id") or client.options.client_id
        if not client_id:
            raise ValueError("client_id is required (the storefront API client's ID)")
        anon_user_id = options.get("anon_user_id") or _new_anon_user_id()
        snapshot = _Snapshot(client_id=client_id, anon_user_id=anon_user_id, state="anonymous")
        return cls(client, snapshot, scopes=options.get("scopes", ("Shopper",)), links=options.get("links"))

    @classmethod
    def loads(
        cls, client: C, data: str, *, scopes: Sequence[str] = ("Shopper",), links: IdentityLinks | None = None
    ) -> Self:
        """Restore a session from :meth:`dumps` (``ValueError`` if ``data`` is not one); pass ``links`` again."""
        return cls(client, _Snapshot.loads(data), scopes=scopes, links=links)

    # ------------------------------------------------------------------------------------- state
    @property
    def client_id(self) -> str:
        """The storefront API client's ID."""
        return self._snapshot.client_id

    @property
    def anon_user_id(self) -> str:
        """The beacon/visitor ID sent as ``anonuserid``; it survives login and logout."""
        return self._snapshot.anon_user_id

    @property
    def is_anonymous(self) -> bool:
        """True until the shopper logs in or registers (and again after :meth:`logout`)."""
        return self._snapshot.state == "anonymous"

    @property
    def order_id(self) -> str | None:
        """The anonymous order (the token's ``orderid``), or after login the order that was transferred."""
        if self.is_anonymous:
            return _order_id_of(self._anon_cache.access_token or self._snapshot.anon_token)
        return self._snapshot.transferred_order_id

    @property
    def links(self) -> IdentityLinks | None:
        """The identity link store this session records its user ID ↔ beacon ID in, if any."""
        return self._links

    @property
    def transfer_pending(self) -> bool:
        """Whether a login succeeded but moving the anonymous order did not (retry it)."""
        return self._snapshot.pending_transfer

    def _current_snapshot(self) -> _Snapshot:
        anon_token = self._anon_cache.access_token
        user = self._user[1].current() if self._user is not None else None
        keep_anon = self.is_anonymous or self._snapshot.pending_transfer
        return attrs.evolve(
            self._snapshot,
            anon_token=anon_token if keep_anon else None,
            user_token=user[0] if user else None,
            user_expires_at=user[1] if user else None,
            user_refresh_token=user[2] if user else None,
        )

    def dumps(self) -> str:
        """A compact string for a server-side session store: a credential (access tokens, never passwords)."""
        return self._current_snapshot().dumps()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(client_id={self.client_id!r}, anon_user_id={self.anon_user_id!r}, "
            f"is_anonymous={self.is_anonymous})"
        )

    # ----------------------------------------------------------------------------- transitions
    def _user_client(
        self, access_token: str, expires_at: float | None, refresh_token: str | None, client_secret: str | None
    ) -> tuple[C, TokenCache]:
        grant = _user_grant(self.client_id, access_token, refresh_token, client_secret)
        user = _acting_as(self._base, grant)
        user[1].set_token(access_token, expires_at=expires_at, refresh_token=refresh_token)
        return user

    def _switch_to_user(self, user: tuple[C, TokenCache], order_id: str | None, *, pending: bool) -> None:
        self._user = user
        self._snapshot = attrs.evolve(
            self._snapshot, state="user", transferred_order_id=order_id, pending_transfer=pending
        )
        self.client = user[0]

    def _reset_anonymous(self) -> None:
        """Back to a new anonymous token cache with the same ``anon_user_id`` (no token yet)."""
        grant = _anon_grant(self.client_id, self.anon_user_id, self._scopes)
        self._anon, self._anon_cache = _acting_as(self._base, grant)
        self._user = None
        self._snapshot = _Snapshot(client_id=self.client_id, anon_user_id=self.anon_user_id, state="anonymous")
        self.client = self._anon

    # ----------------------------------------------------------------------------------- flows
    def _anonymous_order(self) -> Flow[Order | None]:
        order_id = self.order_id
        if not order_id:
            return None
        try:
            return (yield from call(self._anon.orders.get, "Outgoing", order_id))
        except (NotFoundError, AuthenticationError):
            return None  # never created (no line items) or the anonymous token is gone

    def _login(
        self, username: str, password: str, client_secret: str | None, scopes: Sequence[str] | None
    ) -> Flow[str | None]:
        if not self.is_anonymous:
            raise RuntimeError("This session is already logged in; call logout() first")
        grant = PasswordGrant(self.client_id, username, password, client_secret, tuple(scopes or self._scopes))
        login, login_cache = _acting_as(self._base, grant)
        yield from call(login.get_access_token)  # TokenError: nothing changed
        current = login_cache.current()
        assert current is not None, "a login that succeeded has a token"
        user = self._user_client(*current, client_secret)  # the password is dropped with the login cache
        yield from self._link(user[0], None)
        anonymous_order_id = self.order_id
        try:
            order = yield from self._anonymous_order()
        except OrderCloudError as exc:
            self._switch_to_user(user, anonymous_order_id, pending=True)
            raise _transfer_error(anonymous_order_id, exc) from exc
        order_id = order.id if _needs_transfer(order) and order is not None else None
        self._switch_to_user(user, order_id, pending=order_id is not None)
        if order_id is not None:
            yield from self._transfer()
        return order_id

    def _transfer(self) -> Flow[None]:
        if not self._snapshot.pending_transfer:
            return
        anon_token = self._anon_cache.access_token
        if not anon_token:
            raise AnonymousTransferError(
                "The anonymous token has expired; its order can no longer be transferred",
                logged_in=True,
                order_id=self._snapshot.transferred_order_id,
            )
        try:
            yield from call(self.client.me.transfer_anon_user_order, anon_token)
        except OrderCloudError as exc:
            raise _transfer_error(self._snapshot.transferred_order_id, exc) from exc
        self._snapshot = attrs.evolve(self._snapshot, pending_transfer=False)

    def _register(self, user: MeUser | dict[str, Any]) -> Flow[str | None]:
        if not self.is_anonymous:
            raise RuntimeError("Only an anonymous session can register")
        anon_token = yield from call(self.client.get_access_token)
        order_id = self.order_id
        token = yield from call(self.client.me.register, user, anon_user_token=anon_token)
        self._switch_to_user(
            self._user_client(token.access_token.get_secret_value(), None, None, None), order_id, pending=False
        )
        yield from self._link(self.client, _registered_id(user))
        return order_id

    def _link(self, user_client: C, user_id: str | None) -> Flow[None]:
        """Record ``user ID ↔ anon_user_id`` in the link store (a ``GET /v1/me`` when the ID is not known).

        Best effort: the shopper is logged in whatever the store says, so a failure (of the store or of
        ``GET /v1/me``) is logged as a warning, never raised; the cost is that Sitecore may see the
        login as a second contact, which is what happens without a store.
        """
        if self._links is None:
            return
        try:
            if not user_id:
                # Not the token's ``u`` claim: that is OrderCloud's internal user number, not the User.ID
                # the messages carry (UserContext.ID).
                user_id = (yield from call(user_client.me.get)).id
            if user_id:
                self._links.link(user_id, self.anon_user_id)
        except Exception as exc:  # any store, any failure: the login must stand
            _log.warning(
                "Logged in, but recording the identity link (user ID -> anonymous ID) failed: %s. "
                "Sitecore may count this login as a separate contact.",
                type(exc).__name__,
            )


class ShopperSession(_Session[OrderCloud]):
    """One shopper over a synchronous :class:`~ordercloud_tracking.OrderCloud` client.

    Offline, against the fake:

    >>> from ordercloud_tracking.models import LineItem
    >>> from ordercloud_tracking.testing import STOREFRONT_CLIENT_ID, FakeOrderCloud
    >>> fake = FakeOrderCloud()
    >>> session = ShopperSession.start(fake.client(), client_id=STOREFRONT_CLIENT_ID, anon_user_id="7c9e")
    >>> _ = session.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=2))
    >>> session.login("jane", "jane-password")   # password grant, then TransferAnonUserOrder of the cart
    'anon-order-1'
    >>> session.is_anonymous, session.anon_user_id, session.client.cart.get().from_user.id
    (False, '7c9e', 'buyer-jane')
    >>> saved = session.dumps()   # a credential: keep it server-side
    >>> ShopperSession.loads(fake.client(), saved).client.me.get().id   # the next request
    'buyer-jane'
    >>> fake.close()
    """

    client: OrderCloud
    """An :class:`~ordercloud_tracking.OrderCloud` acting as this shopper (the base client's pool, never its tokens)."""

    @classmethod
    def start(cls, client: OrderCloud, **options: Unpack[SessionOptions]) -> ShopperSession:
        """Get an anonymous token carrying ``anon_user_id`` (a new UUID4 hex when not given).

        :meth:`login` and :meth:`register` record user ID ↔ ``anon_user_id`` in ``links``, if given (best effort).
        """
        session = cls._new(client, options)
        session.client.get_access_token()
        return session

    def login(
        self, username: str, password: str, *, client_secret: str | None = None, scopes: Sequence[str] | None = None
    ) -> str | None:
        """Log in with the password grant, move the anonymous order to the user, return its ID (or ``None``).

        Raises ``TokenError`` (nothing changed) or ``AnonymousTransferError`` (logged in; retry the transfer).
        """
        return run_sync(self._login(username, password, client_secret, scopes))

    def transfer_anonymous_order(self) -> None:
        """(Re)try ``TransferAnonUserOrder`` with the stored anonymous token after a login."""
        run_sync(self._transfer())

    def register(self, user: MeUser | dict[str, Any]) -> str | None:
        """Register the anonymous shopper and act as the new user; returns the order OrderCloud moved, or ``None``."""
        return run_sync(self._register(user))

    def logout(self) -> None:
        """Back to a new anonymous token with the **same** ``anon_user_id``."""
        self._reset_anonymous()
        self.client.get_access_token()


class AsyncShopperSession(_Session[AsyncOrderCloud]):
    """One shopper over an :class:`~ordercloud_tracking.AsyncOrderCloud` client (see :class:`ShopperSession`)."""

    client: AsyncOrderCloud
    """An :class:`~ordercloud_tracking.AsyncOrderCloud` acting as this shopper (anonymous or logged in)."""

    @classmethod
    async def start(cls, client: AsyncOrderCloud, **options: Unpack[SessionOptions]) -> AsyncShopperSession:
        """Get an anonymous token carrying ``anon_user_id`` (see :meth:`ShopperSession.start`)."""
        session = cls._new(client, options)
        await session.client.get_access_token()
        return session

    async def login(
        self, username: str, password: str, *, client_secret: str | None = None, scopes: Sequence[str] | None = None
    ) -> str | None:
        """Log in, then move the anonymous order to the user (see :meth:`ShopperSession.login`)."""
        return await run_async(self._login(username, password, client_secret, scopes))

    async def transfer_anonymous_order(self) -> None:
        """(Re)try ``TransferAnonUserOrder`` with the stored anonymous token after a login."""
        await run_async(self._transfer())

    async def register(self, user: MeUser | dict[str, Any]) -> str | None:
        """Register the anonymous shopper (see :meth:`ShopperSession.register`)."""
        return await run_async(self._register(user))

    async def logout(self) -> None:
        """Back to a new anonymous token with the **same** ``anon_user_id``."""
        self._reset_anonymous()
        await self.client.get_access_token()
