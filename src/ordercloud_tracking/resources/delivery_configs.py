"""``/v1/integrations/deliveryconfig``: where messages go (Send, Discover, HTTP and other targets)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..models.delivery import DeliveryConfig, DeliveryConfigPatch
from ._base import AsyncCrudResource, CrudEndpoint, CrudResource

if TYPE_CHECKING:
    from .._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["AsyncDeliveryConfigs", "DeliveryConfigs"]

_ENDPOINT = CrudEndpoint(
    "integrations/deliveryconfig",
    DeliveryConfig,
    DeliveryConfigPatch,
    object_type="DeliveryConfig",
    id_name="delivery_config_id",
)


class DeliveryConfigs(CrudResource[DeliveryConfig, DeliveryConfigPatch]):
    """Delivery configurations. Write-only secrets (``Http.Secret``, ``DiscoverEvent.ApiKey`` …) are sent
    when you create or save, and are absent (``None``) when you read.
    """

    def __init__(self, client: SyncAPIClient) -> None:
        super().__init__(client)
        self._endpoint = _ENDPOINT


class AsyncDeliveryConfigs(AsyncCrudResource[DeliveryConfig, DeliveryConfigPatch]):
    """Delivery configurations, asynchronously. Same operations as :class:`DeliveryConfigs`."""

    def __init__(self, client: AsyncAPIClient) -> None:
        super().__init__(client)
        self._endpoint = _ENDPOINT
