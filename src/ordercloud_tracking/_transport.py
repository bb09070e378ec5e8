"""The pure parts of sending a request, shared by the sync and async clients.

Nothing here performs I/O: building request specs, deciding whether and how long to wait before a
retry, and turning error answers or transport failures into the error tree. The two executors in
``_client.py`` are thin loops around these functions.
"""

from __future__ import annotations

import email.utils
import json
import logging
from collections.abc import Sequence
from typing import Any, Final

import attrs
import httpx

from ._errors import (
    REDACTED,
    SENSITIVE_QUERY_PARAMS,
    APIConnectionError,
    APIError,
    APITimeoutError,
    ErrorDetail,
    TokenError,
    describe_error,
    error_class_for_status,
    parse_error_body,
)
from ._options import RetryPolicy

__all__ = [
    "NOT_GIVEN",
    "NotGiven",
    "RequestSpec",
    "api_error",
    "connection_error",
    "retry_delay",
]

log = logging.getLogger("ordercloud_tracking")

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_RETRY_ANY_METHOD_STATUSES: Final = frozenset({408, 429})  # the server did not process the request
_NEVER_RETRY: Final = frozenset({501, 505})  # permanent: Not Implemented, HTTP Version Not Supported
_BOM: Final = b"\xef\xbb\xbf"


class NotGiven:
    """Sentinel for "argument not given" where ``None`` has a meaning (``timeout=None`` = no timeout)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()

Timeout = float | httpx.Timeout | None


def _repr_params(params: Sequence[tuple[str, str]] | None) -> str:
    # Credential query parameters (``anonUserToken`` …) are not shown: specs end up in tracebacks' locals.
    if not params:
        return repr(params)
    return repr([(key, REDACTED if key.lower() in SENSITIVE_QUERY_PARAMS else value) for key, value in params])


@attrs.frozen
class RequestSpec:
    """One API call, before it is bound to a client."""

    method: str
    path: str  # relative to ``{base}/v1/``
    params: Sequence[tuple[str, str]] | None = attrs.field(default=None, repr=_repr_params)
    body: bytes | None = attrs.field(default=None, repr=False)
    idempotent: bool | None = None  # None: decided by the HTTP method
    timeout: Timeout | NotGiven = NOT_GIVEN
    access_token: str | None = attrs.field(default=None, repr=False)
    #: (ObjectType, ObjectID) named in a 404 message when OrderCloud's body does not say it.
    subject: tuple[str, str] | None = None

    @property
    def is_idempotent(self) -> bool:
        return self.idempotent if self.idempotent is not None else self.method in IDEMPOTENT_METHODS


def strip_bom(content: bytes) -> bytes:
    return content[3:] if content.startswith(_BOM) else content


def json_body(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# ------------------------------------------------------------------------------------ retry policy


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header given as seconds or as an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - now
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def may_have_reached_server(exc: httpx.TransportError) -> bool:
    """Whether a failed request could have been processed by the server.

    Connect failures (and waiting for a pool slot) happen before anything is sent; token-endpoint
    failures happen before the API request is sent.
    """
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return False
    try:
        request = exc.request
    except RuntimeError:
        return True
    return not request.extensions.get("ordercloud_token_request", False)


@attrs.frozen
class RetryDecision:
    delay: float | None  # None: do not retry
    retry_after: float | None = None


_NO_RETRY: Final = RetryDecision(None)


def retry_delay(
    policy: RetryPolicy,
    retry_number: int,
    *,
    idempotent: bool,
    response: httpx.Response | None = None,
    error: BaseException | None = None,
) -> RetryDecision:
    """Whether to retry after ``response`` or ``error``, and after how long.

    ``retry_number`` counts retries already made (0 before the first retry).
    """
    status: int | None = None
    headers: httpx.Headers | None = None
    if response is not None:
        status, headers = response.status_code, response.headers
    elif isinstance(error, TokenError):  # the API request itself was never sent
        status = error.status_code
        idempotent = True
    elif isinstance(error, httpx.TransportError):
        if retry_number >= policy.max_retries:
            return _NO_RETRY
        if idempotent or not may_have_reached_server(error):
            return RetryDecision(policy.backoff(retry_number))
        return _NO_RETRY
    else:
        return _NO_RETRY

    if status is None or not (status in _RETRY_ANY_METHOD_STATUSES or status >= 500) or status in _NEVER_RETRY:
        return _NO_RETRY
    retry_after = parse_retry_after(headers.get("retry-after") if headers is not None else None, policy.clock())
    if retry_number >= policy.max_retries:
        return RetryDecision(None, retry_after)
    if status not in _RETRY_ANY_METHOD_STATUSES and not idempotent:
        return RetryDecision(None, retry_after)
    if retry_after is not None:
        if retry_after > policy.max_retry_after:
            return RetryDecision(None, retry_after)
        return RetryDecision(retry_after, retry_after)
    return RetryDecision(policy.backoff(retry_number))


# ----------------------------------------------------------------------------------- error mapping


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


def connection_error(exc: httpx.TransportError) -> APIConnectionError:
    """Map an httpx transport failure to :class:`APIConnectionError` / :class:`APITimeoutError`."""
    try:
        request: httpx.Request | None = exc.request
    except RuntimeError:
        request = None
    method = request.method if request is not None else None
    url = request.url if request is not None else None
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    what = "Request timed out" if cls is APITimeoutError else "Connection error"
    return cls(
        f"{what} ({type(exc).__name__})",
        method=method,
        url=url,
        may_have_reached_server=may_have_reached_server(exc),
    )
