"""Dedupe and identity-link stores shared by the receiver, the Kafka consumers and the Sitecore mapping.

Two protocols, each with an in-process store and a durable one on a local SQLite file:

==========================  ======================================  ========================================
Protocol                    In process                              Durable (one machine, many processes)
==========================  ======================================  ========================================
:class:`DedupeStore`        :class:`MemoryDedupeStore`              :class:`SQLiteDedupeStore`
:class:`IdentityLinks`      :class:`MemoryIdentityLinks`            :class:`SQLiteIdentityLinks`
==========================  ======================================  ========================================

Dedupe: entity-latest-state
    A delivery is a *duplicate* only when it repeats the latest **completed** state of its entity (its
    ``key``, such as ``line:{OrderId}:{LineID}``; the ``fingerprint`` is a hash of the state). A real
    change 3 → 2 → 3 is never dropped. Handling a delivery is three calls: :meth:`~DedupeStore.claim`
    (``"new"``: handle it; ``"in_flight"``: another attempt is handling the same state right now;
    ``"duplicate"``: already handled), then :meth:`~DedupeStore.complete` when the handler succeeded or
    :meth:`~DedupeStore.release` when it failed (so a retry is handled). A claim expires after
    ``claim_ttl`` seconds, so a worker that crashed mid-handler blocks its entity for at most that long;
    choose it longer than a handler (with its retries) can take: a claim carries no owner, so a late
    ``complete`` or ``release`` from an attempt whose claim expired acts on the new attempt's claim.

Identity links: user ID ↔ anonymous ID
    UserLoggedIn may carry no ``AnonymousId``, while the same shopper's cart and order events carry the
    beacon ID. A link store remembers, per OrderCloud user ID, the anonymous (beacon) ID it was last
    seen with: :meth:`~IdentityLinks.learn` reads it from any message carrying both,
    :meth:`~IdentityLinks.link` records it at login or registration (the storefront knows both first),
    and :func:`~ordercloud_tracking.sitecore.to_send_event` /
    :func:`~ordercloud_tracking.sitecore.to_discover_event` use :meth:`~IdentityLinks.anonymous_id_for`
    (``links=``) so the login goes to the same Sitecore contact as the cart. **The latest link wins**: a
    shopper who logs in on a second device is stitched to that device's beacon ID from then on.

The SQLite stores
    Standard library ``sqlite3`` in WAL mode, so several threads and several processes on one machine
    can share one file (not a network file system), and what was stored survives a restart. A claim is
    one ``BEGIN IMMEDIATE`` transaction, so it is atomic across processes. Commits use
    ``synchronous=NORMAL``: a crash of the process loses nothing; a power cut may lose the last
    commits, which at worst handles a delivery twice (delivery is at least once anyway). Both stores
    may share one file (their tables differ). Each call is one transaction; ``with store.batch():``
    makes the calls in the block one transaction, several times faster (claim a poll's records in one
    batch, complete them in another; never hold a batch across a handler). Entries older than
    ``max_age`` are ignored; they and the oldest beyond ``max_entries`` are pruned as writes go (the
    count stays within about 10 % of ``max_entries``), and ``prune()`` does it at once. Open a store in
    each process (one opened before a ``fork`` reconnects in the child), and ``close()`` it or use it as
    a context manager.

>>> from ordercloud_tracking.stores import MemoryDedupeStore
>>> store = MemoryDedupeStore()
>>> store.claim("line:o-1:li-1", "qty-3")
'new'
>>> store.claim("line:o-1:li-1", "qty-3")   # the handler is still running
'in_flight'
>>> store.complete("line:o-1:li-1", "qty-3")
>>> store.claim("line:o-1:li-1", "qty-3")   # a redelivery
'duplicate'
"""

from __future__ import annotations

import collections
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Protocol, TypeAlias, runtime_checkable

if TYPE_CHECKING:
    import sqlite3

    from typing_extensions import Self

    from .messages import Message

__all__ = [
    "DedupeOutcome",
    "DedupeStore",
    "IdentityLinks",
    "MemoryDedupeStore",
    "MemoryIdentityLinks",
    "SQLiteDedupeStore",
    "SQLiteIdentityLinks",
]

DedupeOutcome: TypeAlias = Literal["new", "in_flight", "duplicate"]
"""What :meth:`DedupeStore.claim` answers: ``"new"`` (you hold the claim), ``"in_flight"`` or ``"duplicate"``.

>>> outcome: DedupeOutcome = MemoryDedupeStore().claim("order:o-1", "f")
>>> outcome
'new'
"""

Clock: TypeAlias = Callable[[], float]

DEFAULT_CLAIM_TTL = 300.0
_DAY = 24 * 3600.0


# --- protocols -------------------------------------------------------------------------------------------


@runtime_checkable
class DedupeStore(Protocol):
    """Remembers the latest completed state per entity and who is handling a state right now."""

    def claim(self, key: str, fingerprint: str) -> DedupeOutcome:
        """``"duplicate"`` when ``fingerprint`` is the latest completed state of ``key``; ``"in_flight"``
        when another attempt holds an unexpired claim on (``key``, ``fingerprint``); else ``"new"``, and
        the caller now holds that claim."""
        ...

    def complete(self, key: str, fingerprint: str) -> None:
        """The handler succeeded: ``fingerprint`` becomes the latest completed state; the claim is dropped."""
        ...

    def release(self, key: str, fingerprint: str) -> None:
        """The handler failed: drop the claim (the completed state is unchanged), so a retry is handled."""
        ...


class Keyed(Protocol):
    """What :meth:`SQLiteDedupeStore.completing` needs of a delivery (the consumers' and receivers' have it)."""

    @property
    def delivery_key(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...


@runtime_checkable
class IdentityLinks(Protocol):
    """Remembers the anonymous (beacon) ID of each OrderCloud user ID; the latest link wins."""

    def learn(self, message: Message) -> None:
        """Record ``UserContext.ID`` ↔ ``UserContext.AnonymousId`` if the message carries both."""
        ...

    def link(self, user_id: str, anonymous_id: str) -> None:
        """Record that ``user_id`` is the shopper behind ``anonymous_id`` (replacing an older link)."""
        ...

    def anonymous_id_for(self, user_id: str) -> str | None:
        """The anonymous ID last linked to ``user_id``, or ``None``."""
        ...


def _ids_of(message: object) -> tuple[str, str] | None:
    """(user ID, anonymous ID) of a typed message carrying both, else ``None`` (an unknown message too)."""
    user_id = getattr(message, "user_id", None)
    anonymous_id = getattr(message, "anonymous_id", None)
    if isinstance(user_id, str) and user_id and isinstance(anonymous_id, str) and anonymous_id:
        return user_id, anonymous_id
    return None


def _check_link(user_id: str, anonymous_id: str) -> None:
    if not isinstance(user_id, str) or not user_id or not isinstance(anonymous_id, str) or not anonymous_id:
        raise ValueError("user_id and anonymous_id must be non-empty strings")


def _positive(name: str, value: float) -> float:
    if not value > 0:
        raise ValueError(f"{name} must be positive, not {value!r}")
    return value


class _ExpiringClaims:
    """What both dedupe stores share: claims that expire after ``claim_ttl`` seconds."""

    _claim_ttl: float

    @property
    def claim_ttl(self) -> float:
        """Seconds after which an unfinished claim expires."""
        return self._claim_ttl


class _LinksFromMessages:
    """What both identity-link stores share: :meth:`learn` records the link a message carries."""

    def learn(self: IdentityLinks, message: Message) -> None:
        """See :meth:`IdentityLinks.learn`; a message without both IDs is ignored."""
        ids = _ids_of(message)
        if ids is not None:
            self.link(*ids)


# --- in process ------------------------------------------------------------------------------------------


class MemoryDedupeStore(_ExpiringClaims):
    """The in-process :class:`DedupeStore`: the latest completed state of the last ``maxsize`` entities."""

    def __init__(
        self, maxsize: int = 100_000, claim_ttl: float = DEFAULT_CLAIM_TTL, clock: Clock = time.monotonic
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._maxsize = maxsize
        self._claim_ttl = _positive("claim_ttl", claim_ttl)
        self._clock = clock
        self._completed: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._claims: dict[tuple[str, str], float] = {}
        self._lock = threading.RLock()

    @property
    def maxsize(self) -> int:
        """How many entities' completed states are kept at most (the least recently used go first)."""
        return self._maxsize

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Make the calls in the block one step for other threads (the store is locked once for all).

        As with :meth:`SQLiteDedupeStore.batch`: claim many deliveries at once, or complete them, but
        never hold a batch across a handler (other threads wait for it).

        >>> store = MemoryDedupeStore()
        >>> with store.batch():
        ...     [store.claim(key, "v1") for key in ("order:o-1", "order:o-2")]
        ['new', 'new']
        """
        with self._lock:
            yield

    def claim(self, key: str, fingerprint: str) -> DedupeOutcome:
        """See :meth:`DedupeStore.claim`."""
        with self._lock:
            if self._completed.get(key) == fingerprint:
                self._completed.move_to_end(key)
                return "duplicate"
            now = self._clock()
            expires = self._claims.get((key, fingerprint))
            if expires is not None and expires > now:
                return "in_flight"
            self._claims[(key, fingerprint)] = now + self._claim_ttl
            if len(self._claims) > self._maxsize:  # only crashed attempts leave claims behind
                self._claims = {claim: until for claim, until in self._claims.items() if until > now}
            return "new"

    def complete(self, key: str, fingerprint: str) -> None:
        """See :meth:`DedupeStore.complete`."""
        with self._lock:
            self._claims.pop((key, fingerprint), None)
            self._completed[key] = fingerprint
            self._completed.move_to_end(key)
            if len(self._completed) > self._maxsize:
                self._completed.popitem(last=False)

    def release(self, key: str, fingerprint: str) -> None:
        """See :meth:`DedupeStore.release`."""
        with self._lock:
            self._claims.pop((key, fingerprint), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._completed)

    def __repr__(self) -> str:
        return f"MemoryDedupeStore(maxsize={self._maxsize}, claim_ttl={self._claim_ttl})"


class MemoryIdentityLinks(_LinksFromMessages):
    """The in-process :class:`IdentityLinks`: the links of the last ``maxsize`` users (LRU)."""

    def __init__(self, maxsize: int = 100_000) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._maxsize = maxsize
        self._links: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._lock = threading.Lock()

    @property
    def maxsize(self) -> int:
        """How many users' links are kept at most (the least recently linked or read go first)."""
        return self._maxsize

    def link(self, user_id: str, anonymous_id: str) -> None:
        """See :meth:`IdentityLinks.link` (``ValueError`` for an empty ID)."""
        _check_link(user_id, anonymous_id)
        with self._lock:
            self._links[user_id] = anonymous_id
            self._links.move_to_end(user_id)
            if len(self._links) > self._maxsize:
                self._links.popitem(last=False)

    def anonymous_id_for(self, user_id: str) -> str | None:
        """See :meth:`IdentityLinks.anonymous_id_for`."""
        with self._lock:
            anonymous_id = self._links.get(user_id)
            if anonymous_id is not None:
                self._links.move_to_end(user_id)
            return anonymous_id

    def __len__(self) -> int:
        with self._lock:
            return len(self._links)

    def __repr__(self) -> str:
        return f"MemoryIdentityLinks(maxsize={self._maxsize})"


# --- SQLite ----------------------------------------------------------------------------------------------

_BUSY_TIMEOUT = 30.0  # seconds a writer waits for another process's write transaction


class _SQLiteFile:
    """One connection to a store file per process, guarded by a lock; pruning by age and count."""

    _schema: str = ""
    _table: str = ""  # the table pruned by count and age
    _stamp: str = ""  # its time column

    def __init__(self, path: str | os.PathLike[str], *, max_entries: int, max_age: float, clock: Clock) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        _positive("max_age", max_age)
        self._path = os.fspath(path)
        self._max_entries = max_entries
        self._max_age = max_age
        self._clock = clock
        self._prune_every = max(1, min(1000, max_entries // 10))
        self._writes = 0
        self._lock = threading.RLock()
        self._batching = False
        self._closed = False
        self._pid = os.getpid()
        self._inherited: list[sqlite3.Connection] = []
        self._db = self._connect()
        self.prune()

    def _connect(self) -> sqlite3.Connection:
        import sqlite3  # only the SQLite stores need it, on first use

        db = sqlite3.connect(self._path, timeout=_BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        try:
            _use_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
            with _transaction(db):
                for statement in filter(None, (part.strip() for part in self._schema.split(";"))):
                    db.execute(statement)
        except BaseException:
            db.close()
            raise
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """The connection inside ``BEGIN IMMEDIATE`` (the file's write lock, across processes)."""
        with self._lock:
            db = self._connection()
            if self._batching:  # already inside the batch's transaction
                yield db
                return
            with _transaction(db):
                yield db

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Run the calls made in the block as one transaction: much faster for many calls in a row.

        The block holds the file's write lock (other threads and processes wait for it), so keep it
        short: batch the claims of a poll, then the completions, never a handler. If the block raises,
        all its changes are undone. Nested batches join the outer one.
        """
        with self._lock:
            if self._batching:
                yield
                return
            with _transaction(self._connection()):
                self._batching = True
                try:
                    yield
                finally:
                    self._batching = False

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._connection()

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise ValueError(f"{type(self).__name__} is closed")
        if os.getpid() != self._pid:
            # Forked: the parent's connection must be neither used nor closed here (closing it would drop
            # this process's file locks), so it is kept aside and a new one opened.
            self._pid = os.getpid()
            self._inherited.append(self._db)
            self._db = self._connect()
        return self._db

    def _wrote(self) -> None:
        """Count a write; prune every ~10 % of ``max_entries`` writes."""
        self._writes += 1
        if self._writes >= self._prune_every:
            self.prune()

    def prune(self) -> None:
        """Drop entries older than ``max_age`` and the oldest beyond ``max_entries`` now."""
        with self._write() as db:
            self._writes = 0
            now = self._clock()
            db.execute(f"DELETE FROM {self._table} WHERE {self._stamp} < ?", (now - self._max_age,))  # noqa: S608
            (count,) = db.execute(f"SELECT count(*) FROM {self._table}").fetchone()  # noqa: S608
            if count > self._max_entries:
                db.execute(
                    f"DELETE FROM {self._table} WHERE rowid IN "  # noqa: S608 - fixed table names
                    f"(SELECT rowid FROM {self._table} ORDER BY {self._stamp} LIMIT ?)",
                    (count - self._max_entries,),
                )
            self._prune_more(db, now)

    def _prune_more(self, db: sqlite3.Connection, now: float) -> None:
        """Subclasses drop other expired rows here."""

    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    @property
    def max_entries(self) -> int:
        """How many entries are kept at most (pruned within about 10 %)."""
        return self._max_entries

    @property
    def max_age(self) -> float:
        """Seconds after which an entry is ignored, then pruned."""
        return self._max_age

    def close(self) -> None:
        """Close the connection (idempotent); the data stays in the file."""
        with self._lock:
            if not self._closed:
                self._closed = True
                if os.getpid() == self._pid:
                    self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __len__(self) -> int:
        with self._read() as db:
            (count,) = db.execute(f"SELECT count(*) FROM {self._table}").fetchone()  # noqa: S608
            return int(count)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._path!r}, max_entries={self._max_entries}, max_age={self._max_age})"


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch the file to WAL (once per file; a no-op after that).

    Switching needs the file to itself, and SQLite answers "database is locked" at once, without the
    busy timeout, when another process opens the new file at the same moment: retry until the timeout.
    """
    import sqlite3

    deadline = time.monotonic() + _BUSY_TIMEOUT
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.in_transaction:  # SQLite may have rolled back already (a full disk, an I/O error)
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class SQLiteDedupeStore(_SQLiteFile, _ExpiringClaims):
    """A durable :class:`DedupeStore` on a local SQLite file, shared by threads and processes."""

    _schema = """
        CREATE TABLE IF NOT EXISTS oct_dedupe_completed (
            key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, completed_at REAL NOT NULL);
        CREATE INDEX IF NOT EXISTS oct_dedupe_completed_at ON oct_dedupe_completed (completed_at);
        CREATE TABLE IF NOT EXISTS oct_dedupe_claims (
            key TEXT NOT NULL, fingerprint TEXT NOT NULL, expires_at REAL NOT NULL,
            PRIMARY KEY (key, fingerprint)) WITHOUT ROWID;
    """
    _table = "oct_dedupe_completed"
    _stamp = "completed_at"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_entries: int = 1_000_000,
        max_age: float = 7 * _DAY,
        claim_ttl: float = DEFAULT_CLAIM_TTL,
        clock: Clock = time.time,
    ) -> None:
        self._claim_ttl = _positive("claim_ttl", claim_ttl)
        super().__init__(path, max_entries=max_entries, max_age=max_age, clock=clock)

    def claim(self, key: str, fingerprint: str) -> DedupeOutcome:
        """See :meth:`DedupeStore.claim`; one ``BEGIN IMMEDIATE`` transaction (atomic across processes)."""
        with self._write() as db:
            now = self._clock()
            row = db.execute(
                "SELECT fingerprint FROM oct_dedupe_completed WHERE key = ? AND completed_at >= ?",
                (key, now - self._max_age),
            ).fetchone()
            if row is not None and row[0] == fingerprint:
                return "duplicate"
            row = db.execute(
                "SELECT expires_at FROM oct_dedupe_claims WHERE key = ? AND fingerprint = ?", (key, fingerprint)
            ).fetchone()
            if row is not None and row[0] > now:
                return "in_flight"
            db.execute(
                "INSERT OR REPLACE INTO oct_dedupe_claims (key, fingerprint, expires_at) VALUES (?, ?, ?)",
                (key, fingerprint, now + self._claim_ttl),
            )
            return "new"

    def complete(self, key: str, fingerprint: str) -> None:
        """See :meth:`DedupeStore.complete`."""
        with self._write() as db:
            self._complete_in(db, key, fingerprint)
        self._wrote()

    @contextmanager
    def completing(self, delivery: Keyed) -> Iterator[sqlite3.Connection]:
        """Your handler's writes to this database and the completion of ``delivery``, in one transaction.

        Both commit when the block ends, or neither does (the block raised, the process died): a
        redelivery then finds the delivery either done — a duplicate, never handled again — or not done,
        with none of its writes kept. Effectively once, for what the handler keeps in this file. The block
        holds the file's write lock: do the database writes there, nothing slow. ``delivery`` is what a
        consumer or receiver hands your handler (it has ``delivery_key`` and ``fingerprint``).

        >>> import tempfile, pathlib
        >>> from ordercloud_tracking.messages import decode_delivery
        >>> store = SQLiteDedupeStore(pathlib.Path(tempfile.mkdtemp()) / "dedupe.sqlite3")
        >>> delivery = decode_delivery(b'{"OrderID": "o-1", "LineItems": []}')
        >>> store.claim(delivery.delivery_key, delivery.fingerprint)
        'new'
        >>> with store.completing(delivery) as db:
        ...     _ = db.execute("CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY)")
        ...     _ = db.execute("INSERT INTO orders VALUES (?)", (delivery.message.order_id,))
        >>> store.claim(delivery.delivery_key, delivery.fingerprint)
        'duplicate'
        """
        with self._write() as db:
            yield db
            self._complete_in(db, delivery.delivery_key, delivery.fingerprint)
        self._wrote()

    def _complete_in(self, db: sqlite3.Connection, key: str, fingerprint: str) -> None:
        db.execute("DELETE FROM oct_dedupe_claims WHERE key = ? AND fingerprint = ?", (key, fingerprint))
        db.execute(
            "INSERT OR REPLACE INTO oct_dedupe_completed (key, fingerprint, completed_at) VALUES (?, ?, ?)",
            (key, fingerprint, self._clock()),
        )

    def release(self, key: str, fingerprint: str) -> None:
        """See :meth:`DedupeStore.release`."""
        with self._write() as db:
            db.execute("DELETE FROM oct_dedupe_claims WHERE key = ? AND fingerprint = ?", (key, fingerprint))

    def _prune_more(self, db: sqlite3.Connection, now: float) -> None:
        db.execute("DELETE FROM oct_dedupe_claims WHERE expires_at <= ?", (now,))


class SQLiteIdentityLinks(_SQLiteFile, _LinksFromMessages):
    """A durable :class:`IdentityLinks` on a local SQLite file, shared by threads and processes."""

    _schema = """
        CREATE TABLE IF NOT EXISTS oct_identity_links (
            user_id TEXT PRIMARY KEY, anonymous_id TEXT NOT NULL, linked_at REAL NOT NULL);
        CREATE INDEX IF NOT EXISTS oct_identity_linked_at ON oct_identity_links (linked_at);
    """
    _table = "oct_identity_links"
    _stamp = "linked_at"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_entries: int = 1_000_000,
        max_age: float = 365 * _DAY,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(path, max_entries=max_entries, max_age=max_age, clock=clock)

    def link(self, user_id: str, anonymous_id: str) -> None:
        """See :meth:`IdentityLinks.link` (``ValueError`` for an empty ID)."""
        _check_link(user_id, anonymous_id)
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO oct_identity_links (user_id, anonymous_id, linked_at) VALUES (?, ?, ?)",
                (user_id, anonymous_id, self._clock()),
            )
        self._wrote()

    def anonymous_id_for(self, user_id: str) -> str | None:
        """See :meth:`IdentityLinks.anonymous_id_for`."""
        with self._read() as db:
            row = db.execute(
                "SELECT anonymous_id FROM oct_identity_links WHERE user_id = ? AND linked_at >= ?",
                (user_id, self._clock() - self._max_age),
            ).fetchone()
        return str(row[0]) if row is not None else None
