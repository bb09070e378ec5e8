"""Retries, in one place: the policy, the decision, the delay, ``Retry-After`` and "may have reached the server".

Nothing here performs I/O or sleeps: the executors in ``_base_client`` ask :func:`retry_delay` after
every failed attempt and wait with the policy's injectable ``sleep``.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

import attrs

from ._public import set_public_home

if TYPE_CHECKING:
    import httpx

__all__ = ["RetryDecision", "RetryPolicy", "may_have_reached_server", "parse_retry_after", "retry_delay"]

_RETRY_ANY_METHOD_STATUSES: Final = frozenset({408, 429})  # the server did not process the request
_NEVER_RETRY: Final = frozenset({501, 505})  # permanent: Not Implemented, HTTP Version Not Supported
#: Marks the token request (``httpx.Request.extensions``): a failure there happened before the API request.
TOKEN_REQUEST_EXTENSION: Final = "ordercloud_token_request"  # noqa: S105 - a marker name, not a credential


async def _asyncio_sleep(seconds: float) -> None:
    import asyncio  # only async clients pay for importing asyncio

    await asyncio.sleep(seconds)


def _validate_non_negative(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


@attrs.frozen
class RetryPolicy:
    """When and how long to wait before retrying a request."""

    max_retries: int = attrs.field(default=2, validator=attrs.validators.ge(0))
    base_delay: float = attrs.field(default=0.5, validator=_validate_non_negative)
    max_delay: float = attrs.field(default=8.0, validator=_validate_non_negative)
    max_retry_after: float = attrs.field(default=60.0, validator=_validate_non_negative)
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, eq=False, repr=False)
    async_sleep: Callable[[float], Awaitable[None]] = attrs.field(default=_asyncio_sleep, eq=False, repr=False)
    clock: Callable[[], float] = attrs.field(default=time.time, eq=False, repr=False)
    random: Callable[[], float] = attrs.field(default=random.random, eq=False, repr=False)

    def backoff(self, retry_number: int) -> float:
        """Full-jitter delay before retry ``retry_number`` (0 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * (2.0**retry_number))
        return self.random() * ceiling


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
    """Whether a failed request could have been processed by the server."""
    import httpx

    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return False
    try:
        request = exc.request
    except RuntimeError:
        return True
    return not request.extensions.get(TOKEN_REQUEST_EXTENSION, False)


@attrs.frozen
class RetryDecision:
    """Whether to retry (``delay`` is not ``None``) and the server's ``Retry-After`` hint, if any."""

    delay: float | None  # None: do not retry
    retry_after: float | None = None


_NO_RETRY: Final = RetryDecision(None)


def retry_delay(policy: RetryPolicy, retry_number: int, *, idempotent: bool, outcome: object) -> RetryDecision:
    """Whether to retry after ``outcome`` (an ``httpx.Response``, or the exception an attempt raised), and
    after how long."""
    retry_after_header: str | None = None
    if isinstance(outcome, BaseException):
        import httpx

        status = getattr(outcome, "status_code", None)
        if isinstance(status, int):  # a TokenError: the API request was never sent
            idempotent = True
        elif isinstance(outcome, httpx.TransportError):
            if retry_number >= policy.max_retries:
                return _NO_RETRY
            if idempotent or not may_have_reached_server(outcome):
                return RetryDecision(policy.backoff(retry_number))
            return _NO_RETRY
    else:
        status = getattr(outcome, "status_code", None)
        retry_after_header = getattr(outcome, "headers", {}).get("retry-after")
    if status is None or not (status in _RETRY_ANY_METHOD_STATUSES or status >= 500) or status in _NEVER_RETRY:
        return _NO_RETRY
    retry_after = parse_retry_after(retry_after_header, policy.clock())
    if retry_number >= policy.max_retries:
        return RetryDecision(None, retry_after)
    if status not in _RETRY_ANY_METHOD_STATUSES and not idempotent:
        return RetryDecision(None, retry_after)
    if retry_after is not None:
        if retry_after > policy.max_retry_after:
            return RetryDecision(None, retry_after)
        return RetryDecision(retry_after, retry_after)
    return RetryDecision(policy.backoff(retry_number))


set_public_home([RetryPolicy])
