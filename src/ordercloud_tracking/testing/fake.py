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
POST of OrderCloud's envelope, ``{"Headers": {"type": "sitecore.ordercloud.messages.…"}, "Payload":
{message}}``, signed whole with ``x-oc-hash`` (and the custom auth header), sent to ``http_delivery`` (an
httpx transport or a callable; ``"network"`` for real POSTs to the ``Endpoint``; without it the fake makes no
network traffic and records the delivery as not sent); ``FakeOrderCloud(http_body="bare")`` POSTs the bare
message instead, for receivers of that form. ``Kafka`` targets get a record produced to their
``BootstrapServers``/``Topic`` (``kafka_record`` picks the form, keyed by the order or user), ``EventHub``
targets one through the Kafka endpoint ``event_hub_kafka`` (the bare message with a ``type`` header, topic =
the hub's name); both need the ``kafka`` extra. ``SendEvent`` and ``DiscoverEvent`` targets record the payloads
:func:`~ordercloud_tracking.sitecore.to_send_event` and :func:`~ordercloud_tracking.sitecore.to_discover_event`
produce. Everything lands in :attr:`FakeOrderCloud.deliveries`; a failing delivery (or a broken target) is
retried and recorded, never raised into the request that caused it.

Inside, every request goes through one front door, :meth:`FakeOrderCloud.exchange`: it applies the scripted
faults, routes the request to its handler (``_routes``: OAuth in ``_oauth``, the cart and orders in
``_commerce`` / ``_orders``, tracking events, delivery configs and API clients in ``_integrations``, lists in
``_lists``), journals it and returns the response with the events it emitted, which
:meth:`FakeOrderCloud.deliver` hands to the delivery pipeline (``_delivery``). The in-process transports and
the loopback server are thin adapters over those two public methods; the pytest plugin uses only the public API.
"""

from __future__ import annotations

import asyncio
import fnmatch
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs
import httpx

from .._auth import ClientCredentials, Grant
from .._options import RetryPolicy
from ._delivery import DeliveryAttempt, DeliveryPipeline, HttpBody, HttpDelivery, checked_transport
from ._journal import DEFAULT_JOURNAL_LIMIT, Faults, JournalEntry, Ring
from ._produce import KafkaOptions, KafkaRecordForm
from ._routes import dispatch
from ._seed import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, DEFAULT_SEED, STOREFRONT_CLIENT_ID, Seed
from ._state import Emission, FakeClock, State
from ._wire import FakeRequest, FakeResponse

if TYPE_CHECKING:
    from .._client import AsyncOrderCloud, OrderCloud
    from ..identity import AsyncShopperSession, ShopperSession
    from ._seed import SeedApiClient, SeedProduct, SeedUser
    from .server import FakeServer

__all__ = ["DEFAULT_BASE_URL", "FakeOrderCloud", "Outcome"]

DEFAULT_BASE_URL = "https://fake.ordercloud.test"


@attrs.frozen
class Outcome:
    """What the fake's front door (:meth:`FakeOrderCloud.exchange`) made of one request."""

    response: FakeResponse | None
    emissions: tuple[Emission, ...] = ()
    delay: float = 0.0
    lost: Literal["connect", "read_timeout"] | None = None


def _to_fake(request: httpx.Request, body: bytes) -> FakeRequest:
    return FakeRequest(
        method=request.method,
        path=request.url.path,
        query=tuple(request.url.params.multi_items()),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
    )


def _to_httpx(outcome: Outcome, request: httpx.Request) -> httpx.Response:
    if outcome.lost == "connect" or outcome.response is None:
        raise httpx.ConnectError("Injected connect error", request=request)
    if outcome.lost == "read_timeout":
        raise httpx.ReadTimeout("Injected read timeout (the request was processed)", request=request)
    response = outcome.response
    if not response.has_body:
        return httpx.Response(response.status, headers=response.headers, request=request)
    headers = {"Content-Type": "application/json; charset=utf-8", **response.headers}
    return httpx.Response(response.status, headers=headers, content=response.content(), request=request)


class FakeOrderCloud:
    """A stateful, in-memory OrderCloud that emits signed tracking events.

    ``journal_limit`` bounds :attr:`requests` and :attr:`deliveries` (each keeps its last
    ``journal_limit`` entries, 10,000 by default; ``None`` keeps everything).

    Where deliveries go: ``http_delivery`` for ``Http`` targets (a transport, a callable, ``"network"``;
    ``None``: not sent), ``kafka_record`` (``"envelope+header"``, ``"envelope"``, ``"bare+type"``,
    ``"bare+ce_type"``) for ``Kafka`` targets, ``event_hub_kafka`` (bootstrap servers) for ``EventHub``
    targets; ``kafka_config``, librdkafka settings for the fake's producers (applied last); a Kafka record
    not acknowledged within ``kafka_timeout`` seconds is recorded as failed.

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
        http_body: HttpBody = "envelope",
        journal_limit: int | None = DEFAULT_JOURNAL_LIMIT,
        kafka_record: KafkaRecordForm = "envelope+header",
        event_hub_kafka: str | None = None,
        kafka_config: Mapping[str, Any] | None = None,
        kafka_timeout: float = 5.0,
    ) -> None:
        self.seed = seed
        self.clock = clock or FakeClock()
        self.base_url = base_url.rstrip("/")
        self.faults = Faults()
        self._requests: Ring[JournalEntry] = Ring(journal_limit)
        self._deliveries: Ring[DeliveryAttempt] = Ring(journal_limit)
        self._pipeline = DeliveryPipeline(
            self.clock,
            transport=http_delivery,
            attempts=delivery_attempts,
            line_update=discover_line_update,
            http_body=http_body,
            kafka=KafkaOptions(kafka_record, event_hub_kafka, dict(kafka_config or {})),
            kafka_timeout=kafka_timeout,
        )
        #: The fake's state: stored objects and tokens (``fake.api.delivery_configs``, ``fake.api.orders`` …).
        self.api = State(seed, self.clock, base_url=self.base_url)

    def __repr__(self) -> str:
        return (
            f"FakeOrderCloud(base_url={self.base_url!r}, requests={len(self._requests)}, "
            f"deliveries={len(self._deliveries)})"
        )

    # ----------------------------------------------------------------------------------- settings
    @property
    def http_delivery(self) -> HttpDelivery | None:
        """Where ``Http`` deliveries go: an httpx transport, a callable, ``"network"``, or ``None`` (not sent)."""
        return self._pipeline.transport

    @http_delivery.setter
    def http_delivery(self, transport: HttpDelivery | None) -> None:
        self._pipeline.close()
        self._pipeline.transport = checked_transport(transport)

    @property
    def delivery_attempts(self) -> int:
        """How many times a failing ``Http`` delivery is tried (at least 1)."""
        return self._pipeline.attempts

    @property
    def http_body(self) -> HttpBody:
        """What ``Http`` targets receive: OrderCloud's ``"envelope"`` (the default) or the ``"bare"`` message."""
        return self._pipeline.http_body

    @property
    def kafka_record(self) -> KafkaRecordForm:
        """The form of the records ``Kafka`` targets get (default ``"envelope+header"``)."""
        return self._pipeline.kafka.record

    @property
    def discover_line_update(self) -> Literal["cart", "delta"]:
        """How a line update becomes a Discover event: the whole ``"cart"`` or the ``"delta"``."""
        return self._pipeline.line_update

    # --------------------------------------------------------------------------------------- state
    def reset(self) -> None:
        """Back to the seed: state, journals, faults and tokens (the clock keeps its time)."""
        self.api = State(self.seed, self.clock, base_url=self.base_url)
        self.faults.clear()
        self._requests.clear()
        self._deliveries.clear()

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
        with self.api.lock:
            return [info.anon_user_id for info in self.api.anonymous_tokens_issued]

    # ------------------------------------------------------------------------------ the front door
    def process(self, request: FakeRequest) -> tuple[FakeResponse, list[Emission]]:
        """Answer a request without faults, journal or deliveries: the response and the events it emitted."""
        return dispatch(self.api, request)

    def exchange(self, request: FakeRequest) -> Outcome:
        """The front door: apply the next matching fault, answer the request and journal it."""
        fault = self.faults.take(request.method, request.path)
        delay = fault.delay if fault is not None else 0.0
        if fault is not None and fault.error == "connect":
            self._journal(request, None, "connect")
            return Outcome(None, delay=delay, lost="connect")
        injected = fault.response() if fault is not None else None
        if injected is not None:
            self._journal(request, injected.status, f"status {injected.status}")
            return Outcome(injected, delay=delay)
        response, emissions = dispatch(self.api, request)
        lost = fault.error if fault is not None else None
        self._journal(request, response.status, lost)
        return Outcome(response, tuple(emissions), delay, lost)

    def _journal(self, request: FakeRequest, status: int | None, fault: str | None) -> None:
        entry = JournalEntry(request.method, request.path, request.query, status, request.body, fault, self.clock.now())
        self._requests.append(entry)

    def deliver(self, emissions: tuple[Emission, ...] | list[Emission]) -> list[DeliveryAttempt]:
        """Deliver the events of an exchange to their targets now, record and return the deliveries."""
        done = self._pipeline.deliver(self.api, list(emissions))
        self._deliveries.extend(done)
        return done

    async def deliver_async(self, emissions: tuple[Emission, ...] | list[Emission]) -> list[DeliveryAttempt]:
        """:meth:`deliver` for async callers (an async ``http_delivery`` transport is awaited)."""
        done = await self._pipeline.deliver_async(self.api, list(emissions))
        self._deliveries.extend(done)
        return done

    # ---------------------------------------------------------------------------------- transports
    def _handle_sync(self, request: httpx.Request) -> httpx.Response:
        outcome = self.exchange(_to_fake(request, request.read()))
        self.deliver(outcome.emissions)
        if outcome.delay:
            time.sleep(outcome.delay)
        return _to_httpx(outcome, request)

    async def _handle_async(self, request: httpx.Request) -> httpx.Response:
        outcome = self.exchange(_to_fake(request, await request.aread()))
        await self.deliver_async(outcome.emissions)
        if outcome.delay:
            await asyncio.sleep(outcome.delay)
        return _to_httpx(outcome, request)

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

    def _client_options(self, grant: Grant | None, options: dict[str, Any]) -> dict[str, Any]:
        """The options a client of this fake gets: admin credentials and the fake's clock unless given."""
        options.setdefault("retry_policy", self.retry_policy())
        grant = grant or ClientCredentials(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET)
        # the pool is made here for this client: closing the client closes it
        return {**options, "grant": grant, "base_url": self.base_url, "owns_http_client": True}

    def client(self, grant: Grant | None = None, **options: Any) -> OrderCloud:
        """An :class:`~ordercloud_tracking.OrderCloud` wired to this fake (admin credentials by default)."""
        from .._client import OrderCloud

        http = httpx.Client(transport=self.transport())
        return OrderCloud(http_client=http, **self._client_options(grant, options))

    def async_client(self, grant: Grant | None = None, **options: Any) -> AsyncOrderCloud:
        """An :class:`~ordercloud_tracking.AsyncOrderCloud` wired to this fake (admin credentials by default)."""
        from .._client import AsyncOrderCloud

        http = httpx.AsyncClient(transport=self.async_transport())
        return AsyncOrderCloud(http_client=http, **self._client_options(grant, options))

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

    # ------------------------------------------------------------------------------------ queries
    @property
    def requests(self) -> list[JournalEntry]:
        """The requests received, oldest first (the last ``journal_limit``; a copy)."""
        return self._requests.snapshot()

    @property
    def deliveries(self) -> list[DeliveryAttempt]:
        """The deliveries made, oldest first (the last ``journal_limit``; a copy)."""
        return self._deliveries.snapshot()

    def deliveries_for(self, event_type: str | None = None, *, target: str | None = None) -> list[DeliveryAttempt]:
        """The deliveries of one event type and/or target."""
        return [
            d
            for d in self._deliveries.snapshot()
            if (event_type is None or d.event_type == event_type) and (target is None or d.target == target)
        ]

    def requests_to(self, method: str, path_glob: str) -> list[JournalEntry]:
        """Journal entries matching a method (``*`` for any) and a path glob."""
        return [
            e
            for e in self._requests.snapshot()
            if (method == "*" or e.method == method.upper()) and fnmatch.fnmatchcase(e.path, path_glob)
        ]

    def close(self) -> None:
        """Close the HTTP client and the Kafka producers the fake opened for its deliveries, if any."""
        self._pipeline.close()
