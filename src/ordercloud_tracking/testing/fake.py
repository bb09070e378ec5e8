"""``FakeOrderCloud``: a stateful, faithful OrderCloud that really emits tracking events.

Use it three ways:

* **in-process** — ``OrderCloud(..., http_client=httpx.Client(transport=fake.transport()))``, or simply
  ``fake.client()`` / ``fake.async_client()`` which also wire the fake's clock into the SDK;
* **as a server** — ``with fake.serve(port=0) as server: ...`` (or ``ordercloud-tracking serve``) for
  tools in any language;
* **as a pytest plugin** — fixtures ``oc_fake``, ``oc_client``, ``oc_async_client``, ``oc_shopper``.

What emits what (the fake's documented choice where OrderCloud's is unconfirmed):

===========================================================  ===================  ==================================
Call (in the context of API client ``cid``)                  TrackingEventType    Message
===========================================================  ===================  ==================================
``POST /oauth/token`` with ``grant_type=password``           ``UserLoggedIn``     ``SessionIdentified`` (no AnonymousId)
``PUT /v1/me/register?anonUserToken=…``                      ``UserLoggedIn``     ``SessionIdentified`` with AnonymousId
``POST …/lineitems`` (cart or ``orders/{direction}/{id}``)   ``LineItemAdded``    ``OrderLineAdded``
``PUT`` / ``PATCH …/lineitems/{id}`` of an existing line     ``LineItemUpdated``  ``OrderLineUpdated``
``PUT …/lineitems/{id}`` of a new line                       ``LineItemAdded``    ``OrderLineAdded``
``POST /v1/cart/submit``, ``POST …/{id}/submit``             ``OrderSubmitted``   ``OrderSubmitted``
``DELETE …/lineitems/{id}``, refresh-token and client-       nothing              —
credentials grants, ``TransferAnonUserOrder``
===========================================================  ===================  ==================================

An event is delivered only when the API client of the caller's token has a tracking event of that type,
to the targets of its delivery config, unless the config is ``Enabled: false``. ``Http`` targets get a
real POST of the bare message JSON with ``x-oc-hash`` (and the custom auth header); ``SendEvent`` and
``DiscoverEvent`` targets record the payloads :func:`~ordercloud_tracking.sitecore.to_send_event` and
:func:`~ordercloud_tracking.sitecore.to_discover_event` produce. Everything lands in
:attr:`FakeOrderCloud.deliveries`; a failing HTTP delivery is retried and recorded, never raised into
the request that caused it.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal

import attrs
import httpx

from .._auth import ClientCredentials, Grant
from .._errors import OrderCloudError, redact_text
from .._options import RetryPolicy
from ._api import Emission, FakeApi, FakeRequest, FakeResponse, dumps
from ._state import DEFAULT_SEED, FakeClock, Seed, SeedApiClient, SeedProduct, SeedUser

if TYPE_CHECKING:
    from .._client import AsyncOrderCloud, OrderCloud
    from ..identity import AsyncShopperSession, ShopperSession
    from .server import FakeServer

__all__ = [
    "ADMIN_CLIENT_ID",
    "ADMIN_CLIENT_SECRET",
    "STOREFRONT_CLIENT_ID",
    "Delivery",
    "Fault",
    "Faults",
    "FakeOrderCloud",
    "JournalEntry",
]

ADMIN_CLIENT_ID = "admin-client"
ADMIN_CLIENT_SECRET = "admin-client-secret"  # noqa: S105 - the default seed's public test credential
STOREFRONT_CLIENT_ID = "storefront"
DEFAULT_BASE_URL = "https://fake.ordercloud.test"

HttpDelivery = httpx.BaseTransport | httpx.AsyncBaseTransport | Callable[[httpx.Request], httpx.Response]


# ------------------------------------------------------------------------------------------------ faults


@attrs.define
class Fault:
    """A scripted failure for requests matching ``method`` and ``path_glob`` (``fnmatch`` syntax).

    Made by :meth:`Faults.add`, which documents the options; ``hits`` counts the requests it failed so
    far, and it is dropped once ``hits`` reaches ``times``.

    >>> from ordercloud_tracking import InternalServerError
    >>> fake = FakeOrderCloud()
    >>> fault = fake.faults.add("*", "/v1/integrations/*", status=503, times=2)
    >>> with fake.client(max_retries=0) as admin:
    ...     try:
    ...         admin.tracking_events.list()
    ...     except InternalServerError as exc:
    ...         print(exc.error_code)
    FakeFault
    >>> fault.hits, fake.faults.pending == [fault]
    (1, True)
    """

    method: str
    path_glob: str
    status: int | None = None
    times: int = 1
    delay: float = 0.0
    error: Literal["connect", "read_timeout"] | None = None
    body: Any = None
    headers: dict[str, str] = attrs.field(factory=dict)
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Whether a request (upper-case ``method``, URL ``path``) is one this fault is for.

        ``method`` ``"*"`` matches any method; ``path_glob`` is matched case-sensitively.

        >>> fault = Fault("GET", "/v1/orders/*")
        >>> fault.matches("GET", "/v1/orders/Outgoing/o-1"), fault.matches("POST", "/v1/orders/Outgoing")
        (True, False)
        """
        return (self.method == "*" or self.method.upper() == method) and fnmatch.fnmatchcase(path, self.path_glob)


class Faults:
    """Scripted failures: ``fake.faults.add("POST", "/v1/cart/submit", error="read_timeout")``.

    Each request the fake receives uses up the first pending fault that matches it (see :meth:`add`).

    >>> fake = FakeOrderCloud()
    >>> _ = fake.faults.add("POST", "/v1/cart/submit", error="read_timeout")
    >>> _ = fake.faults.add("GET", "/v1/me", status=429, headers={"Retry-After": "1"})
    >>> [(fault.method, fault.path_glob) for fault in fake.faults.pending]
    [('POST', '/v1/cart/submit'), ('GET', '/v1/me')]
    >>> fake.faults.clear()
    >>> fake.faults.pending
    []
    """

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self,
        method: str,
        path_glob: str,
        *,
        status: int | None = None,
        times: int = 1,
        delay: float = 0.0,
        error: Literal["connect", "read_timeout"] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Fault:
        """Fail the next ``times`` matching requests.

        ``status``: answer with that status (and ``body``/``headers``, e.g. ``Retry-After``) without
        processing. ``error="connect"``: fail before anything reaches the fake. ``error="read_timeout"``:
        process the request (state changes, events fire), then lose the answer. ``delay``: wait first.
        """
        if status is None and error is None and not delay:
            raise ValueError("A fault needs a status, an error or a delay")
        if error not in (None, "connect", "read_timeout"):
            raise ValueError("error must be 'connect' or 'read_timeout'")
        if times < 1:
            raise ValueError("times must be at least 1")
        fault = Fault(method, path_glob, status, times, delay, error, body, dict(headers or {}))
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Use up the first pending fault matching the request: count a hit and drop it after ``times``.

        Returns ``None`` when no fault matches. The fake's transports and server call it for every
        request; call it yourself only in a custom transport.

        >>> faults = Faults()
        >>> _ = faults.add("GET", "/v1/me", status=500)
        >>> faults.take("GET", "/v1/me").status, faults.take("GET", "/v1/me")
        (500, None)
        """
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    if fault.hits >= fault.times:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        """Drop every pending fault (``fake.reset()`` does this too).

        >>> faults = Faults()
        >>> _ = faults.add("*", "*", status=503, times=10)
        >>> faults.clear()
        >>> faults.take("GET", "/v1/me") is None
        True
        """
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> list[Fault]:
        """The faults not used up yet, in the order they were added (a copy).

        >>> faults = Faults()
        >>> _ = faults.add("GET", "/v1/cart", delay=0.2, times=2)
        >>> [(fault.path_glob, fault.times, fault.hits) for fault in faults.pending]
        [('/v1/cart', 2, 0)]
        """
        with self._lock:
            return list(self._faults)


# ----------------------------------------------------------------------------------------------- journals


@attrs.frozen
class JournalEntry:
    """One request the fake received, in ``fake.requests`` (and :meth:`FakeOrderCloud.requests_to`).

    ``status`` is ``None`` when no answer was sent (an injected connect error); ``fault`` names the
    injected fault, if any; ``at`` is the fake clock's time. The ``repr`` redacts credentials in ``query``
    and leaves out ``body``.

    >>> from ordercloud_tracking import AnonymousGrant
    >>> from ordercloud_tracking.models.commerce import LineItem
    >>> fake = FakeOrderCloud()
    >>> with fake.client(AnonymousGrant("storefront")) as shopper:
    ...     _ = shopper.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=2))
    >>> entry = fake.requests_to("POST", "/v1/cart/lineitems")[0]
    >>> entry.method, entry.path, entry.status, entry.fault
    ('POST', '/v1/cart/lineitems', 201, None)
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = attrs.field(
        repr=lambda q: redact_text("?" + "&".join(f"{k}={v}" for k, v in q))
    )
    status: int | None
    body: bytes = attrs.field(repr=False)
    fault: str | None = None
    at: float = 0.0

    def json(self) -> Any:
        """The request body parsed as JSON (``None`` for an empty body).

        A form-encoded body (a token request) is not JSON: it raises ``ValueError``.

        >>> JournalEntry("POST", "/v1/cart/lineitems", (), 201, b'{"ProductID": "SKU-MUG", "Quantity": 2}').json()
        {'ProductID': 'SKU-MUG', 'Quantity': 2}
        >>> JournalEntry("GET", "/v1/me", (), 200, b"").json() is None
        True
        """
        import json

        return json.loads(self.body) if self.body else None


@attrs.frozen
class Delivery:
    """One delivery of a tracking message to one target, in ``fake.deliveries``.

    ``target`` is ``"Http"``, ``"SendEvent"`` or ``"DiscoverEvent"``; ``body`` is the JSON the target
    receives (the message, the Send payload or the Discover event) and ``raw`` its exact bytes. For
    ``Http``, ``status`` and ``attempts`` tell how the endpoint answered; ``error`` says why a delivery
    failed or was skipped (``"skipped: …"``), and :attr:`ok` sums it up.

    >>> from ordercloud_tracking.models.commerce import LineItem
    >>> from ordercloud_tracking.provisioning import ensure_tracking
    >>> send = {"SiteID": "0f8fad5b-d9cb-469f-a165-70867728950e", "ServiceEndpoint": "https://t.stat-track.com"}
    >>> config = {"Name": "Sitecore Send", "DeliveryTargets": {"SendEvent": send}}
    >>> fake = FakeOrderCloud()
    >>> with fake.client() as admin:
    ...     _ = ensure_tracking(admin, client_id="storefront", delivery_config=config)
    >>> shopper = fake.shopper(anon_user_id="beacon-42")
    >>> _ = shopper.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=2))
    >>> delivery = fake.deliveries_for("LineItemAdded", target="SendEvent")[0]
    >>> delivery.ok, delivery.tracking_event_id, delivery.body["actionType"], delivery.body["ContactId"]
    (True, 'te-storefront-LineItemAdded', 'ADDED_TO_ORDER', 'beacon-42')
    """

    target: str  # "Http", "SendEvent", "DiscoverEvent"
    event_type: str
    tracking_event_id: str
    delivery_config_id: str
    url: str | None
    body: Any  # the JSON the target receives (the message, the Send payload or the Discover event)
    raw: bytes = attrs.field(repr=False)  # the exact bytes (HTTP body)
    headers: dict[str, str] = attrs.field(repr=False, factory=dict)  # may hold the custom auth header
    status: int | None = None
    attempts: int = 1
    error: str | None = None
    at: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the target accepted it (Send/Discover payloads count as accepted once built)."""
        return self.error is None and (self.status is None or 200 <= self.status < 300)


# ------------------------------------------------------------------------------------------------- fake


class FakeOrderCloud:
    """A stateful, in-memory OrderCloud that emits signed tracking events.

    >>> fake = FakeOrderCloud()
    >>> with fake.client() as admin:
    ...     admin.tracking_events.list().meta.total_count
    0
    """

    def __init__(
        self,
        seed: Seed = DEFAULT_SEED,
        *,
        clock: FakeClock | None = None,
        base_url: str = DEFAULT_BASE_URL,
        http_delivery: HttpDelivery | None = None,
        delivery_attempts: int = 3,
        discover_line_update: Literal["cart", "delta"] = "cart",
    ) -> None:
        self.seed = seed
        self.clock = clock or FakeClock()
        self.base_url = base_url.rstrip("/")
        self.http_delivery = http_delivery
        self.delivery_attempts = max(1, delivery_attempts)
        self.discover_line_update = discover_line_update
        self.faults = Faults()
        self.requests: list[JournalEntry] = []
        self.deliveries: list[Delivery] = []
        self._journal_lock = threading.Lock()
        self._delivery_client: httpx.Client | None = None
        self.api = FakeApi(seed, self.clock, base_url=self.base_url)

    def __repr__(self) -> str:
        return f"FakeOrderCloud(base_url={self.base_url!r}, requests={len(self.requests)}, deliveries={len(self.deliveries)})"

    # --------------------------------------------------------------------------------------- state
    def reset(self) -> None:
        """Back to the seed: state, journals, faults and tokens (the clock keeps its time)."""
        self.api = FakeApi(self.seed, self.clock, base_url=self.base_url)
        self.faults.clear()
        with self._journal_lock:
            self.requests.clear()
            self.deliveries.clear()

    def add_user(self, user: SeedUser) -> str:
        """Add a user (returns its ID)."""
        with self.api.lock:
            return self.api.add_user(user)

    def add_api_client(self, client: SeedApiClient) -> None:
        """Add an API client."""
        with self.api.lock:
            self.api.add_api_client(client)

    def add_product(self, product: SeedProduct) -> None:
        """Add a product with its price schedule."""
        with self.api.lock:
            self.api.products[product.id] = product

    def revoke(self, token: str | None = None, *, username: str | None = None) -> int:
        """Revoke a token (access or refresh), or every token of a user. Returns how many were revoked."""
        with self.api.lock:
            user = self.api.user_by_name(username) if username else None
            return self.api.revoke(token, user_id=user["ID"] if user else None)

    @property
    def anonymous_users(self) -> list[str | None]:
        """The ``anonuserid`` of every anonymous token issued, in order."""
        return [info.anon_user_id for info in self.api.anonymous_tokens_issued]

    # ------------------------------------------------------------------------------------ handling
    def _journal(self, request: FakeRequest, status: int | None, fault: str | None) -> None:
        entry = JournalEntry(request.method, request.path, request.query, status, request.body, fault, self.clock.now())
        with self._journal_lock:
            self.requests.append(entry)

    def process(self, request: FakeRequest) -> tuple[FakeResponse, list[Emission]]:
        """Answer a request (no faults, no deliveries): the pure core, for custom transports."""
        return self.api.handle(request)

    @staticmethod
    def _fault_response(fault: Fault) -> FakeResponse:
        assert fault.status is not None
        body = fault.body
        if body is None:
            body = {"Errors": [{"ErrorCode": "FakeFault", "Message": f"Injected HTTP {fault.status}", "Data": None}]}
        return FakeResponse(fault.status, body, fault.headers)

    @staticmethod
    def _to_fake(request: httpx.Request, body: bytes) -> FakeRequest:
        return FakeRequest(
            method=request.method,
            path=request.url.path,
            query=tuple(request.url.params.multi_items()),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )

    @staticmethod
    def _to_httpx(response: FakeResponse, request: httpx.Request) -> httpx.Response:
        headers = {"Content-Type": "application/json; charset=utf-8", **response.headers}
        return httpx.Response(response.status, headers=headers, content=response.content(), request=request)

    def _handle_sync(self, request: httpx.Request) -> httpx.Response:
        fake_request = self._to_fake(request, request.read())
        fault = self.faults.take(fake_request.method, fake_request.path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.error == "connect":
            self._journal(fake_request, None, "connect")
            raise httpx.ConnectError("Injected connect error", request=request)
        if fault is not None and fault.status is not None:
            response = self._fault_response(fault)
            self._journal(fake_request, response.status, f"status {fault.status}")
            return self._to_httpx(response, request)
        response, emissions = self.process(fake_request)
        self._journal(fake_request, response.status, fault.error if fault else None)
        for emission in emissions:
            self._emit_sync(emission)
        if fault is not None and fault.error == "read_timeout":
            raise httpx.ReadTimeout("Injected read timeout (the request was processed)", request=request)
        return self._to_httpx(response, request)

    async def _handle_async(self, request: httpx.Request) -> httpx.Response:
        fake_request = self._to_fake(request, await request.aread())
        fault = self.faults.take(fake_request.method, fake_request.path)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.error == "connect":
            self._journal(fake_request, None, "connect")
            raise httpx.ConnectError("Injected connect error", request=request)
        if fault is not None and fault.status is not None:
            response = self._fault_response(fault)
            self._journal(fake_request, response.status, f"status {fault.status}")
            return self._to_httpx(response, request)
        response, emissions = self.process(fake_request)
        self._journal(fake_request, response.status, fault.error if fault else None)
        for emission in emissions:
            await self._emit_async(emission)
        if fault is not None and fault.error == "read_timeout":
            raise httpx.ReadTimeout("Injected read timeout (the request was processed)", request=request)
        return self._to_httpx(response, request)

    def transport(self) -> httpx.BaseTransport:
        """An ``httpx`` transport for ``httpx.Client(transport=...)``."""
        return httpx.MockTransport(self._handle_sync)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """An ``httpx`` transport for ``httpx.AsyncClient(transport=...)``."""
        return httpx.MockTransport(self._handle_async)

    # ---------------------------------------------------------------------------- client helpers
    def retry_policy(self) -> RetryPolicy:
        """A retry policy that never sleeps and reads the fake's clock (token expiry follows the fake)."""

        async def no_async_sleep(_: float) -> None:
            return None

        return RetryPolicy(sleep=lambda _: None, async_sleep=no_async_sleep, clock=self.clock.now)

    def client(self, grant: Grant | None = None, **options: Any) -> OrderCloud:
        """An :class:`~ordercloud_tracking.OrderCloud` wired to this fake (admin credentials by default)."""
        from .._client import OrderCloud

        options.setdefault("retry_policy", self.retry_policy())
        client = OrderCloud(
            grant=grant or ClientCredentials(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET),
            base_url=self.base_url,
            http_client=httpx.Client(transport=self.transport()),
            **options,
        )
        client._owns_http = True  # the pool was made here for this client: closing the client closes it
        return client

    def async_client(self, grant: Grant | None = None, **options: Any) -> AsyncOrderCloud:
        """An :class:`~ordercloud_tracking.AsyncOrderCloud` wired to this fake (admin credentials by default)."""
        from .._client import AsyncOrderCloud

        options.setdefault("retry_policy", self.retry_policy())
        client = AsyncOrderCloud(
            grant=grant or ClientCredentials(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET),
            base_url=self.base_url,
            http_client=httpx.AsyncClient(transport=self.async_transport()),
            **options,
        )
        client._owns_http = True  # the pool was made here for this client: closing the client closes it
        return client

    def shopper(self, *, client_id: str = STOREFRONT_CLIENT_ID, anon_user_id: str | None = None) -> ShopperSession:
        """A started anonymous :class:`~ordercloud_tracking.identity.ShopperSession` on the storefront client."""
        from ..identity import ShopperSession

        return ShopperSession.start(self.client(), client_id=client_id, anon_user_id=anon_user_id)

    async def async_shopper(
        self, *, client_id: str = STOREFRONT_CLIENT_ID, anon_user_id: str | None = None
    ) -> AsyncShopperSession:
        """A started anonymous :class:`~ordercloud_tracking.identity.AsyncShopperSession`."""
        from ..identity import AsyncShopperSession

        return await AsyncShopperSession.start(self.async_client(), client_id=client_id, anon_user_id=anon_user_id)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> FakeServer:
        """Run the fake as a real HTTP server on loopback (standard library only); use as a context manager."""
        from .server import FakeServer

        return FakeServer(self, host=host, port=port).start()

    # ---------------------------------------------------------------------------------- emission
    def _planned(self, emission: Emission) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(tracking event, delivery config incl. secrets) pairs that must receive ``emission``."""
        with self.api.lock:
            plans = []
            for event in self.api.tracking_events.values():
                if event["ClientID"] != emission.client_id or event["EventType"] != emission.event_type:
                    continue
                config = self.api.delivery_configs.get(event["DeliveryConfigID"])
                if config is None or config.get("Enabled") is False:
                    continue
                plans.append((dict(event), dict(config)))
            return plans

    def _message(self, emission: Emission) -> Any:
        from ..messages import order_line, order_submitted, session_identified
        from ..models.commerce import LineItem, MeUser, Order

        # MeUser, not User: every field optional, so a user without an Email (the seed's admin, a SeedUser
        # without one) still yields a message instead of a ValidationError raised into the caller's request.
        user = MeUser.from_api(emission.user) if emission.user is not None else None
        if emission.event_type == "UserLoggedIn":
            assert user is not None
            return session_identified(user, anon_user_id=emission.anon_user_id)
        assert emission.order is not None
        order = Order.from_api(emission.order)
        if emission.event_type == "OrderSubmitted":
            lines = [LineItem.from_api(line) for line in emission.lines]
            return order_submitted(order, lines, user=user, anon_user_id=emission.anon_user_id)
        assert emission.line is not None
        return order_line(
            order,
            LineItem.from_api(emission.line),
            event_type=emission.event_type,
            user=user,
            anon_user_id=emission.anon_user_id,
        )

    def _records(self, emission: Emission) -> Iterator[tuple[Delivery, httpx.Request | None]]:
        """Each delivery to make: Send/Discover ones complete, Http ones with the request to send."""
        plans = self._planned(emission)
        if not plans:
            return
        try:
            message = self._message(emission)
            body = dumps(message.to_request())
        except Exception as exc:
            for event, config in plans:
                failed = Delivery(
                    "*",
                    emission.event_type,
                    event["ID"],
                    config["ID"],
                    url=None,
                    body=None,
                    raw=b"",
                    error=f"building the message failed: {type(exc).__name__}: {exc}",
                    at=self.clock.now(),
                )
                yield failed, None
            return
        for event, config in plans:
            targets = config.get("DeliveryTargets") or {}
            common = {
                "event_type": emission.event_type,
                "tracking_event_id": event["ID"],
                "delivery_config_id": config["ID"],
                "at": self.clock.now(),
            }
            for name, target in targets.items():
                if not isinstance(target, dict):
                    continue
                if name == "Http":
                    yield self._http_request(target, body, common)
                elif name == "SendEvent":
                    yield self._send_record(target, message, emission, common), None
                elif name == "DiscoverEvent":
                    yield self._discover_record(target, message, emission, common), None

    def _http_request(
        self, target: dict[str, Any], body: bytes, common: dict[str, Any]
    ) -> tuple[Delivery, httpx.Request]:
        from ..receiver import sign_payload

        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "FakeOrderCloud"}
        if target.get("Secret"):
            headers["x-oc-hash"] = sign_payload(body, str(target["Secret"]))
        if target.get("CustomAuthHeaderName") and target.get("CustomAuthHeaderValue"):
            headers[str(target["CustomAuthHeaderName"])] = str(target["CustomAuthHeaderValue"])
        url = str(target.get("Endpoint"))
        record = Delivery("Http", url=url, body=None, raw=body, headers=headers, **common)
        return record, httpx.Request("POST", url, content=body, headers=headers)

    @staticmethod
    def _visitor(emission: Emission, message: Any) -> tuple[str | None, str | None]:
        anon = emission.anon_user_id
        user_id = getattr(getattr(message, "user_context", None), "id", None)
        return anon, user_id

    def _send_record(
        self, target: dict[str, Any], message: Any, emission: Emission, common: dict[str, Any]
    ) -> Delivery:
        from ..sitecore import send_url, to_send_event

        anon, user_id = self._visitor(emission, message)
        contact = anon or user_id
        session = hashlib.sha256((contact or "").encode()).hexdigest()[:32] if contact else None
        try:
            payload = to_send_event(
                message,
                site_id=str(target.get("SiteID")),
                contact_id=contact,
                session_id=session,
                previous_quantity=emission.previous_quantity if emission.event_type == "LineItemUpdated" else None,
            )
        except (OrderCloudError, ValueError) as exc:
            return Delivery(
                "SendEvent", url=target.get("ServiceEndpoint"), body=None, raw=b"", error=str(exc), **common
            )
        if payload is None:
            return Delivery(
                "SendEvent",
                url=target.get("ServiceEndpoint"),
                body=None,
                raw=b"",
                error="skipped: no positive quantity change to send",
                **common,
            )
        url = target.get("ServiceEndpoint") or send_url(payload)
        return Delivery("SendEvent", url=url, body=payload, raw=dumps(payload), **common)

    def _discover_record(
        self, target: dict[str, Any], message: Any, emission: Emission, common: dict[str, Any]
    ) -> Delivery:
        from ..models.commerce import LineItem
        from ..sitecore import discover_request_body, to_discover_event

        anon, user_id = self._visitor(emission, message)
        cart = [LineItem.from_api(line) for line in emission.lines] if emission.line is not None else None
        try:
            event = to_discover_event(
                message,
                uuid=anon,
                user_id=None if anon else user_id,
                now=self.clock.datetime(),
                line_update=self.discover_line_update,
                cart=cart,
                previous_quantity=emission.previous_quantity,
            )
        except (OrderCloudError, ValueError) as exc:
            return Delivery(
                "DiscoverEvent", url=target.get("ServiceEndpoint"), body=None, raw=b"", error=str(exc), **common
            )
        if event is None:
            return Delivery(
                "DiscoverEvent",
                url=target.get("ServiceEndpoint"),
                body=None,
                raw=b"",
                error="skipped: no positive quantity change to send",
                **common,
            )
        wire = discover_request_body(event)
        return Delivery("DiscoverEvent", url=target.get("ServiceEndpoint"), body=event, raw=dumps(wire), **common)

    def _record(self, delivery: Delivery) -> None:
        with self._journal_lock:
            self.deliveries.append(delivery)

    def _emit_sync(self, emission: Emission) -> None:
        for record, request in self._records(emission):
            if request is None:
                self._record(record)
                continue
            self._record(self._deliver_sync(record, request))

    async def _emit_async(self, emission: Emission) -> None:
        for record, request in self._records(emission):
            if request is None:
                self._record(record)
                continue
            self._record(await self._deliver_async(record, request))

    def _http_client(self) -> httpx.Client:
        if self._delivery_client is None:
            delivery = self.http_delivery
            transport = delivery if isinstance(delivery, httpx.BaseTransport) else None
            self._delivery_client = httpx.Client(transport=transport, timeout=10)
        return self._delivery_client

    def _deliver_sync(self, record: Delivery, request: httpx.Request) -> Delivery:
        delivery = self.http_delivery
        status: int | None = None
        error: str | None = None
        attempt = 0
        for attempt in range(1, self.delivery_attempts + 1):  # noqa: B007 - the count is recorded
            try:
                # httpx.MockTransport is both a BaseTransport and an AsyncBaseTransport: only a purely async
                # transport (httpx.ASGITransport) cannot serve a synchronous delivery.
                if isinstance(delivery, httpx.AsyncBaseTransport) and not isinstance(delivery, httpx.BaseTransport):
                    raise RuntimeError("an async delivery transport cannot serve a synchronous client")
                if callable(delivery) and not isinstance(delivery, httpx.BaseTransport):
                    response = delivery(request)
                else:
                    response = self._http_client().send(request)
                status, error = response.status_code, None
                if 200 <= status < 300:
                    break
                error = f"HTTP {status}"
            except Exception as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"
        return attrs.evolve(record, status=status, error=error, attempts=attempt)

    async def _deliver_async(self, record: Delivery, request: httpx.Request) -> Delivery:
        delivery = self.http_delivery
        if not isinstance(delivery, httpx.AsyncBaseTransport):
            return await asyncio.to_thread(self._deliver_sync, record, request)
        status: int | None = None
        error: str | None = None
        attempt = 0
        async with httpx.AsyncClient(transport=delivery, timeout=10) as client:
            for attempt in range(1, self.delivery_attempts + 1):  # noqa: B007 - the count is recorded
                try:
                    response = await client.send(request)
                    status, error = response.status_code, None
                    if 200 <= status < 300:
                        break
                    error = f"HTTP {status}"
                except Exception as exc:
                    status, error = None, f"{type(exc).__name__}: {exc}"
        return attrs.evolve(record, status=status, error=error, attempts=attempt)

    # ------------------------------------------------------------------------------------ queries
    def deliveries_for(self, event_type: str | None = None, *, target: str | None = None) -> list[Delivery]:
        """The deliveries of one event type and/or target."""
        with self._journal_lock:
            return [
                d
                for d in self.deliveries
                if (event_type is None or d.event_type == event_type) and (target is None or d.target == target)
            ]

    def requests_to(self, method: str, path_glob: str) -> list[JournalEntry]:
        """Journal entries matching a method (``*`` for any) and a path glob."""
        with self._journal_lock:
            return [
                e
                for e in self.requests
                if (method == "*" or e.method == method.upper()) and fnmatch.fnmatchcase(e.path, path_glob)
            ]

    def close(self) -> None:
        """Close the HTTP client the fake opened for ``Http`` deliveries, if any.

        Clients from :meth:`client` and :meth:`async_client` are closed on their own. The fake stays
        usable: a later delivery opens a new HTTP client.

        >>> fake = FakeOrderCloud()
        >>> fake.close()
        """
        if self._delivery_client is not None:
            self._delivery_client.close()
            self._delivery_client = None
