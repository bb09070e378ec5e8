"""``/v1/integrations/deliveryconfig``: where messages go (Send, Discover, HTTP and other targets)."""

from __future__ import annotations

from ..models.delivery import DeliveryConfig, DeliveryConfigPatch
from ._base import AsyncCrudResource, CrudEndpoint, CrudResource

__all__ = ["AsyncDeliveryConfigs", "DeliveryConfigs"]

_ENDPOINT = CrudEndpoint(
    "integrations/deliveryconfig", DeliveryConfig, DeliveryConfigPatch, id_name="delivery_config_id"
)


class DeliveryConfigs(CrudResource[DeliveryConfig, DeliveryConfigPatch]):
    """Delivery configurations. Write-only secrets (``Http.Secret``, ``DiscoverEvent.ApiKey`` …) are sent
    when you create or save, and are absent (``None``) when you read.
    """

    _endpoint = _ENDPOINT


class AsyncDeliveryConfigs(AsyncCrudResource[DeliveryConfig, DeliveryConfigPatch]):
    """Delivery configurations, asynchronously. Same operations as :class:`DeliveryConfigs`."""

    _endpoint = _ENDPOINT
