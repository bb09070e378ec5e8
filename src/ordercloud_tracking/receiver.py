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
4. :func:`~ordercloud_tracking.messages.decode_delivery` — :class:`InvalidPayloadError` if not JSON;
   the envelope's ``Headers.type`` says which event it is;
5. a *claim* in the dedupe store (see *Duplicates* below): :attr:`Delivery.outcome` is ``"new"``,
   ``"in_flight"`` or ``"duplicate"``. After handling a new delivery, call :meth:`Receiver.complete`
   (success) or :meth:`Receiver.release` (failure) — or let :func:`asgi_app` / :func:`wsgi_app` do it.

Duplicates
    OrderCloud documents no delivery ID, and delivery is probably at least once. A plain "have I seen
    these bytes?" check would drop real events: a line set to 3, then 2, then 3 again sends the same
    message twice. So the store keeps, per *entity*, the fingerprint (SHA-256 of the message bytes) of
    its latest **completed** state, and a delivery is a duplicate only when it repeats that state:

    ===================  ================================================
    Message              Entity (the delivery key)
    ===================  ================================================
    with an envelope ID  the ID itself (exact redelivery detection)
    OrderSubmitted       ``order:{OrderID}``
    OrderLine…           ``line:{OrderId}:{LineID}`` (added and updated)
    SessionIdentified    ``session:{UserContext.ID or AnonymousId}``
    anything else        the body's SHA-256
    ===================  ================================================

    A delivery counts as seen only once its handler succeeded. While one attempt is in its handler, a
    retry of the same delivery is *in flight*: it is answered ``503`` with ``Retry-After`` (never
    ``200``), so if the first attempt fails, OrderCloud's next retry is processed — nothing acknowledged
    is lost. A claim left by a crashed worker expires (``MemoryDedupeStore(claim_ttl=300)``).

    The price of not dropping real changes: a retry that arrives *after* a newer state of the same
    entity is processed again (handle line events as absolute state, as OrderCloud sends them), and two
    identical logins in a row count as one.

Added or updated?
    OrderCloud's ``Http`` body is the envelope ``{"Headers": {"type": "<namespace>"}, "Payload": {…}}``
    and ``Headers.type`` says ``…orders.lines.added`` or ``…orders.lines.updated``. A *bare* line body
    does not: if your endpoint URL says which it is (``https://shop.example/oc/events?type=LineItemUpdated``),
    :func:`asgi_app` and :func:`wsgi_app` read that ``type`` query parameter for bare bodies, and
    ``Receiver.parse(..., type_hint=...)`` takes it (``event_type=`` overrides even the envelope).

:func:`asgi_app` and :func:`wsgi_app` wrap a receiver and your handler into an endpoint with no
framework dependency:

=======  =================================================================================
Status   When
=======  =================================================================================
200      processed (``{"status": "ok"}``), or a duplicate of a processed one (``{"status": "duplicate"}``)
400      body is not a JSON object, or ``Content-Length`` is malformed (not plain ASCII digits)
401      ``x-oc-hash`` (or the custom auth header) is missing
403      ``x-oc-hash`` (or the custom auth header) does not match
405      method other than ``POST`` (``Allow: POST``)
413      body over ``max_body_bytes`` (refused from ``Content-Length`` without reading it)
500      your handler raised; the details are logged, not returned
503      the same delivery is being handled by another attempt (``{"status": "in_flight"}``,
         ``Retry-After: 5``), or your handler raised
         :class:`~ordercloud_tracking.ServiceUnavailableError` — such as the
         :class:`~ordercloud_tracking.streams.KafkaForwarder`'s ``KafkaForwardError`` when the broker
         did not acknowledge — (``{"status": "unavailable"}``, ``Retry-After`` from the error): retry later
=======  =================================================================================

The handler runs once per unique delivery. If it raises, the claim is released, so OrderCloud's retry
of that delivery is processed rather than answered as a duplicate.

Secrets never appear in a ``repr`` or in an exception message.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import Any, Literal, TypeAlias, cast

import attrs
from pydantic import SecretStr

from ._errors import (
    InvalidPayloadError,
    PayloadTooLargeError,
    ServiceUnavailableError,
    SignatureVerificationError,
)
from ._telemetry import SpanHandle, delivery_span, handler_timer, instruments
from .messages import Message, decode_delivery
from .models.tracking import TrackingEventType
from .stores import DedupeOutcome, DedupeStore, IdentityLinks, MemoryDedupeStore

__all__ = [
    "ASGIApp",
    "DEFAULT_MAX_BODY_BYTES",
    "DedupeStore",
    "Delivery",
    "DeliveryHandler",
    "Headers",
    "MemoryDedupeStore",
    "RETRY_AFTER_SECONDS",
    "Receiver",
    "SIGNATURE_HEADER",
    "WSGIApp",
    "asgi_app",
    "sign_payload",
    "verify_signature",
    "wsgi_app",
]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""Default largest body a :class:`Receiver` accepts: 1 MiB."""

SIGNATURE_HEADER = "x-oc-hash"
"""The header that carries the signature (matched case-insensitively)."""

_log = logging.getLogger("ordercloud_tracking.receiver")

SecretLike: TypeAlias = "str | bytes | SecretStr"
"""A secret: text (UTF-8), bytes, or a pydantic ``SecretStr``."""
Headers: TypeAlias = (
    "Mapping[str, str] | Mapping[bytes, bytes] | Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]]"
)
"""Request headers: a mapping, a list of ``(name, value)`` pairs, or ASGI's raw byte pairs."""

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

    ``secret`` is ``str`` (UTF-8), ``bytes`` or ``SecretStr``; a body that is not bytes is a ``TypeError``.
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
    """Whether ``signature`` (an ``x-oc-hash`` value) signs ``body`` with ``secret``, compared in constant time.

    A missing or malformed signature, or an empty secret, is ``False``; a body that is not bytes is a ``TypeError``.
    """
    _check_body(body, "verify_signature()")
    key = _key(secret)
    expected = _decode_signature(signature)
    if expected is None or not key:
        return False
    return _matches(body, expected, (key,))


# --- receiver --------------------------------------------------------------------------------------------


@attrs.frozen
class Delivery:
    """What :meth:`Receiver.parse` returns: the ``message`` and the dedupe ``outcome`` of its ``delivery_key``.

    ``"new"``: handle it, then :meth:`Receiver.complete` or :meth:`Receiver.release`; ``"in_flight"``: another
    attempt is handling it (answer a retryable error); ``"duplicate"``: its latest state was processed.
    """

    message: Message
    outcome: DedupeOutcome
    delivery_key: str
    event_type: TrackingEventType | None
    fingerprint: str = ""

    @property
    def duplicate(self) -> bool:
        """Whether this repeats the latest processed state of its entity (``outcome == "duplicate"``)."""
        return self.outcome == "duplicate"

    @property
    def in_flight(self) -> bool:
        """Whether another attempt is handling the same delivery right now (``outcome == "in_flight"``)."""
        return self.outcome == "in_flight"


class _RawHeaders(dict[bytes, bytes]):
    """ASGI's raw header pairs keyed by lower-case name, built once per request; values decoded on lookup."""

    @classmethod
    def of(cls, pairs: Iterable[tuple[bytes, bytes]]) -> _RawHeaders:
        headers = cls()
        for name, value in pairs:
            headers.setdefault(name.lower(), value)  # the first of a repeated header wins
        return headers

    def text(self, name: str) -> str | None:
        value = self.get(name.encode("latin-1"))
        return None if value is None else bytes(value).decode("latin-1")


def _header_lookup(headers: Headers) -> Callable[[str], str | None]:
    """A case-insensitive lookup of ``headers`` by lower-case name (the first of a repeated header wins)."""
    if isinstance(headers, _RawHeaders):
        return headers.text
    items: Iterable[tuple[Any, Any]] = headers.items() if isinstance(headers, Mapping) else headers
    lowered: dict[str, str] = {}
    for key, value in items:
        lowered.setdefault(_text(key).lower(), _text(value))
    return lowered.get


def _text(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return str(value)


def _custom_matches(value: str, expected: bytes) -> bool:
    # Servers hand header values over as latin-1 text (the raw bytes); a mapping built by hand may hold
    # real text. Both readings are compared, in constant time.
    raw = value.encode("latin-1", "replace")
    text = value.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(raw, expected) | hmac.compare_digest(text, expected)


class Receiver:
    """Verifies, parses and de-duplicates deliveries of an ``Http`` delivery target.

    ``secret`` is the target's ``Secret`` (``str``, ``bytes`` or ``SecretStr``), or several while you rotate it;
    ``custom_auth_header`` the ``(CustomAuthHeaderName, CustomAuthHeaderValue)`` pair, if the target sets one;
    ``dedupe`` a :class:`DedupeStore`, ``"memory"`` (the default: a fresh :class:`MemoryDedupeStore`) or ``None``
    (off); ``links`` an :class:`~ordercloud_tracking.stores.IdentityLinks` that learns user ID ↔ anonymous ID
    from every verified message carrying both (for the Sitecore mapping's ``links=``).

    Calling it yourself: :meth:`parse` claims a new delivery; handle it, then call :meth:`complete`
    (it is now seen) or :meth:`release` (it failed: a retry is processed). Answer an ``in_flight``
    delivery with a retryable error (the apps send ``503``) and a ``duplicate`` with ``200``.

    >>> receiver = Receiver(["new-secret", "old-secret"], custom_auth_header=("X-Api-Key", "k3y"))
    >>> receiver
    Receiver(secrets=<2 hidden>, max_body_bytes=1048576, custom_auth_header='X-Api-Key', \
dedupe=MemoryDedupeStore(maxsize=100000, claim_ttl=300.0))
    >>> body = b'{"OrderId": "o-1", "LineItem": {"LineID": "li-1", "Quantity": 1}}'
    >>> headers = [(b"x-oc-hash", sign_payload(body, "old-secret").encode()), (b"x-api-key", b"k3y")]
    >>> delivery = receiver.parse(body, headers)
    >>> type(delivery.message).__name__, delivery.outcome
    ('OrderLineAdded', 'new')
    >>> receiver.complete(delivery)  # handled: a redelivery is now a duplicate
    >>> receiver.parse(body, headers).outcome
    'duplicate'
    """

    __slots__ = ("_custom_label", "_custom_name", "_custom_value", "_dedupe", "_keys", "_links", "_max_body_bytes")

    def __init__(
        self,
        secret: SecretLike | Sequence[SecretLike],
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        custom_auth_header: tuple[str, SecretLike] | None = None,
        dedupe: DedupeStore | Literal["memory"] | None = "memory",
        links: IdentityLinks | None = None,
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
        if links is not None and not isinstance(links, IdentityLinks):
            raise TypeError("links must be an IdentityLinks (see ordercloud_tracking.stores) or None")
        self._links = links

    @property
    def max_body_bytes(self) -> int:
        """The largest body accepted, in bytes."""
        return self._max_body_bytes

    @property
    def dedupe(self) -> DedupeStore | None:
        """The dedupe store in use (``None`` when turned off)."""
        return self._dedupe

    @property
    def links(self) -> IdentityLinks | None:
        """The identity links this receiver teaches (``None`` when not given)."""
        return self._links

    def verify(self, body: bytes | bytearray | memoryview, headers: Headers) -> None:
        """Check size, ``x-oc-hash`` and the custom auth header, as :meth:`parse` does; raise if any fails."""
        _check_body(body, "Receiver")
        size = memoryview(body).nbytes
        if size > self._max_body_bytes:
            raise PayloadTooLargeError(size, self._max_body_bytes)
        lookup = _header_lookup(headers)
        signature = lookup(SIGNATURE_HEADER)
        if signature is None or not signature.strip():
            raise SignatureVerificationError(f"Missing {SIGNATURE_HEADER} header", missing=True)
        expected = _decode_signature(signature)
        if expected is None or not _matches(body, expected, self._keys):
            raise SignatureVerificationError(f"{SIGNATURE_HEADER} does not match the body")
        if self._custom_name is not None and self._custom_value is not None:
            value = lookup(self._custom_name)
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
        type_hint: TrackingEventType | str | None = None,
    ) -> Delivery:
        """Verify ``body``, parse it and claim it for dedupe: :meth:`complete` or :meth:`release` a ``"new"`` one.

        ``event_type`` overrides the body's type; ``type_hint`` only names a body that declares none (``?type=``).
        Raises ``PayloadTooLargeError``, ``SignatureVerificationError``, ``InvalidPayloadError`` or ``TypeError``.
        """
        self.verify(body, headers)
        decoded = decode_delivery(body, event_type=event_type, type_hint=type_hint)
        key, fingerprint = decoded.delivery_key, decoded.fingerprint
        if self._links is not None:  # before the claim: a failing store leaves no claim behind (the app answers 500)
            self._links.learn(decoded.message)
        outcome: DedupeOutcome = self._dedupe.claim(key, fingerprint) if self._dedupe is not None else "new"
        message = decoded.message
        return Delivery(message, outcome, key, message.event_type, fingerprint)

    def complete(self, delivery: Delivery) -> None:
        """After your handler succeeded, mark a ``new`` delivery as processed: a redelivery is now a ``duplicate``."""
        if self._dedupe is not None and delivery.outcome == "new":
            self._dedupe.complete(delivery.delivery_key, delivery.fingerprint)

    def release(self, delivery: Delivery) -> None:
        """Give up the claim of a ``new`` delivery (the handler failed): its retry is processed."""
        if self._dedupe is not None and delivery.outcome == "new":
            self._dedupe.release(delivery.delivery_key, delivery.fingerprint)

    def forget(self, delivery: Delivery) -> None:
        """The former name of :meth:`release`, kept for compatibility."""
        self.release(delivery)

    def __repr__(self) -> str:
        custom = repr(self._custom_label) if self._custom_label is not None else "None"
        return (
            f"Receiver(secrets=<{len(self._keys)} hidden>, max_body_bytes={self._max_body_bytes}, "
            f"custom_auth_header={custom}, dedupe={self._dedupe!r})"
        )


# --- endpoints -------------------------------------------------------------------------------------------

DeliveryHandler: TypeAlias = Callable[[Delivery], Any]
"""Your handler: called with each unique :class:`Delivery`. May be ``async`` for :func:`asgi_app`."""

ASGIScope: TypeAlias = MutableMapping[str, Any]
ASGIReceive: TypeAlias = Callable[[], Awaitable[MutableMapping[str, Any]]]
ASGISend: TypeAlias = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[ASGIScope, ASGIReceive, ASGISend], Awaitable[None]]
"""An ASGI 3 application."""
StartResponse: TypeAlias = Callable[..., Any]
WSGIApp: TypeAlias = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
"""A WSGI (PEP 3333) application."""

RETRY_AFTER_SECONDS = 5
"""The ``Retry-After`` of the ``503`` that answers a delivery another attempt is still handling."""

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@attrs.frozen
class _Response:
    status: int
    body: bytes
    header_pairs: tuple[tuple[str, str], ...]
    asgi_start: dict[str, Any]  # the ASGI ``http.response.start`` event, encoded once
    outcome: str  # ``ordercloud.outcome`` of the delivery span and the deliveries counter

    @classmethod
    def json(cls, status: int, outcome: str, payload: Mapping[str, str], *extra: tuple[str, str]) -> _Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        pairs = (("content-type", "application/json"), ("content-length", str(len(body))), *extra)
        start = {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs],
        }
        return cls(status, body, pairs, start, outcome)


_OK = _Response.json(200, "processed", {"status": "ok"})
_DUPLICATE = _Response.json(200, "duplicate", {"status": "duplicate"})
_BAD_JSON = _Response.json(400, "invalid_payload", {"error": "invalid JSON body"})
_BAD_LENGTH = _Response.json(400, "invalid_length", {"error": "invalid Content-Length"})
_MISSING = _Response.json(401, "signature_missing", {"error": "missing signature"})
_FORBIDDEN = _Response.json(403, "signature_invalid", {"error": "invalid signature"})
_NOT_ALLOWED = _Response.json(405, "method_not_allowed", {"error": "method not allowed"}, ("allow", "POST"))
_TOO_LARGE = _Response.json(413, "too_large", {"error": "payload too large"})
_FAILED = _Response.json(500, "handler_failed", {"error": "internal error"})
_IN_FLIGHT = _Response.json(503, "in_flight", {"status": "in_flight"}, ("retry-after", str(RETRY_AFTER_SECONDS)))


def _content_length(value: str | None, limit: int) -> _Response | int | None:
    """``None`` when absent; the length; or the response for a malformed (400) or too large (413) one.

    Only plain ASCII digits are a length: ``²`` (a digit to ``str.isdigit``), ``-1``, ``1,1`` or ``abc``
    are malformed.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit()):
        return _BAD_LENGTH
    if len(text) > 18:  # beyond any limit, and int() refuses very long digit strings
        return _TOO_LARGE
    length = int(text)
    return _TOO_LARGE if length > limit else length


def _type_hint(query: bytes | str) -> str | None:
    """The ``type`` query parameter, if any (a name the SDK does not know is ignored by the parser)."""
    if not query:
        return None
    from urllib.parse import parse_qs

    text = query.decode("latin-1") if isinstance(query, bytes) else query
    values = parse_qs(text).get("type")
    return values[0] if values else None


def _receive(
    receiver: Receiver, body: bytes, headers: Headers, query: bytes | str, span: SpanHandle
) -> tuple[Delivery | None, _Response | None]:
    """The delivery (``None`` when refused) and the answer (``None``: call the handler)."""
    try:
        delivery = receiver.parse(body, headers, type_hint=_type_hint(query))
    except PayloadTooLargeError:
        return None, _TOO_LARGE
    except SignatureVerificationError as exc:
        span.set("ordercloud.signature", "missing" if exc.missing else "invalid")
        return None, _MISSING if exc.missing else _FORBIDDEN
    except InvalidPayloadError:
        span.set("ordercloud.signature", "valid")
        return None, _BAD_JSON
    if span.span is not None:
        _describe(span, delivery)
    if delivery.outcome == "duplicate":
        found = instruments()
        if found is not None:
            found.duplicates.add(1, {"ordercloud.event_type": _event_name(delivery)})
        return delivery, _DUPLICATE
    if delivery.outcome == "in_flight":
        return delivery, _IN_FLIGHT
    return delivery, None


# --- telemetry (see _telemetry: free when OpenTelemetry is absent or not set up) ----------------------------


def _event_name(delivery: Delivery | None) -> str:
    event_type = None if delivery is None else delivery.event_type
    return "unknown" if event_type is None else str(event_type.value)


def _span_key(delivery_key: str) -> str:
    """The delivery key as a span attribute: a login's key names a user or an ``anonuserid``, so it is hashed."""
    if delivery_key.startswith("session:"):
        return "session:" + hashlib.sha256(delivery_key.encode("utf-8")).hexdigest()[:16]
    return delivery_key


def _describe(span: SpanHandle, delivery: Delivery) -> None:
    name = _event_name(delivery)
    span.rename(f"ordercloud.delivery {name}")
    span.set("ordercloud.signature", "valid")
    span.set("ordercloud.event_type", name)
    span.set("ordercloud.delivery_key", _span_key(delivery.delivery_key))
    span.set("ordercloud.dedupe", delivery.outcome)
    span.set("ordercloud.duplicate", delivery.outcome == "duplicate")


def _report(span: SpanHandle, response: _Response, delivery: Delivery | None) -> _Response:
    """Record the answer to a delivery on its span and in the deliveries counter."""
    if span.span is not None:
        span.set("http.response.status_code", response.status)
        span.set("ordercloud.outcome", response.outcome)
    found = instruments()
    if found is not None:
        found.deliveries.add(
            1, {"ordercloud.event_type": _event_name(delivery), "ordercloud.outcome": response.outcome}
        )
    return response


def _failed(receiver: Receiver, delivery: Delivery, span: SpanHandle, error: BaseException) -> _Response:
    span.fail(error)
    receiver.release(delivery)
    if isinstance(error, ServiceUnavailableError):  # not processed: OrderCloud's retry is
        _log.warning(
            "Tracking delivery handler unavailable (delivery key %s): %s; answered 503",
            delivery.delivery_key,
            error,
        )
        retry_after = max(1, int(error.retry_after))
        return _Response.json(503, "unavailable", {"status": "unavailable"}, ("retry-after", str(retry_after)))
    _log.exception("Tracking delivery handler failed (delivery key %s)", delivery.delivery_key)
    return _FAILED


def _succeeded(receiver: Receiver, delivery: Delivery) -> _Response:
    try:
        receiver.complete(delivery)
    except Exception:  # processed all the same: acknowledge it; a redelivery may be processed again
        _log.exception("Dedupe store failed to record a processed delivery (delivery key %s)", delivery.delivery_key)
    return _OK


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
        await send(response.asgi_start)
        await send({"type": "http.response.body", "body": response.body, "more_body": False})

    async def lifespan(receive: ASGIReceive, send: ASGISend) -> None:
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def serve(scope: ASGIScope, receive: ASGIReceive, span: SpanHandle) -> _Response | None:
        """The answer to one POST (``None``: the client went away), recorded on ``span``."""
        headers = _RawHeaders.of(scope.get("headers") or ())  # indexed once for every lookup
        limit = receiver.max_body_bytes
        length = _content_length(headers.text("content-length"), limit)
        if isinstance(length, _Response):
            return _report(span, length, None)
        event = await receive()
        if event["type"] == "http.disconnect":
            return None
        body = event.get("body") or b""
        if len(body) > limit:
            return _report(span, _TOO_LARGE, None)
        if event.get("more_body", False):  # the rest arrives in chunks
            chunks = [bytes(body)]
            size = len(body)
            more = True
            while more:
                event = await receive()
                if event["type"] == "http.disconnect":
                    return None
                chunk = bytes(event.get("body") or b"")
                size += len(chunk)
                if size > limit:
                    return _report(span, _TOO_LARGE, None)
                chunks.append(chunk)
                more = bool(event.get("more_body", False))
            body = b"".join(chunks)
        delivery, response = _receive(receiver, body, headers, scope.get("query_string") or b"", span)
        if response is not None or delivery is None:
            return _report(span, response or _BAD_JSON, delivery)
        try:
            with handler_timer(_event_name(delivery)):
                await call_handler(delivery)
        except Exception as exc:
            return _report(span, _failed(receiver, delivery, span, exc), delivery)
        except BaseException:  # cancelled: not processed, let the retry through
            receiver.release(delivery)
            raise
        return _report(span, _succeeded(receiver, delivery), delivery)

    async def app(scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if str(scope.get("method", "")).upper() != "POST":
            await respond(send, _NOT_ALLOWED)
            return
        with delivery_span(None, None) as span:  # named once the event type is known
            response = await serve(scope, receive, span)
            if response is not None:
                await respond(send, response)

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

    def handle(environ: dict[str, Any], span: SpanHandle) -> tuple[_Response, Delivery | None]:
        limit = receiver.max_body_bytes
        length = _content_length(environ.get("CONTENT_LENGTH"), limit)
        if isinstance(length, _Response):
            return length, None
        stream = environ["wsgi.input"]
        if length is None:
            # PEP 3333: no Content-Length means no body, unless the server says the input is terminated.
            body = bytes(stream.read(limit + 1)) if environ.get("wsgi.input_terminated") else b""
        else:
            body = bytes(stream.read(length)) if length else b""
        if len(body) > limit:
            return _TOO_LARGE, None
        headers = [
            (key[5:].replace("_", "-").lower(), str(value)) for key, value in environ.items() if key.startswith("HTTP_")
        ]
        delivery, response = _receive(receiver, body, headers, environ.get("QUERY_STRING") or "", span)
        if response is not None or delivery is None:
            return response or _BAD_JSON, delivery
        try:
            with handler_timer(_event_name(delivery)):
                handler(delivery)
        except Exception as exc:
            return _failed(receiver, delivery, span, exc), delivery
        except BaseException:
            receiver.release(delivery)
            raise
        return _succeeded(receiver, delivery), delivery

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if str(environ.get("REQUEST_METHOD", "")).upper() != "POST":
            response = _NOT_ALLOWED
        else:
            with delivery_span(None, None) as span:  # named once the event type is known
                response = _report(span, *handle(environ, span))
        start_response(f"{response.status} {_REASONS[response.status]}", list(response.header_pairs))
        return [response.body]

    return app
