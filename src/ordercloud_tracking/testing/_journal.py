"""Faults and journals: scripted failures, the record of requests received, and the bounded ring they live in."""

from __future__ import annotations

import collections
import fnmatch
import threading
from collections.abc import Iterable
from typing import Any, Generic, Literal, TypeVar

import attrs

from .._redact import redact_text
from ._wire import FakeResponse, error_body

__all__ = ["DEFAULT_JOURNAL_LIMIT", "Fault", "Faults", "JournalEntry", "Ring"]

#: How many requests and how many deliveries a fake keeps by default (the oldest go first).
DEFAULT_JOURNAL_LIMIT = 10_000

T = TypeVar("T")


@attrs.define
class Fault:
    """A scripted failure for requests matching ``method`` and ``path_glob`` (``fnmatch`` syntax).

    Made by :meth:`Faults.add`, which documents the options; ``hits`` counts the requests it failed so
    far, and it is dropped once ``hits`` reaches ``times``.

    >>> from ordercloud_tracking import InternalServerError
    >>> from ordercloud_tracking.testing import FakeOrderCloud
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

    def response(self) -> FakeResponse | None:
        """The answer a ``status`` fault gives instead of processing the request (``None`` for other faults).

        >>> Fault("GET", "/v1/me", status=503).response().body["Errors"][0]["ErrorCode"]
        'FakeFault'
        """
        if self.status is None:
            return None
        body = self.body if self.body is not None else error_body("FakeFault", f"Injected HTTP {self.status}")
        return FakeResponse(self.status, body, self.headers)


class Faults:
    """Scripted failures: ``fake.faults.add("POST", "/v1/cart/submit", error="read_timeout")``.

    Each request the fake receives uses up the first pending fault that matches it (see :meth:`add`).

    >>> from ordercloud_tracking.testing import FakeOrderCloud
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


@attrs.frozen
class JournalEntry:
    """One request the fake received, in ``fake.requests`` (and :meth:`FakeOrderCloud.requests_to`).

    ``status`` is ``None`` when no answer was sent (an injected connect error); ``fault`` names the
    injected fault, if any; ``at`` is the fake clock's time. The ``repr`` redacts credentials in ``query``
    and leaves out ``body``.

    >>> from ordercloud_tracking import AnonymousGrant
    >>> from ordercloud_tracking.models.commerce import LineItem
    >>> from ordercloud_tracking.testing import FakeOrderCloud
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


class Ring(Generic[T]):
    """A thread-safe log that keeps the last ``limit`` items (all of them when ``limit`` is ``None``)."""

    def __init__(self, limit: int | None) -> None:
        if limit is not None and limit < 1:
            raise ValueError("journal_limit must be at least 1 (or None for no limit)")
        self._items: collections.deque[T] = collections.deque(maxlen=limit)
        self._lock = threading.Lock()

    def append(self, item: T) -> None:
        with self._lock:
            self._items.append(item)

    def extend(self, items: Iterable[T]) -> None:
        with self._lock:
            self._items.extend(items)

    def snapshot(self) -> list[T]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
