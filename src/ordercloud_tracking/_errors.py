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
│   ├── TokenError                the token endpoint refused a grant (error, error_description, errors)
│   └── ResponseValidationError   a 2xx answer whose body does not fit the model (validation_errors)
├── APIConnectionError            no HTTP answer: DNS, refused, reset
│   └── APITimeoutError           no answer in time
├── MissingCredentialsError       the client has no credentials for the call (nothing was sent)
├── PaginationError               a list walk that makes no progress (the server repeats a page)
├── AmbiguousSubmitError          a submit whose outcome is unknown and that was not resent
├── AnonymousTransferError        logged in, but moving the anonymous order to the user failed
├── SignatureVerificationError    an x-oc-hash (or custom auth header) that does not verify
├── PayloadTooLargeError          a delivery body over the receiver's limit (checked before hashing)
├── InvalidPayloadError           a delivery body that is not JSON (also a ValueError)
├── ServiceUnavailableError       a handler's dependency is down: the receiver apps answer 503 + Retry-After
└── MappingError                  a message lacks a field a Sitecore target requires (also a ValueError)
```

Errors never carry a token, password or secret: URLs have their credential query parameters
redacted, request bodies are not kept, and an error raised for an ``httpx`` failure is not chained to
it (the httpx exception's request holds the token request's form body and the ``Authorization``
header); ``__cause__`` is a detached copy with the same type and message instead.

Every error pickles with its fields (a ``NotFoundError`` raised in a ``ProcessPoolExecutor`` worker
reaches the caller as itself), and reports ``ordercloud_tracking`` as its module, its public home.

This module is also the one place where answers and transport failures become errors:
:func:`api_error`, :func:`token_error`, :func:`connection_error` and :func:`response_validation_error`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._public import set_public_home
from ._redact import redact_text, redact_url

if TYPE_CHECKING:
    import httpx
    from pydantic import ValidationError

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
    "MissingCredentialsError",
    "NotFoundError",
    "OrderCloudError",
    "PaginationError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseValidationError",
    "ServiceUnavailableError",
    "SignatureVerificationError",
    "TokenError",
    "api_error",
    "connection_error",
    "describe_error",
    "error_class_for_status",
    "parse_error_body",
    "rebuild_error",
    "response_validation_error",
    "token_error",
]


@attrs.frozen
class ErrorDetail:
    """One entry of OrderCloud's ``Errors`` array: ``error_code``, ``message`` and ``data`` (not in the repr)."""

    error_code: str | None
    message: str | None
    data: Any = attrs.field(default=None, repr=False)

    @classmethod
    def from_json(cls, raw: Any) -> ErrorDetail:
        """Read one entry of an ``Errors`` array (``ErrorCode``, ``Message``, ``Data``)."""
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
    """Base class of every error raised by ``ordercloud_tracking`` (argument checks raise ``ValueError``/``TypeError``)."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt without calling __init__ (whose keyword-only fields pickle cannot pass), then the
        # fields are restored from __dict__. __cause__, __context__ and the traceback are not pickled.
        return (rebuild_error, (type(self), self.args), dict(vars(self)))


class APIError(OrderCloudError):
    """OrderCloud answered with an HTTP error status: the subclass for it (``NotFoundError`` …), else ``APIError``.

    ``status_code``, ``errors`` (:class:`ErrorDetail`), ``error_code``, ``method``, ``url`` (credentials
    redacted), ``retry_after`` and ``body`` say what happened.
    """

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
    """HTTP 401: the token was missing, invalid, expired or revoked."""


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
    """The token endpoint refused the grant (or answered without an ``access_token``)."""

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
        """The first error's ``ErrorCode``, else the OAuth ``error`` (e.g. ``invalid_grant``)."""
        return super().error_code or self.error


class ResponseValidationError(APIError):
    """OrderCloud answered 2xx, but the body does not fit the model the SDK expected."""

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        validation_errors: Sequence[Mapping[str, Any]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.model = model
        self.validation_errors = [dict(error) for error in validation_errors]


class MissingCredentialsError(OrderCloudError):
    """The client has no credentials for this call, so no request was sent."""

    def __init__(self, message: str, *, method: str | None = None, url: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = redact_url(url) if url is not None else None


class PaginationError(OrderCloudError):
    """Walking a list (``iter_all``) made no progress: the server answered the same page again."""

    def __init__(self, path: str, *, last_id: str) -> None:
        super().__init__(f"Listing {path} made no progress: the page after ID {last_id} holds {last_id} again")
        self.path = path
        self.last_id = last_id


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
    """The request timed out (``timeout=``, 30 seconds by default)."""


class AmbiguousSubmitError(OrderCloudError):
    """A submit failed in a way that may nevertheless have been processed, and it was not confirmed."""

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
    """After a successful login, moving the anonymous shopper's order to the user failed."""

    def __init__(
        self, message: str, *, logged_in: bool, order_id: str | None, cause: BaseException | None = None
    ) -> None:
        super().__init__(message)
        self.logged_in = logged_in
        self.order_id = order_id
        self.cause = cause


class SignatureVerificationError(OrderCloudError):
    """A delivery's ``x-oc-hash`` (or custom auth header) is missing or does not match."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


class PayloadTooLargeError(OrderCloudError):
    """A delivery body is larger than the receiver accepts (checked before hashing): ``size`` and ``limit``."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"Payload of {size} bytes is over the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class InvalidPayloadError(OrderCloudError, ValueError):
    """A delivery body is not valid JSON (or not UTF-8, or not a JSON object). Also a ``ValueError``."""


class ServiceUnavailableError(OrderCloudError):
    """Something a delivery handler needs is down or too slow: retry the delivery later.

    Raise it (or a subclass, such as ``KafkaForwardError``) from a handler of
    :func:`~ordercloud_tracking.receiver.asgi_app` / :func:`~ordercloud_tracking.receiver.wsgi_app`:
    the claim is released and the endpoint answers ``503`` with ``Retry-After: retry_after`` (instead
    of ``500``), so OrderCloud delivers again.

    >>> error = ServiceUnavailableError("the warehouse API is down", retry_after=30)
    >>> str(error), error.retry_after
    ('the warehouse API is down', 30)
    """

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MappingError(OrderCloudError, ValueError):
    """A message lacks a field a Sitecore target requires, or has a value it cannot use. Also a ``ValueError``."""

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
    """Parse an error body (may start with a UTF-8 BOM; may not be JSON at all, or nest too deeply)."""
    text = content.decode("utf-8-sig", errors="replace").strip()
    if not text:
        return None, []
    try:
        body = json.loads(text)
        raw_errors = body.get("Errors") if isinstance(body, Mapping) else None
        errors = [ErrorDetail.from_json(item) for item in raw_errors] if isinstance(raw_errors, list) else []
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python can read: keep the text
        return text, []
    return body, errors


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


# ------------------------------------------------------------------ answers and failures → errors


def rebuild_error(cls: type[OrderCloudError], args: tuple[Any, ...]) -> OrderCloudError:
    """Unpickling: make the exception without calling ``__init__`` (pickle restores its fields next)."""
    return cls.__new__(cls, *args)


def api_error(
    response: httpx.Response,
    *,
    retry_after: float | None = None,
    subject: tuple[str, str] | None = None,
) -> APIError:
    """The :class:`APIError` subclass for an error answer (the body may start with a BOM or not be JSON)."""
    request = response.request
    body, errors = parse_error_body(response.content)
    cls = error_class_for_status(response.status_code)
    if response.status_code == 404 and subject is not None and not any(e.message for e in errors):
        object_type, object_id = subject
        errors = [
            ErrorDetail(
                "NotFound", f"{object_type} {object_id} not found", {"ObjectType": object_type, "ObjectID": object_id}
            )
        ]
    message = describe_error(response.status_code, response.reason_phrase, errors, body)
    return cls(
        message,
        status_code=response.status_code,
        errors=errors,
        method=request.method,
        url=request.url,
        retry_after=retry_after,
        body=body,
    )


def token_error(request: httpx.Request, response: httpx.Response) -> TokenError:
    """A :class:`TokenError` from a failed token response (OAuth and OrderCloud fields)."""
    body, errors = parse_error_body(response.content)
    error = body.get("error") if isinstance(body, Mapping) else None
    description = body.get("error_description") if isinstance(body, Mapping) else None
    kind = error_class_for_status(response.status_code).__name__
    message = describe_error(response.status_code, response.reason_phrase, errors, body)
    return TokenError(
        f"Token request failed ({kind}): {message}",
        error=_scalar_text(error),
        error_description=_scalar_text(description),
        status_code=response.status_code,
        errors=errors,
        method="POST",
        url=request.url,
        retry_after=None,
    )


def _scalar_text(value: Any) -> str | None:
    # A JSON scalar as text; a list or object (possibly nested too deeply to print) is not an OAuth field.
    return str(value) if isinstance(value, (str, int, float)) else None


def connection_error(exc: httpx.TransportError) -> APIConnectionError:
    """Map an httpx transport failure to :class:`APIConnectionError` / :class:`APITimeoutError`."""
    import httpx

    from ._retry import may_have_reached_server

    try:
        request: httpx.Request | None = exc.request
    except RuntimeError:
        request = None
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    what = "Request timed out" if cls is APITimeoutError else "Connection error"
    error = cls(
        f"{what} ({type(exc).__name__})",
        method=request.method if request is not None else None,
        url=request.url if request is not None else None,
        may_have_reached_server=may_have_reached_server(exc),
    )
    error.__cause__ = detached(exc)
    return error


def detached(exc: BaseException) -> BaseException | None:
    """A copy of ``exc`` with only its type and (redacted) message: no request, no chain, no traceback."""
    try:
        copy = type(exc)(redact_text(str(exc)))
    except Exception:  # an exception type that cannot be built from a message
        return None
    copy.__cause__ = copy.__context__ = None
    return copy


def response_validation_error(
    response: httpx.Response, model: type[Any], exc: ValidationError
) -> ResponseValidationError:
    """A :class:`ResponseValidationError` for a 2xx ``response`` whose body did not validate as ``model``."""
    problems = [{"loc": tuple(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors(include_url=False)]
    summary = "; ".join(f"{'.'.join(map(str, p['loc'])) or '(body)'}: {p['msg']}" for p in problems[:3])
    request = response.request
    return ResponseValidationError(
        f"Unexpected {model.__name__} body from OrderCloud: {len(problems)} validation error(s): {summary}",
        model=model.__name__,
        validation_errors=problems,
        status_code=response.status_code,
        method=request.method,
        url=request.url,
    )


set_public_home(value for value in map(globals().get, __all__) if isinstance(value, type))
