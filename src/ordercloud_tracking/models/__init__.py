"""Pydantic wire models: tracking events, delivery configurations and commerce objects.

Every model is importable from here (loaded on first use)::

    >>> from ordercloud_tracking.models import HttpConfig, LineItem, Order
    >>> LineItem(product_id="SKU-MUG", quantity=2).to_request()
    {'ProductID': 'SKU-MUG', 'Quantity': 2}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._public import load_lazily

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

_HOME: dict[str, str] = {
    "AccessToken": ".commerce",
    "Address": ".commerce",
    "ApiClient": ".commerce",
    "ApiClientPatch": ".commerce",
    "AzureBlobConfig": ".delivery",
    "AzureTableConfig": ".delivery",
    "ContentHubConfig": ".delivery",
    "CosmosDbConfig": ".delivery",
    "DeliveryConfig": ".delivery",
    "DeliveryConfigPatch": ".delivery",
    "DeliveryTargets": ".delivery",
    "DiscoverEventConfig": ".delivery",
    "EventHubConfig": ".delivery",
    "HttpConfig": ".delivery",
    "KafkaConfig": ".delivery",
    "LineItem": ".commerce",
    "LineItemPatch": ".commerce",
    "LineItemProduct": ".commerce",
    "LineItemSpec": ".commerce",
    "LineItemVariant": ".commerce",
    "Locale": ".commerce",
    "MailchimpConfig": ".delivery",
    "MandrillConfig": ".delivery",
    "MeUser": ".commerce",
    "MessageSenderConfig": ".delivery",
    "Order": ".commerce",
    "OrderDirection": ".commerce",
    "OrderPatch": ".commerce",
    "OrderStatus": ".commerce",
    "OrderUser": ".commerce",
    "Payment": ".commerce",
    "PaymentTransaction": ".commerce",
    "PaymentType": ".commerce",
    "PriceBreak": ".commerce",
    "PriceMarkupType": ".commerce",
    "PriceSchedule": ".commerce",
    "Product": ".commerce",
    "ProductInventory": ".commerce",
    "SearchIngestionConfig": ".delivery",
    "SearchIngestionContent": ".delivery",
    "SearchIngestionHttpContent": ".delivery",
    "SendEventConfig": ".delivery",
    "TrackingEvent": ".tracking",
    "TrackingEventPatch": ".tracking",
    "TrackingEventType": ".tracking",
    "User": ".commerce",
    "UserPatch": ".commerce",
}


def __getattr__(name: str) -> Any:
    return load_lazily(__name__, _HOME, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
