"""Client options as one frozen attrs object, and the environments/regions table behind ``base_url``.

A client is built from a :class:`ClientOptions`; ``with_options`` makes a copy from
``attrs.evolve(options, ...)``. The retry policy lives in ``_retry`` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

import attrs

from ._retry import RetryPolicy
from ._version import __version__

if TYPE_CHECKING:
    import httpx

    from ._auth import Grant
    from ._requests import Timeout

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENVIRONMENTS",
    "REGIONS",
    "USER_AGENT",
    "ClientOptions",
    "RetryPolicy",
    "resolve_auth_url",
    "resolve_base_url",
    "resolve_grant",
]

USER_AGENT: Final = f"ordercloud-tracking-python/{__version__}"

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
    """The API base URL (no trailing slash, no ``/v1``)."""
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
    """The token endpoint: ``{base}/oauth/token`` unless ``auth_url`` is given."""
    if auth_url is None:
        return f"{base_url}/oauth/token"
    text = str(auth_url).rstrip("/")
    return text if text.endswith("/oauth/token") else f"{text}/oauth/token"


def resolve_grant(
    client_id: str | None, client_secret: str | None, grant: Grant | None, scopes: Sequence[str]
) -> Grant | None:
    """The grant of the clients' constructor keywords (``ValueError`` names what does not fit)."""
    from ._auth import ClientCredentials

    if grant is None and client_secret is not None:
        if not client_id:
            raise ValueError("client_id is required with client_secret")
        grant = ClientCredentials(client_id, client_secret, tuple(scopes))
    if grant is not None and client_id and getattr(grant, "client_id", client_id) != client_id:
        raise ValueError("client_id does not match the grant's client_id")
    return grant


def _frozen_headers(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


@attrs.frozen
class ClientOptions:
    """Everything a client is configured with, resolved and checked (attrs, frozen)."""

    base_url: str
    auth_url: str
    client_id: str | None = None
    grant: Grant | None = None
    environment: str | None = None
    region: str | None = None
    timeout: Timeout = DEFAULT_TIMEOUT
    retry_policy: RetryPolicy = attrs.field(factory=RetryPolicy)
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_headers)
    refresh_skew: float = 60.0

    def with_grant(self, grant: Grant) -> ClientOptions:
        """These options acting with ``grant`` (``client_id`` follows the grant's)."""
        return attrs.evolve(self, grant=grant, client_id=getattr(grant, "client_id", self.client_id))
