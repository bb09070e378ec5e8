"""Dedupe stores: remember the latest completed state per delivery key, with claims for work in progress.

.. note:: Placeholder on the Kafka branch: only the protocol and :class:`MemoryDedupeStore`. The full
   module (with ``SQLiteDedupeStore``) replaces it at merge.

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
from typing import Literal, Protocol, runtime_checkable

__all__ = ["DedupeOutcome", "DedupeStore", "MemoryDedupeStore"]

DedupeOutcome = Literal["new", "in_flight", "duplicate"]
"""What :meth:`DedupeStore.claim` answers.

>>> MemoryDedupeStore().claim("k", "f")
'new'
"""


@runtime_checkable
class DedupeStore(Protocol):
    """Latest completed state per key, plus claims on work in progress. Implementations are thread-safe.

    >>> isinstance(MemoryDedupeStore(), DedupeStore)
    True
    """

    def claim(self, key: str, fingerprint: str) -> DedupeOutcome:
        """``"duplicate"``: the latest completed state of ``key`` is ``fingerprint``; ``"in_flight"``:
        someone holds an unexpired claim on ``key``; ``"new"``: the caller now holds the claim."""
        ...

    def complete(self, key: str, fingerprint: str) -> None:
        """Success: ``fingerprint`` is now the latest completed state of ``key``; the claim is dropped."""
        ...

    def release(self, key: str, fingerprint: str) -> None:
        """Failure: drop the claim (the latest completed state is unchanged)."""
        ...


class MemoryDedupeStore:
    """An in-process :class:`DedupeStore`: an LRU of the last ``maxsize`` keys; claims expire after ``claim_ttl`` s.

    >>> store = MemoryDedupeStore(maxsize=10)
    >>> store.claim("line:o-1:li-1", "q3"); store.complete("line:o-1:li-1", "q3")
    'new'
    >>> store.claim("line:o-1:li-1", "q2"), store.release("line:o-1:li-1", "q2"), store.claim("line:o-1:li-1", "q3")
    ('new', None, 'duplicate')
    """

    def __init__(self, maxsize: int = 100_000, claim_ttl: float = 300.0, clock: Callable[[], float] = time.monotonic):
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._maxsize = maxsize
        self._claim_ttl = claim_ttl
        self._clock = clock
        self._completed: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._claims: dict[str, float] = {}
        self._lock = threading.Lock()

    def claim(self, key: str, fingerprint: str) -> DedupeOutcome:
        """Claim ``key`` for ``fingerprint`` (see :class:`DedupeStore`).

        >>> MemoryDedupeStore().claim("k", "f")
        'new'
        """
        with self._lock:
            if self._completed.get(key) == fingerprint:
                self._completed.move_to_end(key)
                return "duplicate"
            now = self._clock()
            expires = self._claims.get(key)
            if expires is not None and expires > now:
                return "in_flight"
            self._claims[key] = now + self._claim_ttl
            return "new"

    def complete(self, key: str, fingerprint: str) -> None:
        """Record ``fingerprint`` as the latest completed state of ``key`` and drop the claim.

        >>> MemoryDedupeStore().complete("k", "f")
        """
        with self._lock:
            self._claims.pop(key, None)
            self._completed[key] = fingerprint
            self._completed.move_to_end(key)
            while len(self._completed) > self._maxsize:
                self._completed.popitem(last=False)

    def release(self, key: str, fingerprint: str) -> None:
        """Drop the claim on ``key``.

        >>> MemoryDedupeStore().release("k", "f")
        """
        with self._lock:
            self._claims.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._completed)

    def __repr__(self) -> str:
        return f"MemoryDedupeStore(maxsize={self._maxsize}, claim_ttl={self._claim_ttl})"
