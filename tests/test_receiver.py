"""Receiving deliveries: x-oc-hash, Receiver.parse, dedupe, and the ASGI / WSGI endpoints."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import doctest
import hashlib
import hmac
import json
import logging
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from io import BytesIO
from typing import Any, NoReturn
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from ordercloud_tracking import receiver as receiver_module
from ordercloud_tracking import stores
from ordercloud_tracking._errors import (
    InvalidPayloadError,
    PayloadTooLargeError,
    ServiceUnavailableError,
    SignatureVerificationError,
)
from ordercloud_tracking.messages import (
    OrderLineAdded,
    OrderLineUpdated,
    OrderSubmitted,
    SessionIdentified,
    UnknownMessage,
)
from ordercloud_tracking.models.tracking import TrackingEventType
from ordercloud_tracking.receiver import (
    DEFAULT_MAX_BODY_BYTES,
    ASGIApp,
    DedupeStore,
    Delivery,
    Headers,
    MemoryDedupeStore,
    Receiver,
    WSGIApp,
    asgi_app,
    sign_payload,
    verify_signature,
    wsgi_app,
)
from ordercloud_tracking.stores import DedupeOutcome
from tests.test_messages import check_public_docstrings

SECRET = "s3cr3t-Value-XYZ"
OTHER_SECRET = "0ld-s3cr3t-ABC"
CUSTOM_VALUE = "hdr-Secret-QRS"
VECTOR_BODY = b'{"OrderID":"o-1001","OrderTotal":42.5}'
VECTOR_HASH = "zOWwGJhoV6yR+EimF1ylDFa7C/326QmR4VW6qDYNYDs="
ORDER = json.dumps({"OrderID": "o-1", "OrderTotal": 10, "LineItems": [{"LineID": "li-1", "Quantity": 1}]}).encode()


def signed(body: bytes, secret: str = SECRET, **extra: str) -> dict[str, str]:
    return {"X-OC-Hash": sign_payload(body, secret), **extra}


# --- module hygiene ---------------------------------------------------------------------------------------


def test_doctests() -> None:
    result = doctest.testmod(receiver_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_all_is_sorted_and_documented() -> None:
    assert receiver_module.__all__ == sorted(receiver_module.__all__)
    check_public_docstrings(receiver_module, reader_starts={"Receiver", "asgi_app", "wsgi_app"})
    for name in receiver_module.__all__:
        assert hasattr(receiver_module, name)


# --- signatures --------------------------------------------------------------------------------------------


def test_reference_vector() -> None:
    assert sign_payload(VECTOR_BODY, "example-secret") == VECTOR_HASH
    assert verify_signature(VECTOR_BODY, VECTOR_HASH, "example-secret")
    assert verify_signature(VECTOR_BODY, VECTOR_HASH.encode(), b"example-secret")
    assert verify_signature(VECTOR_BODY, VECTOR_HASH, SecretStr("example-secret"))
    spaced = b'{"OrderID": "o-1001", "OrderTotal": 42.5}'
    assert sign_payload(spaced, "example-secret") == "cxRp5P7I+34JWx3Jv0/KB6pOMHi0vfqEQP77YONU9VU="
    assert not verify_signature(spaced, VECTOR_HASH, "example-secret")


def test_reordered_json_does_not_verify() -> None:
    reordered = b'{"OrderTotal":42.5,"OrderID":"o-1001"}'
    assert json.loads(reordered) == json.loads(VECTOR_BODY)
    assert not verify_signature(reordered, VECTOR_HASH, "example-secret")


@given(body=st.binary(max_size=2048), secret=st.text(min_size=1, max_size=50))
def test_sign_verify_round_trip(body: bytes, secret: str) -> None:
    signature = sign_payload(body, secret)
    assert len(base64.b64decode(signature, validate=True)) == 32
    assert verify_signature(body, signature, secret)
    assert verify_signature(bytearray(body), signature, secret)
    assert verify_signature(body, f"  {signature}\r\n", secret)  # header whitespace is tolerated


@given(body=st.binary(min_size=1, max_size=512), data=st.data())
def test_single_byte_flips_fail(body: bytes, data: st.DataObject) -> None:
    signature = sign_payload(body, SECRET)
    index = data.draw(st.integers(0, len(body) - 1))
    mask = data.draw(st.integers(1, 255))
    flipped = bytearray(body)
    flipped[index] ^= mask
    assert not verify_signature(bytes(flipped), signature, SECRET)


@given(body=st.binary(max_size=512), secret=st.text(min_size=1, max_size=20), other=st.text(min_size=1, max_size=20))
def test_wrong_key_fails(body: bytes, secret: str, other: str) -> None:
    if secret != other:
        assert not verify_signature(body, sign_payload(body, secret), other)


@pytest.mark.parametrize(
    "signature",
    [None, "", "   ", "%%%", "not base64!", "YWJj", VECTOR_HASH[:-1], VECTOR_HASH + "AA==", "é" * 44, b"\xff\xfe", 42],
)
def test_missing_or_malformed_signature_is_false(signature: Any) -> None:
    assert verify_signature(VECTOR_BODY, signature, "example-secret") is False


def test_empty_secret_never_verifies() -> None:
    assert verify_signature(b"{}", sign_payload(b"{}", ""), "") is False


@pytest.mark.parametrize("body", [{"OrderID": "o"}, '{"OrderID":"o"}', 3])
def test_non_bytes_bodies_are_a_type_error(body: Any) -> None:
    with pytest.raises(TypeError, match="raw body bytes"):
        sign_payload(body, SECRET)
    with pytest.raises(TypeError, match="raw body bytes"):
        verify_signature(body, VECTOR_HASH, SECRET)
    with pytest.raises(TypeError, match="raw body bytes"):
        Receiver(SECRET).parse(body, {})


# --- Receiver.parse ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"X-OC-Hash": sign_payload(ORDER, SECRET)},
        {"x-oc-hash": sign_payload(ORDER, SECRET)},
        {"X-OC-HASH": sign_payload(ORDER, SECRET)},
        [("Content-Type", "application/json"), ("x-Oc-Hash", sign_payload(ORDER, SECRET))],
        [(b"content-type", b"application/json"), (b"x-oc-hash", sign_payload(ORDER, SECRET).encode())],
    ],
)
def test_parse_with_any_header_form(headers: Headers) -> None:
    delivery = Receiver(SECRET).parse(ORDER, headers)
    assert isinstance(delivery.message, OrderSubmitted)
    assert delivery.event_type is TrackingEventType.ORDER_SUBMITTED
    assert delivery.duplicate is False
    assert delivery.delivery_key == "order:o-1"
    assert delivery.fingerprint == hashlib.sha256(ORDER).hexdigest()


def test_delivery_is_frozen_attrs() -> None:
    delivery = Receiver(SECRET).parse(ORDER, signed(ORDER))
    assert attrs.has(Delivery)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        delivery.duplicate = True  # type: ignore[misc]


def test_missing_and_wrong_signature() -> None:
    receiver = Receiver(SECRET)
    for headers in ({}, {"x-oc-hash": ""}, {"x-oc-hash": "  "}, [("other", "x")]):
        with pytest.raises(SignatureVerificationError) as missing:
            receiver.parse(ORDER, headers)
        assert missing.value.missing is True
    for bad in ("%%%", sign_payload(ORDER, "other"), sign_payload(ORDER + b" ", SECRET)):
        with pytest.raises(SignatureVerificationError) as wrong:
            receiver.parse(ORDER, {"x-oc-hash": bad})
        assert wrong.value.missing is False


def test_rotation_accepts_every_configured_secret() -> None:
    receiver = Receiver([SECRET, SecretStr(OTHER_SECRET), b"third"])
    for secret in (SECRET, OTHER_SECRET, "third"):
        assert isinstance(receiver.parse(ORDER, signed(ORDER, secret)).message, OrderSubmitted)
    with pytest.raises(SignatureVerificationError):
        Receiver([SECRET]).parse(ORDER, signed(ORDER, OTHER_SECRET))


def test_custom_auth_header() -> None:
    receiver = Receiver(SECRET, custom_auth_header=("X-Api-Key", SecretStr(CUSTOM_VALUE)), dedupe=None)
    ok = receiver.parse(ORDER, signed(ORDER, **{"x-api-key": CUSTOM_VALUE}))
    assert isinstance(ok.message, OrderSubmitted)
    raw = [(b"x-oc-hash", sign_payload(ORDER, SECRET).encode()), (b"X-API-KEY", CUSTOM_VALUE.encode())]
    assert isinstance(receiver.parse(ORDER, raw).message, OrderSubmitted)
    with pytest.raises(SignatureVerificationError) as missing:
        receiver.parse(ORDER, signed(ORDER))
    assert missing.value.missing is True
    with pytest.raises(SignatureVerificationError) as wrong:
        receiver.parse(ORDER, signed(ORDER, **{"X-Api-Key": CUSTOM_VALUE + "x"}))
    assert wrong.value.missing is False
    # the signature is checked first
    with pytest.raises(SignatureVerificationError, match="x-oc-hash"):
        receiver.parse(ORDER, {"x-oc-hash": "bad", "x-api-key": CUSTOM_VALUE})


def test_custom_auth_header_with_non_ascii_value() -> None:
    receiver = Receiver(SECRET, custom_auth_header=("X-Key", "clé"), dedupe=None)
    as_text = signed(ORDER, **{"X-Key": "clé"})
    as_latin1 = [(b"x-oc-hash", sign_payload(ORDER, SECRET).encode()), (b"x-key", "clé".encode())]
    assert receiver.parse(ORDER, as_text).message is not None
    assert receiver.parse(ORDER, as_latin1).message is not None


def test_invalid_json_after_a_valid_signature() -> None:
    body = b"not json"
    with pytest.raises(InvalidPayloadError):
        Receiver(SECRET).parse(body, signed(body))
    unknown = Receiver(SECRET).parse(b'{"hello": 1}', signed(b'{"hello": 1}'))
    assert isinstance(unknown.message, UnknownMessage)
    assert unknown.event_type is None


def test_size_limit_is_checked_before_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("hashing reached")

    receiver = Receiver(SECRET, max_body_bytes=16)
    monkeypatch.setattr(hmac, "digest", boom)
    monkeypatch.setattr(hmac, "new", boom)
    monkeypatch.setattr(hashlib, "sha256", boom)
    big = b"x" * 17
    with pytest.raises(PayloadTooLargeError) as info:
        receiver.parse(big, {"x-oc-hash": VECTOR_HASH})
    assert (info.value.size, info.value.limit) == (17, 16)
    with pytest.raises(PayloadTooLargeError):
        receiver.parse(memoryview(big), {})  # even before looking for the signature
    with pytest.raises(AssertionError, match="hashing reached"):  # the patch is effective
        receiver.parse(b"x" * 16, {"x-oc-hash": VECTOR_HASH})


def test_body_at_the_limit_is_accepted() -> None:
    assert len(ORDER) > 16
    receiver = Receiver(SECRET, max_body_bytes=len(ORDER))
    assert isinstance(receiver.parse(ORDER, signed(ORDER)).message, OrderSubmitted)
    assert Receiver(SECRET).max_body_bytes == DEFAULT_MAX_BODY_BYTES == 1024 * 1024


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="non-empty secret"):
        Receiver("")
    with pytest.raises(ValueError, match="non-empty secret"):
        Receiver([])
    with pytest.raises(ValueError, match="non-empty secret"):
        Receiver([SECRET, ""])
    with pytest.raises(TypeError):
        Receiver(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_body_bytes"):
        Receiver(SECRET, max_body_bytes=0)
    with pytest.raises(ValueError, match="custom_auth_header"):
        Receiver(SECRET, custom_auth_header=("X-Key", ""))
    with pytest.raises(TypeError, match="dedupe"):
        Receiver(SECRET, dedupe="redis")  # type: ignore[arg-type]


# --- secrets never leak -------------------------------------------------------------------------------------


def test_secrets_are_not_in_repr_or_errors() -> None:
    receiver = Receiver([SECRET, OTHER_SECRET], custom_auth_header=("X-Api-Key", CUSTOM_VALUE))
    texts = [repr(receiver), str(receiver)]
    attempts: list[tuple[bytes, Headers]] = [
        (ORDER, {}),
        (ORDER, {"x-oc-hash": "bad"}),
        (ORDER, signed(ORDER)),
        (ORDER, signed(ORDER, **{"x-api-key": "guess"})),
        (b"x" * (DEFAULT_MAX_BODY_BYTES + 1), {}),
        (b"nope", signed(b"nope", **{"x-api-key": CUSTOM_VALUE})),
    ]
    for body, headers in attempts:
        with pytest.raises((SignatureVerificationError, PayloadTooLargeError, InvalidPayloadError)) as info:
            receiver.parse(body, headers)
        texts += [str(info.value), repr(info.value), repr(info.value.args)]
    for bad_secret in ("", [SECRET, ""]):
        with pytest.raises(ValueError, match="secret") as error:
            Receiver(bad_secret)
        texts.append(str(error.value))
    for text in texts:
        for secret in (SECRET, OTHER_SECRET, CUSTOM_VALUE):
            assert secret not in text
    assert "x-api-key" in repr(receiver).lower()


# --- dedupe -------------------------------------------------------------------------------------------------


def test_a_delivery_is_seen_only_once_completed() -> None:
    receiver = Receiver(SECRET)
    first = receiver.parse(ORDER, signed(ORDER))
    assert first.outcome == "new"
    second = receiver.parse(ORDER, signed(ORDER))  # the first is still being handled
    assert (second.outcome, second.in_flight, second.duplicate) == ("in_flight", True, False)
    assert first.delivery_key == second.delivery_key == "order:o-1"
    receiver.complete(second)  # not the claim holder: nothing happens
    assert receiver.parse(ORDER, signed(ORDER)).in_flight
    receiver.complete(first)
    third = receiver.parse(ORDER, signed(ORDER))
    assert (third.outcome, third.duplicate) == ("duplicate", True)
    receiver.release(third)  # a duplicate holds no claim: the completed state stays
    assert receiver.parse(ORDER, signed(ORDER)).duplicate


def test_a_released_delivery_is_processed_again() -> None:
    receiver = Receiver(SECRET)
    receiver.release(receiver.parse(ORDER, signed(ORDER)))
    again = receiver.parse(ORDER, signed(ORDER))
    assert again.outcome == "new"
    receiver.forget(again)  # the former name of release
    assert receiver.parse(ORDER, signed(ORDER)).outcome == "new"


def _line(quantity: int, line_id: str = "li-1") -> bytes:
    return json.dumps(
        {"UserContext": {"AnonymousId": "b-1"}, "OrderId": "o-1", "LineItem": {"LineID": line_id, "Quantity": quantity}}
    ).encode()


def _handled(receiver: Receiver, body: bytes, **kwargs: Any) -> Delivery:
    delivery = receiver.parse(body, signed(body), **kwargs)
    receiver.complete(delivery)
    return delivery


def test_a_real_change_back_to_an_earlier_state_is_not_a_duplicate() -> None:
    # A line set to 3, then 2, then 3 again sends the same body twice; the third is a real event.
    receiver = Receiver(SECRET)
    results = [_handled(receiver, body).outcome for body in (_line(3), _line(2), _line(3))]
    assert results == ["new", "new", "new"]
    assert receiver.parse(_line(3), signed(_line(3))).duplicate is True  # a redelivery of the latest state
    assert receiver.parse(_line(3, "li-2"), signed(_line(3, "li-2"))).duplicate is False  # another line


def test_line_added_and_updated_share_their_entity() -> None:
    receiver = Receiver(SECRET)
    body = _line(2)
    added = receiver.parse(body, signed(body), event_type="LineItemAdded")
    updated = receiver.parse(body, signed(body), event_type=TrackingEventType.LINE_ITEM_UPDATED)
    assert added.delivery_key == updated.delivery_key == "line:o-1:li-1"
    assert type(updated.message).__name__ == "OrderLineUpdated"
    assert updated.event_type is TrackingEventType.LINE_ITEM_UPDATED


def test_envelope_id_is_the_delivery_key() -> None:
    receiver = Receiver(SECRET)
    one = json.dumps({"MessageId": "m-1", "EventType": "UserLoggedIn", "Message": {"FirstName": "A"}}).encode()
    again = json.dumps({"Message": {"FirstName": "A"}, "EventType": "UserLoggedIn", "MessageId": "m-1"}).encode()
    first = _handled(receiver, one)
    assert isinstance(first.message, SessionIdentified)
    assert first.delivery_key == "m-1"
    assert receiver.parse(again, signed(again)).duplicate is True  # same ID, different bytes


def test_dedupe_can_be_turned_off() -> None:
    receiver = Receiver(SECRET, dedupe=None)
    assert receiver.dedupe is None
    first = receiver.parse(ORDER, signed(ORDER))
    assert first.outcome == "new"
    receiver.complete(first)  # nothing to record: no error
    assert receiver.parse(ORDER, signed(ORDER)).outcome == "new"
    receiver.release(first)


class RecordingStore:
    def __init__(self) -> None:
        self.inner = MemoryDedupeStore()
        self.calls: list[tuple[str, str]] = []

    def claim(self, key: str, fingerprint: str) -> DedupeOutcome:
        self.calls.append(("claim", key))
        return self.inner.claim(key, fingerprint)

    def complete(self, key: str, fingerprint: str) -> None:
        self.calls.append(("complete", key))
        self.inner.complete(key, fingerprint)

    def release(self, key: str, fingerprint: str) -> None:
        self.calls.append(("release", key))
        self.inner.release(key, fingerprint)


def test_custom_dedupe_store() -> None:
    store = RecordingStore()
    assert isinstance(store, DedupeStore)
    receiver = Receiver(SECRET, dedupe=store)
    delivery = receiver.parse(ORDER, signed(ORDER))
    receiver.release(delivery)
    receiver.complete(receiver.parse(ORDER, signed(ORDER)))
    key = delivery.delivery_key
    assert store.calls == [("claim", key), ("release", key), ("claim", key), ("complete", key)]
    with pytest.raises(SignatureVerificationError):
        receiver.parse(ORDER, {"x-oc-hash": "bad"})
    assert len(store.calls) == 4  # unauthenticated bodies never reach the store


def test_the_old_seen_forget_protocol_is_not_a_dedupe_store() -> None:
    class OldStore:
        def seen(self, key: str, fingerprint: str) -> bool:
            return False

        def forget(self, key: str, fingerprint: str) -> None:
            pass

    assert not isinstance(OldStore(), DedupeStore)
    with pytest.raises(TypeError, match="dedupe"):
        Receiver(SECRET, dedupe=OldStore())  # type: ignore[arg-type]  # the point of the test


def test_receiver_reexports_the_stores() -> None:
    assert receiver_module.DedupeStore is stores.DedupeStore
    assert receiver_module.MemoryDedupeStore is stores.MemoryDedupeStore


def test_memory_store_is_bounded_lru() -> None:
    store = MemoryDedupeStore(maxsize=3)
    for key in "abc":
        assert store.claim(key, "f") == "new"
        store.complete(key, "f")
    assert store.claim("a", "f") == "duplicate"  # refreshes "a"
    assert store.claim("d", "f") == "new"
    store.complete("d", "f")  # evicts "b", the least recently used
    assert len(store) == 3
    assert store.claim("b", "f") == "new"
    assert store.claim("a", "f") == "duplicate"
    with pytest.raises(ValueError, match="maxsize"):
        MemoryDedupeStore(0)
    with pytest.raises(ValueError, match="claim_ttl"):
        MemoryDedupeStore(claim_ttl=0)
    assert (MemoryDedupeStore().maxsize, MemoryDedupeStore().claim_ttl) == (100_000, 300.0)


def test_memory_store_claims_are_per_state_and_release_keeps_the_completed_state() -> None:
    store = MemoryDedupeStore()
    assert store.claim("line", "q3") == "new"
    assert store.claim("line", "q3") == "in_flight"
    assert store.claim("line", "q2") == "new"  # another state of the entity is not blocked
    store.complete("line", "q2")
    store.release("line", "q3")  # failed: q2 stays the completed state
    assert store.claim("line", "q2") == "duplicate"
    assert store.claim("line", "q3") == "new"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_memory_store_claims_expire() -> None:
    # A worker that crashed in its handler never completes nor releases: its claim must not block for ever.
    clock = FakeClock()
    store = MemoryDedupeStore(claim_ttl=30, clock=clock)
    assert store.claim("k", "f") == "new"
    clock.now += 29.9
    assert store.claim("k", "f") == "in_flight"
    clock.now += 0.2
    assert store.claim("k", "f") == "new"  # expired: this attempt holds a fresh claim
    clock.now += 29.9
    assert store.claim("k", "f") == "in_flight"
    assert store.claim("other", "f") == "new"
    clock.now += 1000
    assert store.claim("other", "f") == "new"
    store.complete("other", "f")
    assert store.claim("other", "f") == "duplicate"


def test_memory_store_is_thread_safe() -> None:
    store = MemoryDedupeStore()
    barrier = threading.Barrier(16)
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        for index in range(200):
            outcome = store.claim(f"k{index}", "f")
            if outcome == "new" and index % 2:
                store.complete(f"k{index}", "f")
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("new") == 200  # each key claimed exactly once


# --- fuzz ---------------------------------------------------------------------------------------------------

_HEADER_NAMES = st.sampled_from(["x-oc-hash", "X-OC-HASH", "x-api-key", "content-type", "content-length"])
_JSON_BODIES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "OrderID",
                    "LineItems",
                    "LineItem",
                    "FirstName",
                    "EventType",
                    "Message",
                    "ID",
                    "Headers",
                    "Payload",
                    "type",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=4,
        )
    ),
    max_leaves=10,
).map(lambda value: json.dumps(value).encode())
_BODIES = st.binary(max_size=300) | _JSON_BODIES
_TEXT_HEADERS = st.lists(st.tuples(_HEADER_NAMES | st.text(max_size=10), st.text(max_size=60)), max_size=4)
_BYTE_HEADERS = st.lists(st.tuples(_HEADER_NAMES.map(str.encode) | st.binary(max_size=10), st.binary(max_size=60)))
_ESCAPES = (SignatureVerificationError, PayloadTooLargeError, InvalidPayloadError)


@given(body=_BODIES, headers=_TEXT_HEADERS | _BYTE_HEADERS, sign=st.booleans(), as_mapping=st.booleans())
def test_fuzz_parse_only_raises_documented_errors(
    body: bytes, headers: list[tuple[Any, Any]], sign: bool, as_mapping: bool
) -> None:
    receiver = Receiver(SECRET, max_body_bytes=200, custom_auth_header=("X-Api-Key", CUSTOM_VALUE))
    pairs = list(headers)
    if sign:
        name: Any = b"X-Oc-Hash" if pairs and isinstance(pairs[0][0], bytes) else "X-Oc-Hash"
        value: Any = sign_payload(body, SECRET)
        pairs.insert(0, (name, value.encode() if isinstance(name, bytes) else value))
        pairs.insert(
            1, (b"x-api-key", CUSTOM_VALUE.encode()) if isinstance(name, bytes) else ("x-api-key", CUSTOM_VALUE)
        )
    given_headers: Headers = dict(pairs) if as_mapping else pairs
    try:
        delivery = receiver.parse(body, given_headers)
    except _ESCAPES:
        return
    assert isinstance(delivery, Delivery)
    assert delivery.delivery_key


# --- ASGI ---------------------------------------------------------------------------------------------------


@attrs.frozen
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    reads: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


async def call_asgi(
    app: ASGIApp,
    *,
    method: str = "POST",
    headers: Mapping[str, str] | None = None,
    chunks: Sequence[bytes] = (b"",),
    content_length: bool = True,
    query: bytes = b"",
) -> Answer:
    raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    if content_length:
        raw_headers.append((b"content-length", str(sum(len(c) for c in chunks)).encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/ordercloud/events",
        "raw_path": b"/ordercloud/events",
        "query_string": query,
        "headers": raw_headers,
    }
    events: list[MutableMapping[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    reads = 0
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        nonlocal reads
        reads += 1
        return events.pop(0) if events else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["type"] == "http.response.start"
    assert [m["type"] for m in sent[1:]] == ["http.response.body"]
    assert sent[-1]["more_body"] is False
    response_headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in sent[0]["headers"]}
    body = b"".join(m["body"] for m in sent[1:])
    assert response_headers["content-length"] == str(len(body))
    return Answer(sent[0]["status"], response_headers, body, reads)


async def test_asgi_ok_calls_the_handler_once() -> None:
    calls: list[Delivery] = []
    app = asgi_app(calls.append, Receiver(SECRET))
    answer = await call_asgi(app, headers=signed(ORDER), chunks=[ORDER])
    assert answer.status == 200
    assert answer.json == {"status": "ok"}
    assert answer.headers["content-type"] == "application/json"
    assert len(calls) == 1
    assert isinstance(calls[0].message, OrderSubmitted)
    duplicate = await call_asgi(app, headers=signed(ORDER), chunks=[ORDER])
    assert (duplicate.status, duplicate.json) == (200, {"status": "duplicate"})
    assert len(calls) == 1


async def test_asgi_body_in_chunks_and_without_content_length() -> None:
    calls: list[Delivery] = []
    app = asgi_app(calls.append, Receiver(SECRET))
    chunks = [ORDER[:5], b"", ORDER[5:20], ORDER[20:]]
    answer = await call_asgi(app, headers=signed(ORDER), chunks=chunks, content_length=False)
    assert answer.status == 200
    assert answer.reads == 4
    assert isinstance(calls[0].message, OrderSubmitted)


@pytest.mark.parametrize(
    ("method", "headers", "body", "status", "error"),
    [
        ("GET", {}, b"", 405, "method not allowed"),
        ("PUT", signed(ORDER), ORDER, 405, "method not allowed"),
        ("POST", {}, ORDER, 401, "missing signature"),
        ("POST", {"x-oc-hash": "bad"}, ORDER, 403, "invalid signature"),
        ("POST", signed(ORDER, OTHER_SECRET), ORDER, 403, "invalid signature"),
        ("POST", signed(b"not json"), b"not json", 400, "invalid JSON body"),
        ("POST", signed(b"[1, 2]"), b"[1, 2]", 400, "invalid JSON body"),
    ],
)
async def test_asgi_statuses(method: str, headers: dict[str, str], body: bytes, status: int, error: str) -> None:
    calls: list[Delivery] = []
    answer = await call_asgi(asgi_app(calls.append, Receiver(SECRET)), method=method, headers=headers, chunks=[body])
    assert answer.status == status
    assert answer.json == {"error": error}
    assert calls == []
    if status == 405:
        assert answer.headers["allow"] == "POST"


async def test_asgi_custom_header_statuses() -> None:
    calls: list[Delivery] = []
    app = asgi_app(calls.append, Receiver(SECRET, custom_auth_header=("X-Api-Key", CUSTOM_VALUE)))
    missing = await call_asgi(app, headers=signed(ORDER), chunks=[ORDER])
    wrong = await call_asgi(app, headers=signed(ORDER, **{"X-Api-Key": "nope"}), chunks=[ORDER])
    right = await call_asgi(app, headers=signed(ORDER, **{"X-Api-Key": CUSTOM_VALUE}), chunks=[ORDER])
    assert (missing.status, wrong.status, right.status) == (401, 403, 200)
    assert len(calls) == 1


async def test_asgi_too_large_is_refused_from_content_length_without_reading() -> None:
    calls: list[Delivery] = []
    app = asgi_app(calls.append, Receiver(SECRET, max_body_bytes=10))
    answer = await call_asgi(app, headers=signed(ORDER), chunks=[ORDER])
    assert (answer.status, answer.json) == (413, {"error": "payload too large"})
    assert answer.reads == 0
    assert calls == []


async def test_asgi_too_large_stream_stops_reading() -> None:
    app = asgi_app(lambda delivery: None, Receiver(SECRET, max_body_bytes=10))
    answer = await call_asgi(app, headers=signed(ORDER), chunks=[b"x" * 6, b"x" * 6, b"x" * 6], content_length=False)
    assert answer.status == 413
    assert answer.reads == 2


async def test_asgi_malformed_content_length() -> None:
    app = asgi_app(lambda delivery: None, Receiver(SECRET))
    answer = await call_asgi(
        app, headers={**signed(ORDER), "content-length": "12abc"}, chunks=[ORDER], content_length=False
    )
    assert (answer.status, answer.json) == (400, {"error": "invalid Content-Length"})


async def test_asgi_handler_failure_is_a_500_and_the_retry_is_processed(caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[Delivery] = []

    def flaky(delivery: Delivery) -> None:
        attempts.append(delivery)
        if len(attempts) == 1:
            raise RuntimeError(f"database down, password={SECRET}")

    app = asgi_app(flaky, Receiver(SECRET))
    with caplog.at_level(logging.ERROR, logger="ordercloud_tracking.receiver"):
        failed = await call_asgi(app, headers=signed(ORDER), chunks=[ORDER])
    assert (failed.status, failed.json) == (500, {"error": "internal error"})
    assert b"database" not in failed.body
    assert SECRET.encode() not in failed.body
    assert any("handler failed" in record.getMessage() for record in caplog.records)
    retried = await call_asgi(app, headers=signed(ORDER), chunks=[ORDER])
    assert (retried.status, retried.json) == (200, {"status": "ok"})
    assert len(attempts) == 2
    again = await call_asgi(app, headers=signed(ORDER), chunks=[ORDER])
    assert again.json == {"status": "duplicate"}


async def test_asgi_async_handler_and_async_callable_object() -> None:
    seen: list[str] = []

    async def handler(delivery: Delivery) -> None:
        await asyncio.sleep(0)
        seen.append(delivery.delivery_key)

    class Handler:
        async def __call__(self, delivery: Delivery) -> None:
            seen.append("object")

    for candidate in (handler, Handler()):
        answer = await call_asgi(asgi_app(candidate, Receiver(SECRET)), headers=signed(ORDER), chunks=[ORDER])
        assert answer.status == 200
    assert seen == ["order:o-1", "object"]


async def test_asgi_sync_handler_runs_off_the_event_loop() -> None:
    threads: list[int] = []
    app = asgi_app(lambda delivery: threads.append(threading.get_ident()), Receiver(SECRET))
    answer = await call_asgi(app, headers=signed(ORDER), chunks=[ORDER])
    assert answer.status == 200
    assert threads
    assert threads[0] != threading.get_ident()


async def test_asgi_async_handler_failure() -> None:
    async def handler(delivery: Delivery) -> None:
        raise ValueError("boom")

    receiver = Receiver(SECRET)
    answer = await call_asgi(asgi_app(handler, receiver), headers=signed(ORDER), chunks=[ORDER])
    assert answer.status == 500
    assert not receiver.parse(ORDER, signed(ORDER)).duplicate  # forgotten, so the retry is processed


async def test_asgi_disconnect_and_lifespan() -> None:
    calls: list[Delivery] = []
    app = asgi_app(calls.append, Receiver(SECRET))
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def disconnect() -> MutableMapping[str, Any]:
        return {"type": "http.disconnect"}

    scope: dict[str, Any] = {"type": "http", "method": "POST", "headers": []}
    await app(scope, disconnect, send)
    assert sent == []
    lifespan_events: list[MutableMapping[str, Any]] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def lifespan_receive() -> MutableMapping[str, Any]:
        return lifespan_events.pop(0)

    await app({"type": "lifespan"}, lifespan_receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    await app({"type": "websocket"}, disconnect, send)  # ignored
    assert len(sent) == 2
    assert calls == []


# --- WSGI ---------------------------------------------------------------------------------------------------


class CountingInput(BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        return super().read(size)


def call_wsgi(
    app: WSGIApp,
    *,
    method: str = "POST",
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    content_length: str | None = "auto",
    terminated: bool = False,
    validate: bool = True,
    query: str = "",
) -> tuple[Answer, CountingInput]:
    stream = CountingInput(body)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "wsgi.input": stream,
        "PATH_INFO": "/ordercloud/events",
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
    }
    if content_length == "auto":
        environ["CONTENT_LENGTH"] = str(len(body))
    elif content_length is not None:
        environ["CONTENT_LENGTH"] = content_length
    if terminated:
        environ["wsgi.input_terminated"] = True
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    setup_testing_defaults(environ)
    captured: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"] = status
        captured["headers"] = response_headers
        return lambda data: None

    result: Iterable[bytes] = (validator(app) if validate else app)(environ, start_response)
    try:
        out = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status = int(captured["status"].split()[0])
    header_map = {k.lower(): v for k, v in captured["headers"]}
    assert header_map["content-length"] == str(len(out))
    return Answer(status, header_map, out, stream.reads), stream


def test_wsgi_ok_duplicate_and_reason_phrases() -> None:
    calls: list[Delivery] = []
    app = wsgi_app(calls.append, Receiver(SECRET))
    answer, _ = call_wsgi(app, headers=signed(ORDER), body=ORDER)
    assert (answer.status, answer.json) == (200, {"status": "ok"})
    duplicate, _ = call_wsgi(app, headers=signed(ORDER), body=ORDER)
    assert (duplicate.status, duplicate.json) == (200, {"status": "duplicate"})
    assert len(calls) == 1
    assert isinstance(calls[0].message, OrderSubmitted)


@pytest.mark.parametrize(
    ("method", "headers", "body", "status", "error"),
    [
        ("GET", {}, b"", 405, "method not allowed"),
        ("DELETE", signed(ORDER), ORDER, 405, "method not allowed"),
        ("POST", {}, ORDER, 401, "missing signature"),
        ("POST", {"x-oc-hash": "bad"}, ORDER, 403, "invalid signature"),
        ("POST", signed(b"{"), b"{", 400, "invalid JSON body"),
    ],
)
def test_wsgi_statuses(method: str, headers: dict[str, str], body: bytes, status: int, error: str) -> None:
    calls: list[Delivery] = []
    answer, _ = call_wsgi(wsgi_app(calls.append, Receiver(SECRET)), method=method, headers=headers, body=body)
    assert (answer.status, answer.json) == (status, {"error": error})
    assert calls == []


def test_wsgi_custom_header() -> None:
    app = wsgi_app(lambda delivery: None, Receiver(SECRET, custom_auth_header=("X-Api-Key", CUSTOM_VALUE)))
    assert call_wsgi(app, headers=signed(ORDER), body=ORDER)[0].status == 401
    assert call_wsgi(app, headers=signed(ORDER, **{"X-Api-Key": "x"}), body=ORDER)[0].status == 403
    assert call_wsgi(app, headers=signed(ORDER, **{"X-Api-Key": CUSTOM_VALUE}), body=ORDER)[0].status == 200


def test_wsgi_too_large_is_refused_without_reading() -> None:
    app = wsgi_app(lambda delivery: None, Receiver(SECRET, max_body_bytes=10))
    answer, stream = call_wsgi(app, headers=signed(ORDER), body=ORDER)
    assert (answer.status, answer.json) == (413, {"error": "payload too large"})
    assert stream.reads == 0
    terminated, stream = call_wsgi(app, headers=signed(ORDER), body=ORDER, content_length=None, terminated=True)
    assert terminated.status == 413
    assert stream.tell() == 11  # read at most max_body_bytes + 1


def test_wsgi_content_length_edge_cases() -> None:
    calls: list[Delivery] = []
    app = wsgi_app(calls.append, Receiver(SECRET))
    bad, _ = call_wsgi(app, headers=signed(ORDER), body=ORDER, content_length="-3", validate=False)
    assert (bad.status, bad.json) == (400, {"error": "invalid Content-Length"})
    # no Content-Length and no terminated input: PEP 3333 says there is no body
    empty, stream = call_wsgi(app, headers=signed(ORDER), body=ORDER, content_length=None)
    assert empty.status == 403  # the signature of ORDER does not match an empty body
    assert stream.reads == 0
    streamed, _ = call_wsgi(app, headers=signed(ORDER), body=ORDER, content_length="", terminated=True)
    assert streamed.status == 200
    assert len(calls) == 1


def test_wsgi_handler_failure_is_a_500_and_the_retry_is_processed() -> None:
    attempts: list[Delivery] = []

    def flaky(delivery: Delivery) -> None:
        attempts.append(delivery)
        if len(attempts) == 1:
            raise RuntimeError(f"secret={SECRET}")

    app = wsgi_app(flaky, Receiver(SECRET))
    failed, _ = call_wsgi(app, headers=signed(ORDER), body=ORDER)
    assert (failed.status, failed.json) == (500, {"error": "internal error"})
    assert SECRET.encode() not in failed.body
    retried, _ = call_wsgi(app, headers=signed(ORDER), body=ORDER)
    assert retried.status == 200
    assert len(attempts) == 2


def test_wsgi_rejects_an_async_handler() -> None:
    async def handler(delivery: Delivery) -> None:
        return None

    with pytest.raises(TypeError, match="asgi_app"):
        wsgi_app(handler, Receiver(SECRET))


def test_line_message_through_the_wsgi_app() -> None:
    calls: list[Delivery] = []
    body = json.dumps({"OrderId": "o-1", "LineItem": {"LineID": "li-1", "Quantity": 2}}).encode()
    answer, _ = call_wsgi(wsgi_app(calls.append, Receiver(SECRET)), headers=signed(body), body=body)
    assert answer.status == 200
    assert isinstance(calls[0].message, OrderLineAdded)
    assert calls[0].message.type_inferred is True
    assert calls[0].event_type is TrackingEventType.LINE_ITEM_ADDED


async def test_the_type_query_parameter_tells_updated_from_added() -> None:
    body = _line(4)
    got: list[Delivery] = []
    answer = await call_asgi(
        asgi_app(got.append, Receiver(SECRET)), headers=signed(body), chunks=[body], query=b"type=LineItemUpdated"
    )
    assert answer.status == 200
    wsgi_answer, _ = call_wsgi(
        wsgi_app(got.append, Receiver(SECRET)),
        headers=signed(body),
        body=body,
        query="type=sitecore.ordercloud.messages.orders.lines.updated",
    )
    assert wsgi_answer.status == 200
    unknown, _ = call_wsgi(
        wsgi_app(got.append, Receiver(SECRET)), headers=signed(body), body=body, query="type=nonsense"
    )
    assert unknown.status == 200
    assert [d.event_type for d in got] == [
        TrackingEventType.LINE_ITEM_UPDATED,
        TrackingEventType.LINE_ITEM_UPDATED,
        TrackingEventType.LINE_ITEM_ADDED,  # an unknown hint is ignored: the shape decides
    ]


# --- in-flight deliveries (issue 10, item 1) ----------------------------------------------------------------


def test_wsgi_a_retry_during_the_first_attempt_gets_503_and_the_event_is_processed_on_the_next_retry() -> None:
    # The first attempt is in its handler when OrderCloud retries; then the first attempt fails. The
    # retry must not have been acknowledged with a 200: the event is processed on the next retry.
    entered, proceed = threading.Event(), threading.Event()
    processed: list[Delivery] = []
    attempts: list[str] = []

    def handler(delivery: Delivery) -> None:
        attempts.append(delivery.delivery_key)
        if len(attempts) == 1:
            entered.set()
            proceed.wait(30)
            raise RuntimeError("database down")
        processed.append(delivery)

    app = wsgi_app(handler, Receiver(SECRET))
    answers: list[Answer] = []
    first = threading.Thread(target=lambda: answers.append(call_wsgi(app, headers=signed(ORDER), body=ORDER)[0]))
    first.start()
    assert entered.wait(30)
    second, _ = call_wsgi(app, headers=signed(ORDER), body=ORDER)
    proceed.set()
    first.join()
    assert (second.status, second.json, second.headers["retry-after"]) == (503, {"status": "in_flight"}, "5")
    assert answers[0].status == 500
    assert processed == []
    retry, _ = call_wsgi(app, headers=signed(ORDER), body=ORDER)
    assert (retry.status, retry.json) == (200, {"status": "ok"})
    assert [type(d.message) for d in processed] == [OrderSubmitted]
    again, _ = call_wsgi(app, headers=signed(ORDER), body=ORDER)
    assert (again.status, again.json) == (200, {"status": "duplicate"})
    assert len(attempts) == 2


@pytest.mark.parametrize("async_handler", [True, False])
async def test_asgi_a_retry_during_the_first_attempt_gets_503_and_the_event_is_processed_on_the_next_retry(
    async_handler: bool,
) -> None:
    loop = asyncio.get_running_loop()
    entered, proceed = asyncio.Event(), threading.Event()
    processed: list[Delivery] = []
    attempts: list[str] = []

    def work(delivery: Delivery) -> None:  # runs in a worker thread for the plain handler
        attempts.append(delivery.delivery_key)
        if len(attempts) == 1:
            loop.call_soon_threadsafe(entered.set)
            proceed.wait(30)
            raise RuntimeError("database down")
        processed.append(delivery)

    async def async_work(delivery: Delivery) -> None:
        await asyncio.to_thread(work, delivery)

    app = asgi_app(async_work if async_handler else work, Receiver(SECRET))
    first = asyncio.create_task(call_asgi(app, headers=signed(ORDER), chunks=[ORDER]))
    await entered.wait()
    second = await call_asgi(app, headers=signed(ORDER), chunks=[ORDER])
    proceed.set()
    assert (await first).status == 500
    assert (second.status, second.json, second.headers["retry-after"]) == (503, {"status": "in_flight"}, "5")
    assert processed == []
    retry = await call_asgi(app, headers=signed(ORDER), chunks=[ORDER])
    assert (retry.status, retry.json) == (200, {"status": "ok"})
    assert [type(d.message) for d in processed] == [OrderSubmitted]
    again = await call_asgi(app, headers=signed(ORDER), chunks=[ORDER])
    assert again.json == {"status": "duplicate"}


async def test_asgi_a_cancelled_attempt_releases_its_claim() -> None:
    entered = asyncio.Event()
    calls: list[str] = []

    async def handler(delivery: Delivery) -> None:
        calls.append(delivery.delivery_key)
        if len(calls) == 1:
            entered.set()
            await asyncio.Event().wait()  # until cancelled

    app = asgi_app(handler, Receiver(SECRET))
    first = asyncio.create_task(call_asgi(app, headers=signed(ORDER), chunks=[ORDER]))
    await entered.wait()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    retry = await call_asgi(app, headers=signed(ORDER), chunks=[ORDER])
    assert (retry.status, len(calls)) == (200, 2)


class BrokenCompleteStore(RecordingStore):
    def complete(self, key: str, fingerprint: str) -> None:
        raise OSError("disk full")


async def test_a_store_failing_after_the_handler_succeeded_still_acknowledges(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[Delivery] = []
    with caplog.at_level(logging.ERROR, logger="ordercloud_tracking.receiver"):
        answer = await call_asgi(
            asgi_app(calls.append, Receiver(SECRET, dedupe=BrokenCompleteStore())),
            headers=signed(ORDER),
            chunks=[ORDER],
        )
        wsgi_answer, _ = call_wsgi(
            wsgi_app(calls.append, Receiver(SECRET, dedupe=BrokenCompleteStore())), headers=signed(ORDER), body=ORDER
        )
    assert (answer.status, wsgi_answer.status, len(calls)) == (200, 200, 2)
    assert any("Dedupe store failed" in record.getMessage() for record in caplog.records)


# --- malformed Content-Length (issue 10, item 2) -------------------------------------------------------------

MALFORMED_LENGTHS = ["\u00b2", "abc", "1,1", "-1", "+5", "1 2", "0x10", "1.0", "12abc", "1e3"]
TOO_LARGE_LENGTHS = ["1" + "0" * 15, "9" * 5000, str(DEFAULT_MAX_BODY_BYTES + 1)]


@pytest.mark.parametrize("value", MALFORMED_LENGTHS)
async def test_asgi_malformed_content_length_is_400(value: str) -> None:
    calls: list[Delivery] = []
    app = asgi_app(calls.append, Receiver(SECRET))
    answer = await call_asgi(
        app, headers={**signed(ORDER), "content-length": value}, chunks=[ORDER], content_length=False
    )
    assert (answer.status, answer.json, answer.reads) == (400, {"error": "invalid Content-Length"}, 0)
    assert calls == []


@pytest.mark.parametrize("value", [*MALFORMED_LENGTHS, "\u0661\u0662"])  # Arabic-Indic 12: int() would accept it
def test_wsgi_malformed_content_length_is_400(value: str) -> None:
    calls: list[Delivery] = []
    answer, stream = call_wsgi(
        wsgi_app(calls.append, Receiver(SECRET)),
        headers=signed(ORDER),
        body=ORDER,
        content_length=value,
        validate=False,
    )
    assert (answer.status, answer.json, stream.reads) == (400, {"error": "invalid Content-Length"}, 0)
    assert calls == []


@pytest.mark.parametrize("value", TOO_LARGE_LENGTHS)
async def test_too_large_content_length_is_413_in_both_apps(value: str) -> None:
    asgi_answer = await call_asgi(
        asgi_app(lambda d: None, Receiver(SECRET)),
        headers={**signed(ORDER), "content-length": value},
        chunks=[ORDER],
        content_length=False,
    )
    wsgi_answer, stream = call_wsgi(
        wsgi_app(lambda d: None, Receiver(SECRET)),
        headers=signed(ORDER),
        body=ORDER,
        content_length=value,
        validate=False,  # wsgiref's validator itself cannot read a 5,000-digit length
    )
    assert (asgi_answer.status, asgi_answer.reads) == (413, 0)
    assert (wsgi_answer.status, stream.reads) == (413, 0)


@contextlib.contextmanager
def wsgiref_server(app: WSGIApp) -> Iterator[int]:
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def raw_post(port: int, content_length: bytes, body: bytes, signature: str) -> tuple[int, bytes]:
    head = (
        b"POST /oc/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
        b"x-oc-hash: " + signature.encode() + b"\r\nContent-Length: " + content_length + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def test_malformed_content_length_under_a_real_wsgiref_server(capsys: pytest.CaptureFixture[str]) -> None:
    # wsgiref hands the header over as latin-1 text: b"\xb2" arrives as "²", a digit to str.isdigit().
    calls: list[Delivery] = []
    with wsgiref_server(wsgi_app(calls.append, Receiver(SECRET))) as port:
        for value in [b"\xb2", b"abc", b"1,1", b"-1", b"\xd9\xa1"]:
            status, body = raw_post(port, value, b"", sign_payload(b"", SECRET))
            assert (status, json.loads(body)) == (400, {"error": "invalid Content-Length"})
        status, _ = raw_post(port, b"1000000000000000", b"", sign_payload(b"", SECRET))
        assert status == 413
        status, body = raw_post(port, str(len(ORDER)).encode(), ORDER, sign_payload(ORDER, SECRET))
        assert (status, json.loads(body)) == (200, {"status": "ok"})  # still serving
    assert len(calls) == 1
    assert "Traceback" not in capsys.readouterr().err


# --- the Http envelope (issue 12 §1) ------------------------------------------------------------------------

UPDATED = "sitecore.ordercloud.messages.orders.lines.updated"


def _enveloped(type_name: str, payload: bytes) -> bytes:
    return b'{"Headers": {"type": "' + type_name.encode() + b'"}, "Payload": ' + payload + b"}"


def test_receiver_routes_on_the_envelope_type() -> None:
    body = _enveloped(UPDATED, _line(5))
    delivery = Receiver(SECRET).parse(body, signed(body))
    assert isinstance(delivery.message, OrderLineUpdated)
    assert delivery.event_type is TrackingEventType.LINE_ITEM_UPDATED
    assert delivery.delivery_key == "line:o-1:li-1"


async def test_both_apps_route_on_the_envelope_type_and_query_type_only_names_bare_bodies() -> None:
    body = _enveloped(UPDATED, _line(5))
    got: list[Delivery] = []
    asgi_answer = await call_asgi(
        asgi_app(got.append, Receiver(SECRET)), headers=signed(body), chunks=[body], query=b"type=LineItemAdded"
    )
    wsgi_answer, _ = call_wsgi(wsgi_app(got.append, Receiver(SECRET)), headers=signed(body), body=body)
    assert (asgi_answer.status, wsgi_answer.status) == (200, 200)
    assert [type(d.message) for d in got] == [OrderLineUpdated, OrderLineUpdated]


def test_a_message_processed_bare_is_a_duplicate_when_it_comes_enveloped() -> None:
    receiver = Receiver(SECRET)
    bare = json.dumps(json.loads(_line(5)), separators=(",", ":")).encode()
    enveloped = _enveloped(UPDATED, bare)
    _handled(receiver, bare, type_hint="LineItemUpdated")
    again = receiver.parse(enveloped, signed(enveloped))
    assert again.duplicate
    assert isinstance(again.message, OrderLineUpdated)


async def test_asgi_a_first_chunk_over_the_limit_stops_reading() -> None:
    app = asgi_app(lambda delivery: None, Receiver(SECRET, max_body_bytes=10))
    answer = await call_asgi(app, headers=signed(ORDER), chunks=[b"x" * 11, b"x"], content_length=False)
    assert (answer.status, answer.reads) == (413, 1)


# --- identity links: the receiver learns user ↔ anonymous ID from what it verifies --------------------------
LOGIN = (
    b'{"UserContext": {"ID": "buyer-jane", "AnonymousId": null}, "Email": "jane@example.com",'
    b' "FirstName": "Jane", "LastName": "Doe"}'
)
ORDER_OF_JANE = (
    b'{"UserContext": {"ID": "buyer-jane", "AnonymousId": "beacon-7"}, "OrderID": "o-7", "Currency": "USD",'
    b' "OrderTotal": 12.5, "LineItems": []}'
)


@pytest.fixture(params=["memory", "sqlite"])
def links(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[stores.IdentityLinks]:
    if request.param == "memory":
        yield stores.MemoryIdentityLinks()
        return
    with stores.SQLiteIdentityLinks(tmp_path / "links.db") as sqlite_links:
        yield sqlite_links


def test_the_receiver_learns_links_from_every_verified_message(links: stores.IdentityLinks) -> None:
    from ordercloud_tracking.sitecore import to_send_event

    receiver = Receiver(SECRET, links=links)
    assert receiver.links is links
    receiver.complete(receiver.parse(ORDER_OF_JANE, signed(ORDER_OF_JANE)))
    assert links.anonymous_id_for("buyer-jane") == "beacon-7"
    login = receiver.parse(LOGIN, signed(LOGIN))
    site = "0f8fad5b-d9cb-469f-a165-70867728950e"
    identify = to_send_event(login.message, site_id=site, contact_id=None, session_id=None, links=receiver.links)
    assert identify is not None
    assert identify["ContactId"] == "beacon-7"  # not the user ID: one contact for one shopper


def test_a_forged_message_teaches_nothing() -> None:
    links = stores.MemoryIdentityLinks()
    receiver = Receiver(SECRET, links=links)
    with pytest.raises(SignatureVerificationError):
        receiver.parse(ORDER_OF_JANE, signed(ORDER_OF_JANE, secret="forged"))
    assert links.anonymous_id_for("buyer-jane") is None


async def test_both_apps_learn_links(links: stores.IdentityLinks) -> None:
    asgi_links, wsgi_links = stores.MemoryIdentityLinks(), links
    asgi_answer = await call_asgi(
        asgi_app(lambda delivery: None, Receiver(SECRET, links=asgi_links)),
        headers=signed(ORDER_OF_JANE),
        chunks=[ORDER_OF_JANE],
    )
    wsgi_answer, _ = call_wsgi(
        wsgi_app(lambda delivery: None, Receiver(SECRET, links=wsgi_links)),
        headers=signed(ORDER_OF_JANE),
        body=ORDER_OF_JANE,
    )
    assert (asgi_answer.status, wsgi_answer.status) == (200, 200)
    assert asgi_links.anonymous_id_for("buyer-jane") == wsgi_links.anonymous_id_for("buyer-jane") == "beacon-7"


def test_links_must_be_identity_links() -> None:
    with pytest.raises(TypeError, match="IdentityLinks"):
        Receiver(SECRET, links={"buyer-jane": "beacon-7"})  # type: ignore[arg-type]  # what a wrong store does at run time


# --- a handler whose dependency is down: 503 + Retry-After, the claim released --------------------------


class _WarehouseDown(ServiceUnavailableError):
    """A user's own "try again later" error: any ServiceUnavailableError subclass maps to 503."""


def _unavailable_once(attempts: list[Delivery]) -> Any:
    def handler(delivery: Delivery) -> None:
        attempts.append(delivery)
        if len(attempts) == 1:
            raise _WarehouseDown(f"warehouse down, password={SECRET}", retry_after=30)

    return handler


async def test_asgi_unavailable_handler_is_a_503_with_retry_after_and_the_retry_is_processed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempts: list[Delivery] = []
    app = asgi_app(_unavailable_once(attempts), Receiver(SECRET))
    with caplog.at_level(logging.WARNING, logger="ordercloud_tracking.receiver"):
        down = await call_asgi(app, headers=signed(ORDER), chunks=[ORDER])
    assert (down.status, down.json, down.headers["retry-after"]) == (503, {"status": "unavailable"}, "30")
    assert SECRET.encode() not in down.body
    assert any("answered 503" in record.getMessage() for record in caplog.records)
    retried = await call_asgi(app, headers=signed(ORDER), chunks=[ORDER])  # not "in_flight", not "duplicate"
    assert (retried.status, retried.json) == (200, {"status": "ok"})
    assert len(attempts) == 2


def test_wsgi_unavailable_handler_is_a_503_with_retry_after_and_the_retry_is_processed() -> None:
    attempts: list[Delivery] = []
    app = wsgi_app(_unavailable_once(attempts), Receiver(SECRET))
    down, _ = call_wsgi(app, headers=signed(ORDER), body=ORDER)
    assert (down.status, down.json, down.headers["retry-after"]) == (503, {"status": "unavailable"}, "30")
    retried, _ = call_wsgi(app, headers=signed(ORDER), body=ORDER)
    assert (retried.status, retried.json) == (200, {"status": "ok"})
    assert len(attempts) == 2
