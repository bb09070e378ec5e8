"""Pydantic wire models: tracking events, delivery configurations and commerce objects.

Every model is importable from here (loaded on first use)::

    >>> from ordercloud_tracking.models import HttpConfig, LineItem, Order
    >>> LineItem(product_id="SKU-MUG", quantity=2).to_request()
    {'ProductID': 'SKU-MUG', 'Quantity': 2}
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .commerce import (
        AccessToken,
        Address,
        ApiClient,
        ApiClientPatch,
        LineItem,
        LineItemPatch,
        LineItemProduct,
        LineItemSpec,
        LineItemVariant,
        Locale,
        MeUser,
        Order,
        OrderDirection,
        OrderPatch,
        OrderStatus,
        OrderUser,
        Payment,
        PaymentTransaction,
        PaymentType,
        PriceBreak,
        PriceMarkupType,
        PriceSchedule,
        Product,
        ProductInventory,
        User,
        UserPatch,
    )
    from .delivery import (
        AzureBlobConfig,
        AzureTableConfig,
        ContentHubConfig,
        CosmosDbConfig,
        DeliveryConfig,
        DeliveryConfigPatch,
        DeliveryTargets,
        DiscoverEventConfig,
        EventHubConfig,
        HttpConfig,
        KafkaConfig,
        MailchimpConfig,
        MandrillConfig,
        MessageSenderConfig,
        SearchIngestionConfig,
        SearchIngestionContent,
        SearchIngestionHttpContent,
        SendEventConfig,
    )
    from .tracking import (
        TrackingEvent,
        TrackingEventPatch,
        TrackingEventType,
    )

__all__ = [
    "AccessToken",
    "Address",
    "ApiClient",
    "ApiClientPatch",
    "AzureBlobConfig",
    "AzureTableConfig",
    "ContentHubConfig",
    "CosmosDbConfig",
    "DeliveryConfig",
    "DeliveryConfigPatch",
    "DeliveryTargets",
    "DiscoverEventConfig",
    "EventHubConfig",
    "HttpConfig",
    "KafkaConfig",
    "LineItem",
    "LineItemPatch",
    "LineItemProduct",
    "LineItemSpec",
    "LineItemVariant",
    "Locale",
    "MailchimpConfig",
    "MandrillConfig",
    "MeUser",
    "MessageSenderConfig",
    "Order",
    "OrderDirection",
    "OrderPatch",
    "OrderStatus",
    "OrderUser",
    "Payment",
    "PaymentTransaction",
    "PaymentType",
    "PriceBreak",
    "PriceMarkupType",
    "PriceSchedule",
    "Product",
    "ProductInventory",
    "SearchIngestionConfig",
    "SearchIngestionContent",
    "SearchIngestionHttpContent",
    "SendEventConfig",
    "TrackingEvent",
    "TrackingEventPatch",
    "TrackingEventType",
    "User",
    "UserPatch",
]

_SUBMODULES = (".tracking", ".delivery", ".commerce")


def __getattr__(name: str) -> Any:
    if name in __all__:  # the first submodule that exports it (a test keeps ``__all__`` their union)
        for submodule in _SUBMODULES:
            module = importlib.import_module(submodule, __name__)
            if name in module.__all__:
                value = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
