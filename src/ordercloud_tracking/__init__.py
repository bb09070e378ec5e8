"""ordercloud-tracking: the Python SDK for server-side commerce tracking with Sitecore OrderCloud.

Start with the client, :class:`OrderCloud` (or :class:`AsyncOrderCloud`):
``OrderCloud(client_id="...", client_secret="...", environment="sandbox")``, then its resources
(``client.tracking_events``, ``client.delivery_configs``, ``client.orders`` …).

Importing the package is cheap: every public name is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._public import load_lazily
from ._version import __version__

if TYPE_CHECKING:
    from ._auth import (
        AnonymousGrant,
        ClientCredentials,
        DecodedToken,
        PasswordGrant,
        RefreshTokenGrant,
        StaticToken,
        decode_token,
    )
    from ._client import AsyncOrderCloud, OrderCloud
    from ._errors import (
        AmbiguousSubmitError,
        AnonymousTransferError,
        APIConnectionError,
        APIError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConflictError,
        ErrorDetail,
        InternalServerError,
        InvalidPayloadError,
        MappingError,
        MissingCredentialsError,
        NotFoundError,
        OrderCloudError,
        PaginationError,
        PayloadTooLargeError,
        PermissionDeniedError,
        RateLimitError,
        ResponseValidationError,
        ServiceUnavailableError,
        SignatureVerificationError,
        TokenError,
    )
    from ._options import RetryPolicy
    from ._pagination import ListPage, Meta
    from ._telemetry import configure_telemetry
    from .models.delivery import DeliveryConfig, DeliveryTargets
    from .models.tracking import TrackingEvent, TrackingEventType

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AmbiguousSubmitError",
    "AnonymousGrant",
    "AnonymousTransferError",
    "AsyncOrderCloud",
    "AuthenticationError",
    "BadRequestError",
    "ClientCredentials",
    "ConflictError",
    "DecodedToken",
    "DeliveryConfig",
    "DeliveryTargets",
    "ErrorDetail",
    "InternalServerError",
    "InvalidPayloadError",
    "ListPage",
    "MappingError",
    "Meta",
    "MissingCredentialsError",
    "NotFoundError",
    "OrderCloud",
    "OrderCloudError",
    "PaginationError",
    "PasswordGrant",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "RefreshTokenGrant",
    "ResponseValidationError",
    "RetryPolicy",
    "ServiceUnavailableError",
    "SignatureVerificationError",
    "StaticToken",
    "TokenError",
    "TrackingEvent",
    "TrackingEventType",
    "__version__",
    "configure_telemetry",
    "decode_token",
]

_ERRORS = [name for name in __all__ if name.endswith("Error") or name == "ErrorDetail"]

_LAZY: dict[str, str] = {
    **dict.fromkeys(_ERRORS, "._errors"),
    **dict.fromkeys(
        [
            "AnonymousGrant",
            "ClientCredentials",
            "DecodedToken",
            "PasswordGrant",
            "RefreshTokenGrant",
            "StaticToken",
            "decode_token",
        ],
        "._auth",
    ),
    "OrderCloud": "._client",
    "AsyncOrderCloud": "._client",
    "RetryPolicy": "._retry",
    "configure_telemetry": "._telemetry",
    "ListPage": "._pagination",
    "Meta": "._pagination",
    "DeliveryConfig": ".models.delivery",
    "DeliveryTargets": ".models.delivery",
    "TrackingEvent": ".models.tracking",
    "TrackingEventType": ".models.tracking",
}


def __getattr__(name: str) -> Any:
    return load_lazily(__name__, _LAZY, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
