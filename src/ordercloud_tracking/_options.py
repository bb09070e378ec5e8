"""Client options: environments and regions, timeouts and the retry policy (attrs, frozen)."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

import attrs
import httpx

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENVIRONMENTS",
    "REGIONS",
    "RetryPolicy",
    "resolve_auth_url",
    "resolve_base_url",
]

ENVIRONMENTS: Final = ("production", "staging", "sandbox")

#: Base URL per region and environment (reference §13).
REGIONS: Final[Mapping[str, Mapping[str, str]]] = {
    "us-west": {
        "production": "https://api.ordercloud.io",
        "staging": "https://stagingapi.ordercloud.io",
        "sandbox": "https://sandboxapi.ordercloud.io",
    },
    "us-east": {
        "production": "https://useast-production.ordercloud.io",
        "staging": "https://useast-staging.ordercloud.io",
        "sandbox": "https://useast-sandbox.ordercloud.io",
    },
    "australia-east": {
        "production": "https://australiaeast-production.ordercloud.io",
        "staging": "https://australiaeast-staging.ordercloud.io",
        "sandbox": "https://australiaeast-sandbox.ordercloud.io",
    },
    "europe-west": {
        "production": "https://westeurope-production.ordercloud.io",
        "staging": "https://westeurope-staging.ordercloud.io",
        "sandbox": "https://westeurope-sandbox.ordercloud.io",
    },
    "japan-east": {
        "production": "https://japaneast-production.ordercloud.io",
        "staging": "https://japaneast-staging.ordercloud.io",
        "sandbox": "https://japaneast-sandbox.ordercloud.io",
    },
}

DEFAULT_TIMEOUT: Final = 30.0


def resolve_base_url(environment: str, region: str, base_url: str | httpx.URL | None) -> str:
    """The API base URL (no trailing slash, no ``/v1``).

    An explicit ``base_url`` wins; otherwise ``environment`` and ``region`` are looked up, and an
    unknown one is a :class:`ValueError` that names the valid values.
    """
    if base_url is not None:
        text = str(base_url).rstrip("/")
        if text.endswith("/v1"):
            text = text[: -len("/v1")]
        if not text.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {text!r}")
        return text
    env = environment.lower()
    reg = region.lower()
    if env not in ENVIRONMENTS:
        raise ValueError(f"Unknown environment {environment!r}; valid environments: {', '.join(ENVIRONMENTS)}")
    if reg not in REGIONS:
        raise ValueError(f"Unknown region {region!r}; valid regions: {', '.join(REGIONS)}")
    return REGIONS[reg][env]


def resolve_auth_url(base_url: str, auth_url: str | httpx.URL | None) -> str:
    """The token endpoint: ``{base}/oauth/token`` unless ``auth_url`` is given.

    ``auth_url`` may be the full token endpoint or just the auth host (``https://auth.ordercloud.io``).
    """
    if auth_url is None:
        return f"{base_url}/oauth/token"
    text = str(auth_url).rstrip("/")
    return text if text.endswith("/oauth/token") else f"{text}/oauth/token"


async def _asyncio_sleep(seconds: float) -> None:
    import asyncio  # only async clients pay for importing asyncio

    await asyncio.sleep(seconds)


def _validate_non_negative(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


@attrs.frozen
class RetryPolicy:
    """When and how long to wait before retrying a request.

    Retried: connection errors and timeouts, HTTP 408, 429 and >= 500 (not 501 or 505, which are
    permanent) — except that a request which may have reached the server (read timeout, 5xx) is only
    retried when the operation is idempotent.
    Waits use exponential backoff with full jitter (``random() * min(max_delay, base_delay * 2**n)``);
    a ``Retry-After`` header (seconds or HTTP-date) is honoured, and one longer than
    ``max_retry_after`` is not waited for: the error is raised with ``retry_after`` set.

    ``sleep``, ``async_sleep``, ``clock`` and ``random`` are injectable so tests never wait::

        >>> policy = RetryPolicy(max_retries=5, sleep=lambda s: None)
        >>> attrs.evolve(policy, max_retries=0).max_retries
        0
    """

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
