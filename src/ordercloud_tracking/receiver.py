"""Receive tracking deliveries at your own endpoint: verify ``x-oc-hash``, parse, de-duplicate.

An ``Http`` delivery target with a ``Secret`` signs every body: the ``x-oc-hash`` header is the
Base64 (standard alphabet, padded) HMAC-SHA256 of the **raw body bytes**, keyed with the UTF-8 bytes
of the secret. There is no timestamp in the signature and no documented delivery ID, and delivery is
probably at least once, so :class:`Receiver` also de-duplicates.

:meth:`Receiver.parse` runs, in this order:

1. the size limit (``max_body_bytes``), before any hashing — :class:`PayloadTooLargeError`;
2. ``x-oc-hash`` (header name matched case-insensitively; each configured secret is tried, for
   rotation) — :class:`SignatureVerificationError` with ``missing=True`` when absent;
3. the optional static ``CustomAuthHeaderName``/``CustomAuthHeaderValue`` pair, compared in constant
   time — :class:`SignatureVerificationError` (``missing=True`` when absent);
4. :func:`~ordercloud_tracking.messages.parse_message` — :class:`InvalidPayloadError` if not JSON;
5. the dedupe store (see *Duplicates* below); :attr:`Delivery.duplicate` says whether it was seen.

Duplicates
    OrderCloud documents no delivery ID, and delivery is probably at least once. A plain "have I seen
    these bytes?" check would drop real events: a line set to 3, then 2, then 3 again sends the same
    body twice. So the store keeps, per *entity*, the fingerprint (SHA-256) of the latest body, and a
    delivery is a duplicate only when it repeats the latest state of its entity:

    ===================  ================================================
    Message              Entity (the delivery key)
    ===================  ================================================
    with an envelope ID  the ID itself (exact redelivery detection)
    OrderSubmitted       ``order:{OrderID}``
    OrderLine…           ``line:{OrderId}:{LineID}`` (added and updated)
    SessionIdentified    ``session:{UserContext.ID or AnonymousId}``
    anything else        the body's SHA-256
    ===================  ================================================

    The price of not dropping real changes: a retry that arrives *after* a newer state of the same
    entity is processed again (handle line events as absolute state, as OrderCloud sends them), and two
    identical logins in a row count as one.

Added or updated?
    The bare bodies of ``LineItemAdded`` and ``LineItemUpdated`` are identical. If your endpoint URL
    says which it is (``https://shop.example/oc/events?type=LineItemUpdated`` — one delivery config per
    event type), pass it: ``Receiver.parse(..., event_type=...)``; :func:`asgi_app` and
    :func:`wsgi_app` read a ``type`` query parameter for you.

:func:`asgi_app` and :func:`wsgi_app` wrap a receiver and your handler into an endpoint with no
framework dependency:

=======  =================================================================================
Status   When
=======  =================================================================================
200      processed (``{"status": "ok"}``), or a duplicate (``{"status": "duplicate"}``)
400      body is not a JSON object, or ``Content-Length`` is malformed
401      ``x-oc-hash`` (or the custom auth header) is missing
403      ``x-oc-hash`` (or the custom auth header) does not match
405      method other than ``POST`` (``Allow: POST``)
413      body over ``max_body_bytes`` (refused from ``Content-Length`` without reading it)
500      your handler raised; the details are logged, not returned
=======  =================================================================================

The handler runs once per unique delivery. If it raises, the delivery is *forgotten* by the dedupe
store, so OrderCloud's retry of that delivery is processed rather than answered as a duplicate.

Secrets never appear in a ``repr`` or in an exception message.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import hashlib
import hmac
import inspect
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import Any, Literal, Protocol, TypeAlias, cast, runtime_checkable

import attrs
from pydantic import SecretStr

from ._errors import InvalidPayloadError, PayloadTooLargeError, SignatureVerificationError
from .messages import Message, OrderLineMessage, OrderSubmitted, SessionIdentified, _parse, message_class_for
from .models.tracking import TrackingEventType

__all__ = [
    "ASGIApp",
    "DEFAULT_MAX_BODY_BYTES",
    "DedupeStore",
    "Delivery",
    "DeliveryHandler",
    "Headers",
    "MemoryDedupeStore",
    "Receiver",
    "SIGNATURE_HEADER",
    "WSGIApp",
    "asgi_app",
    "sign_payload",
    "verify_signature",
    "wsgi_app",
]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""Default largest body a :class:`Receiver` accepts: 1 MiB.

>>> Receiver("s").max_body_bytes == DEFAULT_MAX_BODY_BYTES == 1_048_576
True
"""

SIGNATURE_HEADER = "x-oc-hash"
"""The header that carries the signature (matched case-insensitively).

>>> body = b"{}"
>>> Receiver("s").parse(body, {SIGNATURE_HEADER.upper(): sign_payload(body, "s")}).message.data
{}
"""

_log = logging.getLogger("ordercloud_tracking.receiver")

SecretLike: TypeAlias = "str | bytes | SecretStr"
"""A secret: text (UTF-8), bytes, or a pydantic ``SecretStr``."""
Headers: TypeAlias = (
    "Mapping[str, str] | Mapping[bytes, bytes] | Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]]"
)
"""Request headers: a mapping, a list of ``(name, value)`` pairs, or ASGI's raw byte pairs.

>>> body, receiver = b'{"OrderID": "o-1"}', Receiver("s", dedupe=None)
>>> for headers in ({"X-OC-Hash": sign_payload(body, "s")}, [("x-oc-hash", sign_payload(body, "s"))],
...                 [(b"x-oc-hash", sign_payload(body, "s").encode())]):
...     print(receiver.parse(body, headers).event_type.value)
OrderSubmitted
OrderSubmitted
OrderSubmitted
"""

_BodyTypes = (bytes, bytearray, memoryview)
_DIGEST_SIZE = 32  # SHA-256


def _key(secret: SecretLike) -> bytes:
    if isinstance(secret, SecretStr):
        secret = secret.get_secret_value()
    if isinstance(secret, str):
        return secret.encode("utf-8")
    if isinstance(secret, (bytes, bytearray)):
        return bytes(secret)
    raise TypeError(f"A secret must be str or bytes, not {type(secret).__name__}")


def _check_body(body: object, what: str) -> None:
    if not isinstance(body, _BodyTypes):
        raise TypeError(
            f"{what} needs the raw body bytes, not {type(body).__name__}: re-serialised JSON never verifies"
        )


def _digest(key: bytes, body: bytes | bytearray | memoryview) -> bytes:
    return hmac.digest(key, body, "sha256")


def sign_payload(body: bytes | bytearray | memoryview, secret: SecretLike) -> str:
    """The ``x-oc-hash`` value OrderCloud sends for ``body``: Base64 of HMAC-SHA256(secret, body).

    Useful in tests and for your own forwarding. ``secret`` is a ``str`` (UTF-8), ``bytes`` or a
    pydantic ``SecretStr``. A ``dict`` or ``str`` body is a :class:`TypeError`.

    >>> sign_payload(b'{"OrderID":"o-1001","OrderTotal":42.5}', "example-secret")
    'zOWwGJhoV6yR+EimF1ylDFa7C/326QmR4VW6qDYNYDs='
    """
    _check_body(body, "sign_payload()")
    return base64.b64encode(_digest(_key(secret), body)).decode("ascii")


def _decode_signature(signature: object) -> bytes | None:
    if isinstance(signature, (bytes, bytearray)):
        try:
            signature = bytes(signature).decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(signature, str):
        return None
    text = signature.strip()
    if not text or not text.isascii():
        return None
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if len(decoded) == _DIGEST_SIZE else None


def _matches(body: bytes | bytearray | memoryview, expected: bytes, keys: Sequence[bytes]) -> bool:
    ok = False
    for key in keys:  # every key is tried, so timing does not tell which one matched
        ok |= hmac.compare_digest(_digest(key, body), expected)
    return ok


def verify_signature(body: bytes | bytearray | memoryview, signature: str | bytes | None, secret: SecretLike) -> bool:
    """Whether ``signature`` (an ``x-oc-hash`` value) is the signature of ``body`` with ``secret``.

    Compares in constant time. A missing, empty or malformed signature, or an empty secret, is simply
    ``False``. A ``dict`` or ``str`` body is a :class:`TypeError`: only the raw bytes verify.

    >>> body = b'{"OrderID":"o-1001","OrderTotal":42.5}'
    >>> verify_signature(body, "zOWwGJhoV6yR+EimF1ylDFa7C/326QmR4VW6qDYNYDs=", "example-secret")
    True
    >>> verify_signature(b'{"OrderID": "o-1001", "OrderTotal": 42.5}',
    ...                  "zOWwGJhoV6yR+EimF1ylDFa7C/326QmR4VW6qDYNYDs=", "example-secret")
    False
    >>> verify_signature(body, None, "example-secret"), verify_signature(body, "%%%", "example-secret")
    (False, False)
    """
    _check_body(body, "verify_signature()")
    key = _key(secret)
    expected = _decode_signature(signature)
    if expected is None or not key:
        return False
    return _matches(body, expected, (key,))


# --- dedupe ----------------------------------------------------------------------------------------------


@runtime_checkable
class DedupeStore(Protocol):
    """Remembers the latest delivery per key. Implementations must be thread-safe.

    ``seen(key, fingerprint)`` records ``fingerprint`` as the latest for ``key`` and reports,
    atomically, whether it already was. ``forget(key, fingerprint)`` removes it if it is still the
    latest (called when the handler failed, so the retry is processed). With Redis:
    ``SET key fingerprint GET EX ttl`` and compare the old value; ``forget`` with a compare-and-delete
    script.

    >>> class NoDedupe:
    ...     def seen(self, key: str, fingerprint: str) -> bool: return False
    ...     def forget(self, key: str, fingerprint: str) -> None: pass
    >>> isinstance(NoDedupe(), DedupeStore)
    True
    """

    def seen(self, key: str, fingerprint: str) -> bool:
        """Make ``fingerprint`` the latest for ``key``; return whether it already was."""
        ...

    def forget(self, key: str, fingerprint: str) -> None:
        """Remove ``key`` if ``fingerprint`` is still its latest (no error otherwise)."""
        ...


class MemoryDedupeStore:
    """The default :class:`DedupeStore`: an in-process LRU of the last ``maxsize`` keys.

    Thread-safe. Per process only: with several workers, use a shared store.

    >>> store = MemoryDedupeStore(maxsize=2)
    >>> store.seen("line:o-1:li-1", "q3"), store.seen("line:o-1:li-1", "q3"), store.seen("line:o-1:li-1", "q2")
    (False, True, False)
    >>> store.seen("line:o-1:li-1", "q3")  # 3 again after 2 is a real change
    False
    >>> store.forget("line:o-1:li-1", "q3"); store.seen("line:o-1:li-1", "q3")
    False
    """

    def __init__(self, maxsize: int = 10_000) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._maxsize = maxsize
        self._keys: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._lock = threading.Lock()

    @property
    def maxsize(self) -> int:
        """How many keys are kept at most.

        >>> MemoryDedupeStore().maxsize
        10000
        """
        return self._maxsize

    def seen(self, key: str, fingerprint: str) -> bool:
        """Make ``fingerprint`` the latest for ``key``; return whether it already was (and refresh it).

        >>> MemoryDedupeStore().seen("k", "f")
        False
        """
        with self._lock:
            latest = self._keys.get(key)
            self._keys[key] = fingerprint
            self._keys.move_to_end(key)
            if len(self._keys) > self._maxsize:
                self._keys.popitem(last=False)
            return latest == fingerprint

    def forget(self, key: str, fingerprint: str) -> None:
        """Remove ``key`` if ``fingerprint`` is still its latest.

        >>> MemoryDedupeStore().forget("never-seen", "f")
        """
        with self._lock:
            if self._keys.get(key) == fingerprint:
                del self._keys[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._keys)

    def __repr__(self) -> str:
        return f"MemoryDedupeStore(maxsize={self._maxsize})"


# --- receiver --------------------------------------------------------------------------------------------


@attrs.frozen
class Delivery:
    """What :meth:`Receiver.parse` returns.

    ``message`` is the typed message (or :class:`~ordercloud_tracking.messages.UnknownMessage`);
    ``duplicate`` is true when this body repeats the latest delivery of its entity ``delivery_key``
    (the envelope ID, ``order:…``, ``line:…``, ``session:…`` or the body's SHA-256 — see the module
    docstring); ``fingerprint`` is what the dedupe store compared; ``event_type`` is the message's
    tracking event type, if known.

    >>> receiver = Receiver("example-secret")
    >>> body = b'{"OrderID":"o-1001","OrderTotal":42.5}'
    >>> delivery = receiver.parse(body, {"X-oc-hash": sign_payload(body, "example-secret")})
    >>> delivery.event_type, delivery.duplicate, delivery.delivery_key
    (<TrackingEventType.ORDER_SUBMITTED: 'OrderSubmitted'>, False, 'order:o-1001')
    """

    message: Message
    duplicate: bool
    delivery_key: str
    event_type: TrackingEventType | None
    fingerprint: str = ""


def _entity_key(message: Message) -> str | None:
    """The entity whose latest state a message carries (``None``: dedupe on the exact body)."""
    if isinstance(message, OrderSubmitted):
        return f"order:{message.order_id}" if message.order_id else None
    if isinstance(message, OrderLineMessage):
        line_id = message.line_item.line_id if message.line_item is not None else None
        return f"line:{message.order_id}:{line_id}" if message.order_id and line_id else None
    if isinstance(message, SessionIdentified):
        context = message.user_context
        who = (context.id or context.anonymous_id) if context is not None else None
        return f"session:{who}" if who else None
    return None


def _text(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return str(value)


def _header(headers: Headers, name: str) -> str | None:
    """The first value of header ``name`` (lower-case), matched case-insensitively."""
    items: Iterable[tuple[Any, Any]] = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if _text(key).lower() == name:
            return _text(value)
    return None


def _custom_matches(value: str, expected: bytes) -> bool:
    # Servers hand header values over as latin-1 text (the raw bytes); a mapping built by hand may hold
    # real text. Both readings are compared, in constant time.
    raw = value.encode("latin-1", "replace")
    text = value.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(raw, expected) | hmac.compare_digest(text, expected)


class Receiver:
    """Verifies and parses deliveries of an ``Http`` delivery target.

    ``secret`` is the target's ``Secret`` (``str``, ``bytes`` or ``SecretStr``), or a sequence of them
    while you rotate it. ``custom_auth_header`` is the ``(CustomAuthHeaderName, CustomAuthHeaderValue)``
    pair when the target sets one. ``dedupe`` is a :class:`DedupeStore`, ``"memory"`` (the default, a
    fresh :class:`MemoryDedupeStore`) or ``None`` to turn de-duplication off.

    >>> receiver = Receiver(["new-secret", "old-secret"], custom_auth_header=("X-Api-Key", "k3y"))
    >>> receiver
    Receiver(secrets=<2 hidden>, max_body_bytes=1048576, custom_auth_header='X-Api-Key', \
dedupe=MemoryDedupeStore(maxsize=10000))
    >>> body = b'{"OrderId": "o-1", "LineItem": {"LineID": "li-1", "Quantity": 1}}'
    >>> headers = [(b"x-oc-hash", sign_payload(body, "old-secret").encode()), (b"x-api-key", b"k3y")]
    >>> type(receiver.parse(body, headers).message).__name__
    'OrderLineAdded'
    >>> receiver.parse(body, headers).duplicate
    True
    """

    __slots__ = ("_custom_label", "_custom_name", "_custom_value", "_dedupe", "_keys", "_max_body_bytes")

    def __init__(
        self,
        secret: SecretLike | Sequence[SecretLike],
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        custom_auth_header: tuple[str, SecretLike] | None = None,
        dedupe: DedupeStore | Literal["memory"] | None = "memory",
    ) -> None:
        secrets: list[SecretLike] = []
        if isinstance(secret, (str, bytes, SecretStr)):
            secrets.append(secret)
        else:  # a sequence of secrets (anything else fails in _key)
            secrets.extend(cast("Iterable[SecretLike]", secret))
        keys = tuple(_key(item) for item in secrets)
        if not keys or not all(keys):
            raise ValueError("Receiver needs at least one non-empty secret")
        if max_body_bytes < 1:
            raise ValueError("max_body_bytes must be positive")
        self._keys = keys
        self._max_body_bytes = max_body_bytes
        self._custom_label: str | None = None
        self._custom_name: str | None = None
        self._custom_value: bytes | None = None
        if custom_auth_header is not None:
            name, value = custom_auth_header
            self._custom_label = str(name).strip()
            self._custom_name = self._custom_label.lower()
            self._custom_value = _key(value)
            if not self._custom_name or not self._custom_value:
                raise ValueError("custom_auth_header needs a non-empty name and value")
        if dedupe == "memory":
            self._dedupe: DedupeStore | None = MemoryDedupeStore()
        elif dedupe is None or isinstance(dedupe, DedupeStore):
            self._dedupe = dedupe
        else:
            raise TypeError("dedupe must be a DedupeStore, 'memory' or None")

    @property
    def max_body_bytes(self) -> int:
        """The largest body accepted, in bytes.

        >>> Receiver("s", max_body_bytes=10).max_body_bytes
        10
        """
        return self._max_body_bytes

    @property
    def dedupe(self) -> DedupeStore | None:
        """The dedupe store in use (``None`` when turned off).

        >>> Receiver("s", dedupe=None).dedupe is None
        True
        """
        return self._dedupe

    def verify(self, body: bytes | bytearray | memoryview, headers: Headers) -> None:
        """Check size, ``x-oc-hash`` and the custom auth header; raise if any fails.

        >>> Receiver("s").verify(b"{}", {})
        Traceback (most recent call last):
        ...
        ordercloud_tracking.SignatureVerificationError: Missing x-oc-hash header
        """
        _check_body(body, "Receiver")
        size = memoryview(body).nbytes
        if size > self._max_body_bytes:
            raise PayloadTooLargeError(size, self._max_body_bytes)
        signature = _header(headers, SIGNATURE_HEADER)
        if signature is None or not signature.strip():
            raise SignatureVerificationError(f"Missing {SIGNATURE_HEADER} header", missing=True)
        expected = _decode_signature(signature)
        if expected is None or not _matches(body, expected, self._keys):
            raise SignatureVerificationError(f"{SIGNATURE_HEADER} does not match the body")
        if self._custom_name is not None and self._custom_value is not None:
            value = _header(headers, self._custom_name)
            if value is None:
                raise SignatureVerificationError("Missing custom auth header", missing=True)
            if not _custom_matches(value.strip(), self._custom_value):
                raise SignatureVerificationError("Custom auth header does not match")

    def parse(
        self,
        body: bytes | bytearray | memoryview,
        headers: Headers,
        *,
        event_type: TrackingEventType | str | None = None,
    ) -> Delivery:
        """Verify ``body`` against ``headers``, parse it and check it against the dedupe store.

        ``event_type`` (a :class:`TrackingEventType` or namespace name) overrides what the body says or
        its shape suggests — e.g. from the endpoint URL, to tell ``LineItemUpdated`` from an add.

        Raises:
            PayloadTooLargeError: the body is over ``max_body_bytes`` (nothing was hashed).
            SignatureVerificationError: a signature or the custom auth header is missing or wrong.
            InvalidPayloadError: the body is not a JSON object (a ``ValueError``).
            TypeError: ``body`` is not bytes.

        >>> body = b'{"UserContext": {"ID": "u-1"}, "FirstName": "Jane", "LastName": "Doe"}'
        >>> Receiver("s").parse(body, {"x-oc-hash": sign_payload(body, "s")}).event_type
        <TrackingEventType.USER_LOGGED_IN: 'UserLoggedIn'>
        """
        self.verify(body, headers)
        parsed = _parse(body, event_type)
        message = parsed.message
        digest = hashlib.sha256(body).hexdigest()
        if parsed.envelope_id:
            key, fingerprint = parsed.envelope_id, ""
        else:
            entity = _entity_key(message)
            key, fingerprint = (entity, digest) if entity else (digest, "")
        duplicate = self._dedupe.seen(key, fingerprint) if self._dedupe is not None else False
        return Delivery(
            message=message,
            duplicate=duplicate,
            delivery_key=key,
            event_type=message.event_type,
            fingerprint=fingerprint,
        )

    def forget(self, delivery: Delivery) -> None:
        """Unmark a delivery in the dedupe store, so a retry of it is processed again.

        The ASGI and WSGI apps call this when the handler raises.

        >>> receiver = Receiver("s")
        >>> body = b'{"OrderID": "o-1"}'
        >>> delivery = receiver.parse(body, {"x-oc-hash": sign_payload(body, "s")})
        >>> receiver.forget(delivery)
        >>> receiver.parse(body, {"x-oc-hash": sign_payload(body, "s")}).duplicate
        False
        """
        if self._dedupe is not None:
            self._dedupe.forget(delivery.delivery_key, delivery.fingerprint)

    def __repr__(self) -> str:
        custom = repr(self._custom_label) if self._custom_label is not None else "None"
        return (
            f"Receiver(secrets=<{len(self._keys)} hidden>, max_body_bytes={self._max_body_bytes}, "
            f"custom_auth_header={custom}, dedupe={self._dedupe!r})"
        )


# --- endpoints -------------------------------------------------------------------------------------------

DeliveryHandler: TypeAlias = Callable[[Delivery], Any]
"""Your handler: called with each unique :class:`Delivery`. May be ``async`` for :func:`asgi_app`.

>>> def handle(delivery: Delivery) -> None:
...     print(delivery.event_type, delivery.message.to_request())
>>> app = wsgi_app(handle, Receiver("s"))
"""

ASGIScope: TypeAlias = MutableMapping[str, Any]
ASGIReceive: TypeAlias = Callable[[], Awaitable[MutableMapping[str, Any]]]
ASGISend: TypeAlias = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[ASGIScope, ASGIReceive, ASGISend], Awaitable[None]]
"""An ASGI 3 application.

>>> app: ASGIApp = asgi_app(lambda delivery: None, Receiver("s"))
"""
StartResponse: TypeAlias = Callable[..., Any]
WSGIApp: TypeAlias = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
"""A WSGI (PEP 3333) application.

>>> app: WSGIApp = wsgi_app(lambda delivery: None, Receiver("s"))
"""

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    500: "Internal Server Error",
}


@attrs.frozen
class _Response:
    status: int
    body: bytes
    extra_headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(cls, status: int, payload: Mapping[str, str], *extra: tuple[str, str]) -> _Response:
        return cls(status, json.dumps(payload, separators=(",", ":")).encode(), extra)

    def header_pairs(self) -> list[tuple[str, str]]:
        return [
            ("content-type", "application/json"),
            ("content-length", str(len(self.body))),
            *self.extra_headers,
        ]


_OK = _Response.json(200, {"status": "ok"})
_DUPLICATE = _Response.json(200, {"status": "duplicate"})
_BAD_JSON = _Response.json(400, {"error": "invalid JSON body"})
_BAD_LENGTH = _Response.json(400, {"error": "invalid Content-Length"})
_MISSING = _Response.json(401, {"error": "missing signature"})
_FORBIDDEN = _Response.json(403, {"error": "invalid signature"})
_NOT_ALLOWED = _Response.json(405, {"error": "method not allowed"}, ("allow", "POST"))
_TOO_LARGE = _Response.json(413, {"error": "payload too large"})
_FAILED = _Response.json(500, {"error": "internal error"})


def _content_length(value: str | None) -> int | None:
    """``None`` when absent; ``-1`` when malformed."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    return int(text) if text.isdigit() else -1


def _type_hint(query: bytes | str) -> str | None:
    """The ``type`` query parameter, when it names a message type the SDK knows."""
    from urllib.parse import parse_qs

    text = query.decode("latin-1") if isinstance(query, bytes) else query
    values = parse_qs(text).get("type")
    if values and message_class_for(values[0]) is not None:
        return values[0]
    return None


def _receive(receiver: Receiver, body: bytes, headers: Headers, query: bytes | str) -> Delivery | _Response:
    try:
        return receiver.parse(body, headers, event_type=_type_hint(query))
    except PayloadTooLargeError:
        return _TOO_LARGE
    except SignatureVerificationError as exc:
        return _MISSING if exc.missing else _FORBIDDEN
    except InvalidPayloadError:
        return _BAD_JSON


def _failed(receiver: Receiver, delivery: Delivery) -> _Response:
    receiver.forget(delivery)
    _log.exception("Tracking delivery handler failed (delivery key %s)", delivery.delivery_key)
    return _FAILED


def _is_async(handler: object) -> bool:
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


def asgi_app(handler: DeliveryHandler, receiver: Receiver) -> ASGIApp:
    """An ASGI 3 endpoint that verifies deliveries and passes each unique one to ``handler``.

    ``handler`` receives the :class:`Delivery`; it may be ``async`` or plain (a plain handler runs in a
    worker thread under asyncio). Mount it under any ASGI server or framework (uvicorn, Starlette,
    FastAPI ``app.mount``); statuses are listed in the module docstring.

    >>> received = []
    >>> app = asgi_app(received.append, Receiver("s"))
    >>> callable(app)
    True
    """
    run_async = _is_async(handler)

    async def call_handler(delivery: Delivery) -> None:
        if run_async:
            await handler(delivery)
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # another async library: run inline
            result = handler(delivery)
        else:
            result = await asyncio.to_thread(handler, delivery)
        if inspect.isawaitable(result):
            await result

    async def respond(send: ASGISend, response: _Response) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.header_pairs()],
            }
        )
        await send({"type": "http.response.body", "body": response.body, "more_body": False})

    async def lifespan(receive: ASGIReceive, send: ASGISend) -> None:
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def app(scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if str(scope.get("method", "")).upper() != "POST":
            await respond(send, _NOT_ALLOWED)
            return
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
        limit = receiver.max_body_bytes
        length = _content_length(_header(headers, "content-length"))
        if length is not None and length < 0:
            await respond(send, _BAD_LENGTH)
            return
        if length is not None and length > limit:
            await respond(send, _TOO_LARGE)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            event = await receive()
            if event["type"] == "http.disconnect":
                return
            chunk = bytes(event.get("body") or b"")
            size += len(chunk)
            if size > limit:
                await respond(send, _TOO_LARGE)
                return
            chunks.append(chunk)
            more = bool(event.get("more_body", False))
        outcome = _receive(receiver, b"".join(chunks), headers, scope.get("query_string") or b"")
        if isinstance(outcome, _Response):
            await respond(send, outcome)
            return
        if outcome.duplicate:
            await respond(send, _DUPLICATE)
            return
        try:
            await call_handler(outcome)
        except Exception:
            await respond(send, _failed(receiver, outcome))
            return
        except BaseException:  # cancelled: not processed, let the retry through
            receiver.forget(outcome)
            raise
        await respond(send, _OK)

    return app


def wsgi_app(handler: DeliveryHandler, receiver: Receiver) -> WSGIApp:
    """A WSGI (PEP 3333) endpoint that verifies deliveries and passes each unique one to ``handler``.

    ``handler`` is a plain function receiving the :class:`Delivery` (an ``async`` one is a
    :class:`TypeError`: use :func:`asgi_app`). Serve it with gunicorn, waitress or ``wsgiref``.

    >>> from io import BytesIO
    >>> app = wsgi_app(lambda delivery: None, Receiver("s"))
    >>> statuses = []
    >>> environ = {"REQUEST_METHOD": "GET", "wsgi.input": BytesIO()}
    >>> app(environ, lambda status, headers: statuses.append(status))
    [b'{"error":"method not allowed"}']
    >>> statuses
    ['405 Method Not Allowed']
    """
    if _is_async(handler):
        raise TypeError("wsgi_app() needs a synchronous handler; use asgi_app() for an async one")

    def handle(environ: dict[str, Any]) -> _Response:
        if str(environ.get("REQUEST_METHOD", "")).upper() != "POST":
            return _NOT_ALLOWED
        limit = receiver.max_body_bytes
        length = _content_length(environ.get("CONTENT_LENGTH"))
        if length is not None and length < 0:
            return _BAD_LENGTH
        if length is not None and length > limit:
            return _TOO_LARGE
        stream = environ["wsgi.input"]
        if length is None:
            # PEP 3333: no Content-Length means no body, unless the server says the input is terminated.
            body = bytes(stream.read(limit + 1)) if environ.get("wsgi.input_terminated") else b""
        else:
            body = bytes(stream.read(length)) if length else b""
        if len(body) > limit:
            return _TOO_LARGE
        headers = [
            (key[5:].replace("_", "-").lower(), str(value)) for key, value in environ.items() if key.startswith("HTTP_")
        ]
        outcome = _receive(receiver, body, headers, environ.get("QUERY_STRING") or "")
        if isinstance(outcome, _Response):
            return outcome
        if outcome.duplicate:
            return _DUPLICATE
        try:
            handler(outcome)
        except Exception:
            return _failed(receiver, outcome)
        except BaseException:
            receiver.forget(outcome)
            raise
        return _OK

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        response = handle(environ)
        start_response(f"{response.status} {_REASONS[response.status]}", response.header_pairs())
        return [response.body]

    return app
