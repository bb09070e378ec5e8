"""The exceptions this SDK raises. Every one derives from :class:`OrderCloudError`.

```
OrderCloudError
├── APIError                      an HTTP error answer from OrderCloud (status_code, errors, error_code)
│   ├── BadRequestError           400  (ValidationFailure, List.*, LineItem.*, Order.* …)
│   ├── AuthenticationError       401  (invalid or expired token; after one replay with a new token)
│   ├── PermissionDeniedError     403  (Auth.InsufficientRoles …)
│   ├── NotFoundError             404  ("TrackingEvent te1 not found")
│   ├── ConflictError             409  (an object with that ID exists)
│   ├── RateLimitError            429  (retry_after tells how long the server asked to wait)
│   ├── InternalServerError       >= 500
│   └── TokenError                the token endpoint refused a grant (error, error_description, errors)
├── APIConnectionError            no HTTP answer: DNS, refused, reset
│   └── APITimeoutError           no answer in time
├── AmbiguousSubmitError          a submit whose outcome is unknown and that was not resent
├── AnonymousTransferError        login worked (or not) but TransferAnonUserOrder failed
├── SignatureVerificationError    an x-oc-hash (or custom auth header) that does not verify
├── PayloadTooLargeError          a delivery body over the receiver's limit (checked before hashing)
├── InvalidPayloadError           a delivery body that is not JSON (also a ValueError)
└── MappingError                  a message lacks a field a Sitecore target requires (also a ValueError)
```

Errors never carry a token, password or secret: URLs have their credential query parameters
redacted, and request bodies are not kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AmbiguousSubmitError",
    "AnonymousTransferError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ErrorDetail",
    "InternalServerError",
    "InvalidPayloadError",
    "MappingError",
    "NotFoundError",
    "OrderCloudError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "SignatureVerificationError",
    "TokenError",
    "error_class_for_status",
    "parse_error_body",
    "redact_text",
    "redact_url",
]

#: Query parameters whose values are credentials (compared case-insensitively).
SENSITIVE_QUERY_PARAMS = frozenset(
    {"anonusertoken", "access_token", "token", "refresh_token", "client_secret", "password", "apikey"}
)
REDACTED = "[REDACTED]"
_SENSITIVE_PARAM_RE = re.compile(r"(?i)([?&](?:" + "|".join(sorted(SENSITIVE_QUERY_PARAMS)) + r")=)[^&#\s\"'<>]*")


def redact_text(text: str) -> str:
    """Redact credential query parameters anywhere in a piece of text (a log line, a URL)."""
    return _SENSITIVE_PARAM_RE.sub(lambda m: m.group(1) + REDACTED, text)


def redact_url(url: object) -> str:
    """Return ``url`` as a string with every credential query parameter value replaced."""
    text = str(url)
    parts = urlsplit(text)
    if not parts.query:
        return text
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(key.lower() in SENSITIVE_QUERY_PARAMS for key, _ in pairs):
        return text
    query = urlencode(
        [(key, REDACTED if key.lower() in SENSITIVE_QUERY_PARAMS else value) for key, value in pairs],
        safe="[]*!|<>",
    )
    return urlunsplit(parts._replace(query=query))


@attrs.frozen
class ErrorDetail:
    """One entry of OrderCloud's ``Errors`` array."""

    error_code: str | None
    message: str | None
    data: Any = attrs.field(default=None, repr=False)

    @classmethod
    def from_json(cls, raw: Any) -> ErrorDetail:
        if not isinstance(raw, Mapping):
            return cls(error_code=None, message=str(raw))
        code = raw.get("ErrorCode")
        message = raw.get("Message")
        return cls(
            error_code=str(code) if code is not None else None,
            message=str(message) if message is not None else None,
            data=raw.get("Data"),
        )


class OrderCloudError(Exception):
    """Base class of every error raised by ``ordercloud_tracking``."""


class APIError(OrderCloudError):
    """OrderCloud answered with an HTTP error status."""

    status_code: int
    errors: list[ErrorDetail]
    method: str | None
    url: str | None
    retry_after: float | None

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        errors: Sequence[ErrorDetail] = (),
        method: str | None = None,
        url: object = None,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.errors = list(errors)
        self.method = method
        self.url = redact_url(url) if url is not None else None
        self.retry_after = retry_after
        self.body = body

    @property
    def error_code(self) -> str | None:
        """The first error's ``ErrorCode`` — the one OrderCloud says to program against."""
        return self.errors[0].error_code if self.errors else None

    def __str__(self) -> str:
        where = f" ({self.method} {self.url})" if self.method and self.url else ""
        return f"{self.message} [HTTP {self.status_code}]{where}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, error_code={self.error_code!r}, "
            f"message={self.message!r})"
        )


class BadRequestError(APIError):
    """HTTP 400: the request was invalid (see ``error_code``)."""


class AuthenticationError(APIError):
    """HTTP 401: the token was missing, invalid or expired, even after one refresh."""


class PermissionDeniedError(APIError):
    """HTTP 403: the token lacks a role the endpoint needs (usually ``Auth.InsufficientRoles``)."""


class NotFoundError(APIError):
    """HTTP 404: the object does not exist (or is not visible to this user)."""


class ConflictError(APIError):
    """HTTP 409: an object with this ID already exists."""


class RateLimitError(APIError):
    """HTTP 429: too many requests. ``retry_after`` holds the server's wait hint in seconds."""


class InternalServerError(APIError):
    """HTTP 5xx: OrderCloud failed (``Api.Offline`` during maintenance)."""


class TokenError(APIError):
    """The token endpoint refused the grant.

    ``error`` and ``error_description`` are the OAuth fields; ``errors`` holds OrderCloud's
    ``Errors`` (e.g. ``Auth.InvalidUsernameOrPassword``).
    """

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        error_description: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.error = error
        self.error_description = error_description

    @property
    def error_code(self) -> str | None:
        return super().error_code or self.error


class APIConnectionError(OrderCloudError):
    """No HTTP answer was received (DNS failure, connection refused or reset)."""

    def __init__(
        self,
        message: str = "Connection error",
        *,
        method: str | None = None,
        url: object = None,
        may_have_reached_server: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = redact_url(url) if url is not None else None
        #: False when the failure happened before anything was sent (a connect error).
        self.may_have_reached_server = may_have_reached_server

    def __str__(self) -> str:
        where = f" ({self.method} {self.url})" if self.method and self.url else ""
        return f"{self.message}{where}"


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class AmbiguousSubmitError(OrderCloudError):
    """A submit failed in a way that leaves its outcome unknown, and the order is not submitted.

    The SDK never resends a submit. It checked the order once: ``order`` is what that check saw (or
    ``None`` if the check failed too), ``cause`` is the original failure.
    """

    def __init__(
        self,
        message: str,
        *,
        order_id: str,
        direction: str | None = None,
        order: Any = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.order_id = order_id
        self.direction = direction
        self.order = order
        self.cause = cause

    @property
    def status(self) -> str | None:
        """The order's ``Status`` as seen by the check, if the check succeeded."""
        status = getattr(self.order, "status", None)
        return str(status) if status is not None else None


class AnonymousTransferError(OrderCloudError):
    """Moving the anonymous shopper's order to the logged-in user failed.

    ``logged_in`` says whether the login itself succeeded (the session then acts as the user and
    :meth:`~ordercloud_tracking.identity.ShopperSession.transfer_anonymous_order` can be retried);
    ``order_id`` is the anonymous order, ``cause`` the failure.
    """

    def __init__(
        self, message: str, *, logged_in: bool, order_id: str | None, cause: BaseException | None = None
    ) -> None:
        super().__init__(message)
        self.logged_in = logged_in
        self.order_id = order_id
        self.cause = cause


class SignatureVerificationError(OrderCloudError):
    """A delivery's ``x-oc-hash`` (or static auth header) is missing or does not match."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


class PayloadTooLargeError(OrderCloudError):
    """A delivery body is larger than the receiver accepts (checked before hashing)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"Payload of {size} bytes is over the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class InvalidPayloadError(OrderCloudError, ValueError):
    """A delivery body is not valid JSON (or not a JSON object)."""


class MappingError(OrderCloudError, ValueError):
    """A message lacks a field that a Sitecore target requires."""

    def __init__(self, field: str, target: str, detail: str | None = None) -> None:
        message = f"{target} requires {field}" + (f": {detail}" if detail else "")
        super().__init__(message)
        self.field = field
        self.target = target


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def error_class_for_status(status_code: int) -> type[APIError]:
    """The :class:`APIError` subclass for an HTTP status."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIError)


def parse_error_body(content: bytes) -> tuple[Any, list[ErrorDetail]]:
    """Parse an error body (may start with a UTF-8 BOM; may not be JSON at all)."""
    text = content.decode("utf-8-sig", errors="replace").strip()
    if not text:
        return None, []
    try:
        body = json.loads(text)
    except ValueError:
        return text, []
    raw_errors = body.get("Errors") if isinstance(body, Mapping) else None
    if isinstance(raw_errors, list):
        return body, [ErrorDetail.from_json(item) for item in raw_errors]
    return body, []


def describe_error(status_code: int, reason: str, errors: Sequence[ErrorDetail], body: Any) -> str:
    """A one-line message: ``"NotFound: TrackingEvent te1 not found"``."""
    if errors:
        first = errors[0]
        message = first.message or _not_found_message(first) or ""
        if first.error_code and message:
            return f"{first.error_code}: {message}"
        return first.error_code or message or reason
    if isinstance(body, Mapping):
        for key in ("error_description", "error", "Message", "message"):
            if isinstance(body.get(key), str):
                return str(body[key])
    if isinstance(body, str) and body and len(body) <= 200 and "<" not in body:
        return body
    return reason or f"HTTP {status_code}"


def _not_found_message(detail: ErrorDetail) -> str | None:
    data = detail.data
    if detail.error_code == "NotFound" and isinstance(data, Mapping):
        object_type, object_id = data.get("ObjectType"), data.get("ObjectID")
        if object_type and object_id:
            return f"{object_type} {object_id} not found"
    return None
