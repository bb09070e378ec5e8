"""Dedupe and identity-link stores: entity-latest-state, claims, expiry, pruning, threads and processes."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ordercloud_tracking import stores
from ordercloud_tracking.messages import Message, parse_message
from ordercloud_tracking.stores import (
    DedupeStore,
    IdentityLinks,
    MemoryDedupeStore,
    MemoryIdentityLinks,
    SQLiteDedupeStore,
    SQLiteIdentityLinks,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    """Read the store's file directly, as another program would."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchall()


MakeDedupe = Callable[..., DedupeStore]
MakeLinks = Callable[..., IdentityLinks]


@pytest.fixture(params=["memory", "sqlite"])
def make_dedupe(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeDedupe]:
    opened: list[SQLiteDedupeStore] = []

    def make(**options: Any) -> DedupeStore:
        if request.param == "memory":
            return MemoryDedupeStore(**options)
        store = SQLiteDedupeStore(tmp_path / "dedupe.db", **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture(params=["memory", "sqlite"])
def make_links(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeLinks]:
    opened: list[SQLiteIdentityLinks] = []

    def make(**options: Any) -> IdentityLinks:
        if request.param == "memory":
            return MemoryIdentityLinks(**options)
        links = SQLiteIdentityLinks(tmp_path / "links.db", **options)
        opened.append(links)
        return links

    yield make
    for links in opened:
        links.close()


def test_public_names() -> None:
    assert stores.__all__ == sorted(stores.__all__)
    for cls in (MemoryDedupeStore, SQLiteDedupeStore):
        assert issubclass(cls, DedupeStore)
    for links_cls in (MemoryIdentityLinks, SQLiteIdentityLinks):
        assert issubclass(links_cls, IdentityLinks)


def test_importing_stores_is_light() -> None:
    code = "import sys, ordercloud_tracking.stores as s; print(sorted({'sqlite3', 'pydantic', 'httpx'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "[]"


# --- dedupe semantics, both stores -------------------------------------------------------------------------


def test_only_a_repeat_of_the_latest_completed_state_is_a_duplicate(make_dedupe: MakeDedupe) -> None:
    store = make_dedupe()
    key = "line:o-1:li-1"
    for fingerprint in ("qty-3", "qty-2"):
        assert store.claim(key, fingerprint) == "new"
        store.complete(key, fingerprint)
        assert store.claim(key, fingerprint) == "duplicate"
    # 3 -> 2 -> 3 is a real change, never dropped.
    assert store.claim(key, "qty-3") == "new"
    store.complete(key, "qty-3")
    assert store.claim(key, "qty-3") == "duplicate"
    assert store.claim(key, "qty-2") == "new"
    # Keys are independent.
    assert store.claim("line:o-1:li-2", "qty-3") == "new"


def test_a_claim_is_in_flight_until_completed_or_released(make_dedupe: MakeDedupe) -> None:
    store = make_dedupe()
    assert store.claim("order:o-1", "f1") == "new"
    assert store.claim("order:o-1", "f1") == "in_flight"
    assert store.claim("order:o-1", "f2") == "new"  # another state of the same entity is not blocked
    store.release("order:o-1", "f1")  # the handler failed: the retry is handled
    assert store.claim("order:o-1", "f1") == "new"
    store.complete("order:o-1", "f1")
    assert store.claim("order:o-1", "f1") == "duplicate"


def test_release_leaves_the_completed_state_alone(make_dedupe: MakeDedupe) -> None:
    store = make_dedupe()
    assert store.claim("order:o-1", "f1") == "new"
    store.complete("order:o-1", "f1")
    assert store.claim("order:o-1", "f2") == "new"
    store.release("order:o-1", "f2")
    assert store.claim("order:o-1", "f1") == "duplicate"
    store.release("never-claimed", "f")  # no error
    assert store.claim("order:o-1", "f2") == "new"


def test_claims_expire_after_claim_ttl(make_dedupe: MakeDedupe) -> None:
    clock = Clock()
    store = make_dedupe(claim_ttl=60.0, clock=clock)
    assert store.claim("order:o-1", "f") == "new"
    clock.advance(59.5)
    assert store.claim("order:o-1", "f") == "in_flight"
    clock.advance(0.5)  # the worker that claimed it crashed: the entity is free again
    assert store.claim("order:o-1", "f") == "new"
    assert store.claim("order:o-1", "f") == "in_flight"


def test_complete_without_a_claim_records_the_state(make_dedupe: MakeDedupe) -> None:
    store = make_dedupe()
    store.complete("order:o-1", "f")
    assert store.claim("order:o-1", "f") == "duplicate"


@pytest.mark.parametrize("option", [{"claim_ttl": 0}, {"claim_ttl": -1.0}])
def test_invalid_claim_ttl(make_dedupe: MakeDedupe, option: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="claim_ttl must be positive"):
        make_dedupe(**option)


def test_threads_racing_get_exactly_one_new_per_state(make_dedupe: MakeDedupe) -> None:
    store = make_dedupe()
    threads, keys = 8, [f"line:o-1:li-{n}" for n in range(150)]
    barrier = threading.Barrier(threads)
    outcomes: list[list[tuple[str, str]]] = [[] for _ in range(threads)]

    def work(index: int) -> None:
        barrier.wait()
        for key in keys:
            outcome = store.claim(key, "f")
            outcomes[index].append((key, outcome))
            if outcome == "new" and index % 2:
                store.complete(key, "f")

    workers = [threading.Thread(target=work, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    news = Counter(key for result in outcomes for key, outcome in result if outcome == "new")
    assert news == dict.fromkeys(keys, 1)
    assert sum(len(result) for result in outcomes) == threads * len(keys)


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["claim", "complete", "release", "wait"]),
        st.sampled_from(["k1", "k2"]),
        st.sampled_from(["f1", "f2", "f3"]),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(operations=OPERATIONS)
def test_both_stores_follow_the_reference_model(operations: list[tuple[str, str, str]]) -> None:
    """Any sequence of calls: both stores answer as a two-dict model of the protocol does."""
    clock, ttl = Clock(), 10.0
    completed: dict[str, str] = {}
    claims: dict[tuple[str, str], float] = {}
    with (
        tempfile.TemporaryDirectory() as folder,
        SQLiteDedupeStore(Path(folder) / "d.db", claim_ttl=ttl, clock=clock) as durable,
    ):
        memory = MemoryDedupeStore(claim_ttl=ttl, clock=clock)
        for operation, key, fingerprint in operations:
            if operation == "wait":
                clock.advance(4.0)
                continue
            if operation == "claim":
                expected: str
                if completed.get(key) == fingerprint:
                    expected = "duplicate"
                elif claims.get((key, fingerprint), -1.0) > clock():
                    expected = "in_flight"
                else:
                    expected = "new"
                    claims[(key, fingerprint)] = clock() + ttl
                assert (memory.claim(key, fingerprint), durable.claim(key, fingerprint)) == (expected, expected)
                continue
            claims.pop((key, fingerprint), None)
            if operation == "complete":
                completed[key] = fingerprint
                memory.complete(key, fingerprint)
                durable.complete(key, fingerprint)
            else:
                memory.release(key, fingerprint)
                durable.release(key, fingerprint)


# --- memory dedupe ---------------------------------------------------------------------------------------


def test_memory_dedupe_keeps_the_most_recently_used_entities() -> None:
    store = MemoryDedupeStore(maxsize=2)
    for key in ("a", "b"):
        store.complete(key, "f")
    assert store.claim("a", "f") == "duplicate"  # "a" is now the most recently used
    store.complete("c", "f")  # evicts "b"
    assert len(store) == 2
    assert store.claim("a", "f") == "duplicate"
    assert store.claim("b", "f") == "new"
    assert (store.maxsize, store.claim_ttl) == (2, 300.0)
    assert repr(store) == "MemoryDedupeStore(maxsize=2, claim_ttl=300.0)"
    with pytest.raises(ValueError, match="maxsize"):
        MemoryDedupeStore(maxsize=0)


def test_memory_dedupe_drops_expired_claims_when_full() -> None:
    clock = Clock()
    store = MemoryDedupeStore(maxsize=3, claim_ttl=10.0, clock=clock)
    for n in range(3):
        assert store.claim(f"crashed-{n}", "f") == "new"  # never completed nor released
    clock.advance(10.0)
    assert store.claim("live", "f") == "new"
    assert set(store._claims) == {("live", "f")}  # the expired claims went; memory stays bounded


# --- SQLite dedupe ---------------------------------------------------------------------------------------


def test_sqlite_dedupe_survives_a_restart(tmp_path: Path) -> None:
    path, clock = tmp_path / "dedupe.db", Clock()
    with SQLiteDedupeStore(path, claim_ttl=60.0, clock=clock) as store:
        assert store.claim("order:o-1", "f") == "new"
        store.complete("order:o-1", "f")
        assert store.claim("line:o-1:li-1", "q3") == "new"  # then the process dies mid-handler
    with SQLiteDedupeStore(path, claim_ttl=60.0, clock=clock) as store:
        assert store.claim("order:o-1", "f") == "duplicate"
        assert store.claim("line:o-1:li-1", "q3") == "in_flight"  # the crashed claim still holds...
        clock.advance(60.0)
        assert store.claim("line:o-1:li-1", "q3") == "new"  # ...until it expires
        assert len(store) == 1
    assert query(path, "PRAGMA journal_mode") == [("wal",)]


@attrs.frozen
class _Keyed:
    delivery_key: str
    fingerprint: str


def test_completing_commits_the_handlers_writes_with_the_completion(tmp_path: Path) -> None:
    path = tmp_path / "dedupe.db"
    delivery = _Keyed("order:o-1", "f1")
    with SQLiteDedupeStore(path) as store:
        assert store.claim(delivery.delivery_key, delivery.fingerprint) == "new"
        with store.completing(delivery) as db:
            db.execute("CREATE TABLE orders (id TEXT PRIMARY KEY)")
            db.execute("INSERT INTO orders VALUES ('o-1')")
            assert query(path, "SELECT count(*) FROM oct_dedupe_completed") == [(0,)]  # not committed yet
        assert store.claim(delivery.delivery_key, delivery.fingerprint) == "duplicate"
    assert query(path, "SELECT id FROM orders") == [("o-1",)]
    assert query(path, "SELECT count(*) FROM oct_dedupe_claims") == [(0,)]


def test_a_completing_block_that_raises_keeps_neither_its_writes_nor_the_completion(tmp_path: Path) -> None:
    path = tmp_path / "dedupe.db"
    delivery = _Keyed("order:o-1", "f1")
    with SQLiteDedupeStore(path) as store:
        with store.completing(delivery) as db:
            db.execute("CREATE TABLE orders (id TEXT PRIMARY KEY)")
        assert store.claim(delivery.delivery_key, delivery.fingerprint) == "duplicate"
        retry = _Keyed("order:o-1", "f2")
        assert store.claim(retry.delivery_key, retry.fingerprint) == "new"

        def handler_failing_after_its_write() -> None:
            with store.completing(retry) as db:
                db.execute("INSERT INTO orders VALUES ('o-1')")
                raise RuntimeError("the handler failed after writing")

        with pytest.raises(RuntimeError):
            handler_failing_after_its_write()
        assert store.claim(retry.delivery_key, retry.fingerprint) == "in_flight"  # the claim is still the caller's
        store.release(retry.delivery_key, retry.fingerprint)
        assert store.claim(retry.delivery_key, retry.fingerprint) == "new"  # handled again, from scratch
    assert query(path, "SELECT count(*) FROM orders") == [(0,)]


def test_a_process_killed_inside_completing_keeps_neither_its_writes_nor_the_completion(tmp_path: Path) -> None:
    path = tmp_path / "dedupe.db"
    with SQLiteDedupeStore(path) as store, store.completing(_Keyed("setup", "f")) as db:
        db.execute("CREATE TABLE orders (id TEXT PRIMARY KEY)")
    child = (
        "import os, signal, sys\n"
        "from ordercloud_tracking.stores import SQLiteDedupeStore\n"
        "class D:\n    delivery_key = 'order:o-1'\n    fingerprint = 'f1'\n"
        "store = SQLiteDedupeStore(sys.argv[1])\n"
        "with store.completing(D()) as db:\n"
        "    db.execute(\"INSERT INTO orders VALUES ('o-1')\")\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", child, str(path)], capture_output=True, check=False)  # noqa: S603
    assert done.returncode == -9, done.stderr
    with SQLiteDedupeStore(path) as store:
        assert store.claim("order:o-1", "f1") == "new"  # not done: the redelivery is handled
    assert query(path, "SELECT count(*) FROM orders") == [(0,)]  # and nothing of the first attempt was kept


def test_sqlite_dedupe_is_pruned_by_count_as_it_goes(tmp_path: Path) -> None:
    clock = Clock()
    with SQLiteDedupeStore(tmp_path / "d.db", max_entries=10, clock=clock) as store:
        for n in range(25):
            clock.advance(1.0)
            store.complete(f"k{n}", "f")
        assert len(store) == 10
        assert [store.claim(f"k{n}", "f") for n in (14, 15, 24)] == ["new", "duplicate", "duplicate"]
        assert store.max_entries == 10


def test_sqlite_dedupe_prunes_by_count_within_a_tenth(tmp_path: Path) -> None:
    clock = Clock()
    with SQLiteDedupeStore(tmp_path / "d.db", max_entries=100, clock=clock) as store:
        for n in range(250):
            clock.advance(1.0)
            store.complete(f"k{n}", "f")
        assert 100 <= len(store) <= 110
        store.prune()
        assert len(store) == 100
        assert store.claim("k149", "f") == "new"
        assert store.claim("k150", "f") == "duplicate"


def test_sqlite_dedupe_is_pruned_by_age(tmp_path: Path) -> None:
    path, clock = tmp_path / "d.db", Clock()
    with SQLiteDedupeStore(path, max_age=100.0, claim_ttl=5.0, clock=clock) as store:
        store.complete("old", "f")
        clock.advance(60.0)
        store.complete("recent", "f")
        assert store.claim("crashed", "f") == "new"
        clock.advance(50.0)
        assert store.claim("old", "f") == "new"  # too old to count, even before it is pruned
        store.release("old", "f")
        store.prune()
        assert store.claim("old", "f") == "new"
        assert store.claim("recent", "f") == "duplicate"
        assert store.max_age == 100.0
    # Expired claims are pruned too (only the unexpired "old" claim is left), and opening prunes.
    claims = query(path, "SELECT key FROM oct_dedupe_claims")
    assert claims == [("old",)]
    clock.advance(100.0)
    with SQLiteDedupeStore(path, max_age=100.0, clock=clock) as store:
        assert len(store) == 0


def test_sqlite_store_close_and_misuse(tmp_path: Path) -> None:
    store = SQLiteDedupeStore(tmp_path / "d.db")
    assert repr(store) == f"SQLiteDedupeStore({str(tmp_path / 'd.db')!r}, max_entries=1000000, max_age=604800.0)"
    assert store.path == str(tmp_path / "d.db")
    assert store.claim_ttl == 300.0
    store.close()
    store.close()  # idempotent
    with pytest.raises(ValueError, match="SQLiteDedupeStore is closed"):
        store.claim("k", "f")
    with pytest.raises(ValueError, match="max_entries"):
        SQLiteDedupeStore(tmp_path / "d.db", max_entries=0)
    with pytest.raises(ValueError, match="max_age must be positive"):
        SQLiteDedupeStore(tmp_path / "d.db", max_age=0)
    with pytest.raises(sqlite3.OperationalError):
        SQLiteDedupeStore(tmp_path / "no-such-dir" / "d.db")


def test_opening_a_new_file_waits_for_another_process_creating_it(tmp_path: Path) -> None:
    # Another process holds the fresh file's write lock before it is in WAL mode: SQLite refuses the
    # switch to WAL at once ("database is locked", no busy timeout), so opening must retry.
    path = tmp_path / "d.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE other_table (x)")
    release = threading.Timer(0.2, other.execute, ("COMMIT",))
    release.start()
    try:
        with SQLiteDedupeStore(path) as store:
            assert store.claim("k", "f") == "new"
    finally:
        release.join()
        other.close()
    assert query(path, "PRAGMA journal_mode") == [("wal",)]


def test_dedupe_and_links_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    with SQLiteDedupeStore(path) as store, SQLiteIdentityLinks(path) as links:
        store.complete("order:o-1", "f")
        links.link("buyer01", "7c9e")
    with SQLiteDedupeStore(path) as store, SQLiteIdentityLinks(path) as links:
        assert store.claim("order:o-1", "f") == "duplicate"
        assert links.anonymous_id_for("buyer01") == "7c9e"
        assert (len(store), len(links)) == (1, 1)


def test_a_batch_is_one_transaction(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    with SQLiteDedupeStore(path) as store, SQLiteDedupeStore(path) as other:
        with store.batch():
            assert [store.claim(key, "f") for key in ("a", "b", "a")] == ["new", "new", "in_flight"]
            store.complete("a", "f")
            with store.batch():  # joins the outer batch
                assert store.claim("a", "f") == "duplicate"
        assert other.claim("a", "f") == "duplicate"
        assert other.claim("b", "f") == "in_flight"

        def failing_batch() -> None:
            with store.batch():
                assert store.claim("c", "f") == "new"
                store.complete("b", "f")
                raise RuntimeError("handler crashed")

        with pytest.raises(RuntimeError, match="handler crashed"):
            failing_batch()
        # Everything in the failed batch was undone.
        assert other.claim("c", "f") == "new"
        assert other.claim("b", "f") == "in_flight"
        assert store.claim("d", "f") == "new"  # and the store works on


def test_a_thread_calling_during_a_batch_sees_its_result(tmp_path: Path) -> None:
    with SQLiteDedupeStore(tmp_path / "d.db") as store:
        outcome: list[str] = []
        worker = threading.Thread(target=lambda: outcome.append(store.claim("k", "f")))
        with store.batch():
            assert store.claim("k", "f") == "new"
            worker.start()
        worker.join()
        assert outcome == ["in_flight"]


def test_links_in_a_batch(tmp_path: Path) -> None:
    with SQLiteIdentityLinks(tmp_path / "l.db") as links:
        with links.batch():
            for n in range(20):
                links.learn(parse_message({"UserContext": {"ID": f"u{n}", "AnonymousId": f"a{n}"}, "OrderID": "o"}))
        assert [links.anonymous_id_for(f"u{n}") for n in (0, 19)] == ["a0", "a19"]


FORKER = """
import os, sys
from ordercloud_tracking.stores import SQLiteDedupeStore

path = sys.argv[1]
store = SQLiteDedupeStore(path)
store.complete("before-fork", "f")
read_end, write_end = os.pipe()
pid = os.fork()
if pid == 0:  # the child waits until the parent has closed its connection, then uses the inherited store
    code = 1
    try:
        os.read(read_end, 1)
        if store.claim("before-fork", "f") == "duplicate" and store.claim("child", "f") == "new":
            store.complete("child", "f")
            code = 0
    finally:
        os._exit(code)
store.close()  # the parent's last connection: SQLite checkpoints and removes the WAL
os.write(write_end, b"x")
_, status = os.waitpid(pid, 0)
with SQLiteDedupeStore(path) as again:
    print(os.waitstatus_to_exitcode(status), again.claim("child", "f"))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_store_opened_before_fork_reconnects_in_the_child(tmp_path: Path) -> None:
    # In a fresh interpreter: forking the (threaded) test process itself would be unsafe.
    out = subprocess.run(  # noqa: S603 - this interpreter on a fixed script
        [sys.executable, "-c", FORKER, str(tmp_path / "d.db")], capture_output=True, text=True, check=True, timeout=60
    )
    # Used as is, the parent's connection would write to a WAL its parent already removed: lost.
    assert out.stdout.split() == ["0", "duplicate"]


# --- processes sharing one file --------------------------------------------------------------------------

RACER = """
import json, sys
from ordercloud_tracking.stores import SQLiteDedupeStore

path, index, keys, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])


def claim(store, n):
    outcomes = []
    for fingerprint in ("f1", "f2"):
        outcome = store.claim(f"line:o-1:li-{n}", fingerprint)
        outcomes.append([n, fingerprint, outcome])
        # Only f1 is ever completed: were f2 completed too, f1 after f2 would be a real change (new again).
        if outcome == "new" and fingerprint == "f1" and (n + index) % 3:
            store.complete(f"line:o-1:li-{n}", fingerprint)
    return outcomes


with SQLiteDedupeStore(path) as store:
    print("ready", flush=True)
    sys.stdin.readline()  # every process starts claiming at once
    outcomes = []
    for start in range(0, keys, batch or 1):
        if batch:
            with store.batch():
                for n in range(start, start + batch):
                    outcomes += claim(store, n)
        else:
            outcomes += claim(store, start)
print(json.dumps(outcomes))
"""


@pytest.mark.parametrize("batch", [0, 10], ids=["one-by-one", "batches"])
def test_processes_racing_on_one_file_get_exactly_one_new_per_state(tmp_path: Path, batch: int) -> None:
    path, processes, keys = str(tmp_path / "shared.db"), 4, 120
    results = []
    with contextlib.ExitStack() as stack:
        racers = [
            stack.enter_context(
                subprocess.Popen(  # noqa: S603 - this interpreter on a fixed script
                    [sys.executable, "-c", RACER, path, str(index), str(keys), str(batch)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
            for index in range(processes)
        ]
        for racer in racers:
            stack.callback(racer.kill)  # on a failure, nothing is left running (a no-op after exit)
        for racer in racers:  # every process has opened the fresh file (at about the same moment)
            assert racer.stdout is not None
            assert racer.stdout.readline().strip() == "ready"
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.write("go\n")
            racer.stdin.flush()
        for racer in racers:
            out, _ = racer.communicate(timeout=120)
            assert racer.returncode == 0
            results.append(json.loads(out))
    news = Counter((n, fingerprint) for result in results for n, fingerprint, outcome in result if outcome == "new")
    assert news == {(n, fingerprint): 1 for n in range(keys) for fingerprint in ("f1", "f2")}
    others = Counter(outcome for result in results for _, _, outcome in result if outcome != "new")
    assert set(others) <= {"in_flight", "duplicate"}
    assert sum(others.values()) == (processes - 1) * keys * 2


LINKER = """
import sys
from ordercloud_tracking.messages import parse_message
from ordercloud_tracking.stores import SQLiteIdentityLinks

with SQLiteIdentityLinks(sys.argv[1]) as links:
    if sys.argv[2] == "learn":
        links.learn(parse_message({"UserContext": {"ID": "buyer01", "AnonymousId": "7c9e"}, "OrderId": "o-1",
                                   "LineItem": {"LineID": "li-1"}}))
    else:
        print(links.anonymous_id_for(sys.argv[2]))
"""


def test_links_learned_in_one_process_are_seen_in_another(tmp_path: Path) -> None:
    path = str(tmp_path / "links.db")

    def run(*args: str) -> str:
        out = subprocess.run(  # noqa: S603 - this interpreter on a fixed script
            [sys.executable, "-c", LINKER, path, *args], capture_output=True, text=True, check=True, timeout=60
        )
        return out.stdout.strip()

    with SQLiteIdentityLinks(path) as links:
        assert run("learn") == ""
        assert links.anonymous_id_for("buyer01") == "7c9e"  # this connection was open all along
        links.link("buyer02", "a1b2")
        assert run("buyer02") == "a1b2"
        assert run("nobody") == "None"


# --- identity links, both stores -------------------------------------------------------------------------

BOTH = {"ID": "buyer01", "AnonymousId": "7c9e"}


@pytest.mark.parametrize(
    "body",
    [
        {"UserContext": BOTH, "Email": "jane@example.com", "FirstName": "Jane"},
        {"UserContext": BOTH, "OrderId": "o-1", "LineItem": {"LineID": "li-1"}},
        {"UserContext": BOTH, "OrderID": "o-1", "LineItems": []},
        {"EventType": "sitecore.ordercloud.messages.orders.submitted", "Message": {"UserContext": BOTH}},
    ],
    ids=["session", "line", "order", "wrapped"],
)
def test_links_are_learned_from_every_message_carrying_both_ids(make_links: MakeLinks, body: dict[str, Any]) -> None:
    links = make_links()
    links.learn(parse_message(body))
    assert links.anonymous_id_for("buyer01") == "7c9e"


@pytest.mark.parametrize(
    "body",
    [
        {"UserContext": {"ID": "buyer01"}, "Email": "jane@example.com", "FirstName": "Jane"},
        {"UserContext": {"AnonymousId": "7c9e"}, "OrderId": "o-1", "LineItem": {}},
        {"UserContext": {"ID": "buyer01", "AnonymousId": ""}, "OrderID": "o-1"},
        {"OrderID": "o-1", "LineItems": []},
        {"EventType": "LineItemDeleted", "Message": {"UserContext": BOTH}},
    ],
    ids=["user-only", "anonymous-only", "empty-anonymous", "no-context", "unknown"],
)
def test_messages_without_both_ids_teach_nothing(make_links: MakeLinks, body: dict[str, Any]) -> None:
    links = make_links()
    links.link("buyer01", "before")
    message: Message = parse_message(body)
    links.learn(message)
    assert links.anonymous_id_for("buyer01") == "before"


def test_the_latest_link_wins(make_links: MakeLinks) -> None:
    links = make_links()
    links.link("buyer01", "laptop")
    links.learn(parse_message({"UserContext": {"ID": "buyer01", "AnonymousId": "phone"}, "OrderID": "o-1"}))
    assert links.anonymous_id_for("buyer01") == "phone"
    links.link("buyer01", "laptop")
    assert links.anonymous_id_for("buyer01") == "laptop"
    assert links.anonymous_id_for("buyer02") is None


@pytest.mark.parametrize(("user_id", "anonymous_id"), [("", "a"), ("u", ""), (None, "a")])
def test_link_needs_both_ids(make_links: MakeLinks, user_id: Any, anonymous_id: str) -> None:
    with pytest.raises(ValueError, match="non-empty strings"):
        make_links().link(user_id, anonymous_id)


def test_memory_links_keep_the_most_recently_used_users() -> None:
    links = MemoryIdentityLinks(maxsize=2)
    links.link("u1", "a1")
    links.link("u2", "a2")
    assert links.anonymous_id_for("u1") == "a1"  # "u1" is now the most recently used
    links.link("u3", "a3")  # evicts "u2"
    assert (links.anonymous_id_for("u1"), links.anonymous_id_for("u2"), len(links)) == ("a1", None, 2)
    assert repr(links) == "MemoryIdentityLinks(maxsize=2)"
    with pytest.raises(ValueError, match="maxsize"):
        MemoryIdentityLinks(maxsize=0)


def test_sqlite_links_are_pruned_by_count_and_age(tmp_path: Path) -> None:
    clock = Clock()
    with SQLiteIdentityLinks(tmp_path / "l.db", max_entries=5, max_age=1000.0, clock=clock) as links:
        for n in range(8):
            clock.advance(1.0)
            links.link(f"u{n}", f"a{n}")
        assert len(links) == 5
        assert [links.anonymous_id_for(f"u{n}") for n in (2, 3)] == [None, "a3"]
        clock.advance(996.5)  # u3 was linked 1000.5 s ago, u4 999.5 s ago
        assert len(links) == 5
        assert [links.anonymous_id_for(f"u{n}") for n in (3, 4)] == [None, "a4"]  # even before it is pruned
        links.prune()
        assert len(links) == 4
        assert [links.anonymous_id_for(f"u{n}") for n in (3, 4)] == [None, "a4"]
    assert repr(links).startswith("SQLiteIdentityLinks(")


def test_sqlite_links_from_threads(tmp_path: Path) -> None:
    with SQLiteIdentityLinks(tmp_path / "l.db") as links:
        barrier = threading.Barrier(6)
        read: list[str | None] = []

        def work(index: int) -> None:
            barrier.wait()
            for n in range(50):
                links.link(f"u{index}-{n}", f"a{index}-{n}")
                read.append(links.anonymous_id_for(f"u{index}-{n}"))

        workers = [threading.Thread(target=work, args=(index,)) for index in range(6)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert len(links) == 300
        assert sorted(read, key=str) == sorted((f"a{i}-{n}" for i in range(6) for n in range(50)), key=str)
