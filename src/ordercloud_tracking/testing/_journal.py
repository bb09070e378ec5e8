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
    """A scripted failure for requests matching ``method`` and ``path_glob`` (``fnmatch`` syntax)."""

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
        """Whether a request (upper-case ``method``, URL ``path``) is one this fault is for."""
        return (self.method == "*" or self.method.upper() == method) and fnmatch.fnmatchcase(path, self.path_glob)

    def response(self) -> FakeResponse | None:
        """The answer a ``status`` fault gives instead of processing the request (``None`` for other faults)."""
        if self.status is None:
            return None
        body = self.body if self.body is not None else error_body("FakeFault", f"Injected HTTP {self.status}")
        return FakeResponse(self.status, body, self.headers)


class Faults:
    """Scripted failures: ``fake.faults.add("POST", "/v1/cart/submit", error="read_timeout")``."""

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
        """Fail the next ``times`` matching requests."""
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
        """Use up the first pending fault matching the request: count a hit and drop it after ``times``."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    if fault.hits >= fault.times:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        """Drop every pending fault (``fake.reset()`` does this too)."""
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> list[Fault]:
        """The faults not used up yet, in the order they were added (a copy)."""
        with self._lock:
            return list(self._faults)


@attrs.frozen
class JournalEntry:
    """One request the fake received, in ``fake.requests`` (and :meth:`FakeOrderCloud.requests_to`)."""

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
        """The request body parsed as JSON (``None`` for an empty body)."""
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
