"""Stores shared by the receiver and the consumers: de-duplication of deliveries.

A :class:`DedupeStore` remembers, per delivery key (an *entity* such as ``order:o-1``), the fingerprint
of the latest state that was **completed** — handled successfully — and the attempts **in flight**:

1. ``claim(key, fingerprint)`` before the handler runs: ``"duplicate"`` when ``fingerprint`` is the
   latest completed state of ``key`` (drop it), ``"in_flight"`` when another attempt holds an unexpired
   claim on ``(key, fingerprint)`` (answer "retry later"), ``"new"`` when the caller now holds the claim;
2. ``complete(key, fingerprint)`` after the handler succeeded: ``fingerprint`` becomes the latest
   completed state and the claim is dropped;
3. ``release(key, fingerprint)`` when the handler failed: the claim is dropped, the completed state is
   unchanged, so the retry is processed.

Nothing is marked seen before it was processed, so a delivery is never acknowledged and lost. Claims
expire after ``claim_ttl`` seconds: a crashed worker does not block an entity for ever.

>>> store = MemoryDedupeStore()
>>> store.claim("order:o-1", "f1"), store.claim("order:o-1", "f1")
('new', 'in_flight')
>>> store.complete("order:o-1", "f1"); store.claim("order:o-1", "f1")
'duplicate'
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import Literal, Protocol, TypeAlias, runtime_checkable

__all__ = ["DedupeOutcome", "DedupeStore", "MemoryDedupeStore"]

DedupeOutcome: TypeAlias = Literal["new", "in_flight", "duplicate"]
"""What :meth:`DedupeStore.claim` answers: ``"new"``, ``"in_flight"`` or ``"duplicate"``.

>>> outcome: DedupeOutcome = MemoryDedupeStore().claim("k", "f")
>>> outcome
'new'
"""


@runtime_checkable
class DedupeStore(Protocol):
    """Claims and completed states of deliveries, per key. Implementations must be thread-safe.

    ``claim`` must be atomic: of two concurrent claims on the same ``(key, fingerprint)``, one gets
    ``"new"``. Entity-latest-state semantics: a key remembers only its latest completed fingerprint, so
    a real change back to an earlier state (a line set to 3, then 2, then 3) is never dropped.

    >>> class NoDedupe:
    ...     def claim(self, key: str, fingerprint: str) -> DedupeOutcome: return "new"
    ...     def complete(self, key: str, fingerprint: str) -> None: pass
    ...     def release(self, key: str, fingerprint: str) -> None: pass
    >>> isinstance(NoDedupe(), DedupeStore)
    True
    """

    def claim(self, key: str, fingerprint: str) -> DedupeOutcome:
        """``"duplicate"``, ``"in_flight"``, or ``"new"`` (the caller now holds the claim)."""
        ...

    def complete(self, key: str, fingerprint: str) -> None:
        """The handler succeeded: ``fingerprint`` is the latest completed state of ``key``; drop the claim."""
        ...

    def release(self, key: str, fingerprint: str) -> None:
        """The handler failed: drop the claim; the completed state is unchanged."""
        ...


class MemoryDedupeStore:
    """The default :class:`DedupeStore`: in-process, an LRU of the last ``maxsize`` completed keys.

    Thread-safe. Per process only: with several workers, use a shared store. Claims expire after
    ``claim_ttl`` seconds of ``clock`` (``time.monotonic`` by default).

    >>> store = MemoryDedupeStore(maxsize=2)
    >>> outcomes = []
    >>> for quantity in ("q3", "q2", "q3"):  # 3, then 2, then 3 again: three real changes
    ...     outcomes.append(store.claim("line:o-1:li-1", quantity)); store.complete("line:o-1:li-1", quantity)
    >>> outcomes
    ['new', 'new', 'new']
    >>> store.claim("line:o-1:li-1", "q3")
    'duplicate'
    """

    def __init__(
        self, maxsize: int = 100_000, claim_ttl: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        if not claim_ttl > 0:
            raise ValueError("claim_ttl must be positive")
        self._maxsize = maxsize
        self._claim_ttl = float(claim_ttl)
        self._clock = clock
        self._completed: collections.OrderedDict[str, str] = collections.OrderedDict()
        # (key, fingerprint) -> expiry; insertion order is expiry order (a fixed ttl on a monotonic clock)
        self._claims: collections.OrderedDict[tuple[str, str], float] = collections.OrderedDict()
        self._lock = threading.Lock()

    @property
    def maxsize(self) -> int:
        """How many completed keys (and, at most, claims) are kept.

        >>> MemoryDedupeStore().maxsize
        100000
        """
        return self._maxsize

    @property
    def claim_ttl(self) -> float:
        """Seconds after which an unfinished claim expires.

        >>> MemoryDedupeStore(claim_ttl=60).claim_ttl
        60.0
        """
        return self._claim_ttl

    def claim(self, key: str, fingerprint: str) -> DedupeOutcome:
        """``"duplicate"`` if ``fingerprint`` is the latest completed state of ``key``; ``"in_flight"`` if
        an unexpired claim on ``(key, fingerprint)`` exists; else ``"new"`` and the caller holds the claim.

        >>> store = MemoryDedupeStore()
        >>> store.claim("k", "f"), store.claim("k", "f"), store.claim("k", "other")
        ('new', 'in_flight', 'new')
        """
        now = self._clock()
        with self._lock:
            if self._completed.get(key) == fingerprint:
                self._completed.move_to_end(key)
                return "duplicate"
            claims = self._claims
            while claims:  # drop expired claims, oldest first
                oldest, expiry = next(iter(claims.items()))
                if expiry > now:
                    break
                del claims[oldest]
            pair = (key, fingerprint)
            if pair in claims:
                return "in_flight"
            claims[pair] = now + self._claim_ttl
            if len(claims) > self._maxsize:
                claims.popitem(last=False)
            return "new"

    def complete(self, key: str, fingerprint: str) -> None:
        """Make ``fingerprint`` the latest completed state of ``key`` and drop the claim.

        >>> store = MemoryDedupeStore()
        >>> store.complete("k", "f"); store.claim("k", "f")
        'duplicate'
        """
        with self._lock:
            self._claims.pop((key, fingerprint), None)
            self._completed[key] = fingerprint
            self._completed.move_to_end(key)
            if len(self._completed) > self._maxsize:
                self._completed.popitem(last=False)

    def release(self, key: str, fingerprint: str) -> None:
        """Drop the claim on ``(key, fingerprint)``, if any; the completed state is unchanged.

        >>> store = MemoryDedupeStore()
        >>> store.claim("k", "f"); store.release("k", "f"); store.claim("k", "f")
        'new'
        'new'
        """
        with self._lock:
            self._claims.pop((key, fingerprint), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._completed)

    def __repr__(self) -> str:
        return f"MemoryDedupeStore(maxsize={self._maxsize}, claim_ttl={self._claim_ttl})"
