"""The shared keywords of the resource calls (``**options: Unpack[RequestOptions]``, ``**params:
Unpack[ListParams]``) and of ``ShopperSession.start`` and ``ensure_tracking`` are checked by type checkers like written-out keywords.

Every call below that carries ``# type: ignore[...]`` is a type error: mypy --strict reports an ignore that
silences nothing (``warn_unused_ignores``), and so does pyright with the setting on the first line. A
misspelt keyword that type-checked would therefore fail ``make typecheck``.
"""
# pyright: reportUnnecessaryTypeIgnoreComment=true

from __future__ import annotations

from typing_extensions import assert_type

from ordercloud_tracking import AsyncOrderCloud, OrderCloud, TrackingEvent
from ordercloud_tracking.identity import AsyncShopperSession, ShopperSession
from ordercloud_tracking.models import LineItem, Order
from ordercloud_tracking.provisioning import Plan, ensure_tracking
from ordercloud_tracking.resources import IterAllParams, RequestOptions
from ordercloud_tracking.testing import FakeOrderCloud


def type_errors(client: OrderCloud) -> None:  # type-checked, never run
    client.tracking_events.list(serch="mugs")  # type: ignore[call-arg]
    client.tracking_events.list(page_size="20")  # type: ignore[arg-type]
    client.tracking_events.iter_all(page=2)  # type: ignore[call-arg]
    client.tracking_events.get("te-1", timeuot=5.0)  # type: ignore[call-arg]
    client.tracking_events.get("te-1", access_token=42)  # type: ignore[arg-type]
    client.cart.list_line_items(sortby="ID")  # type: ignore[call-arg]
    client.orders.get("Outgoing", "o-1", acces_token="t")  # type: ignore[call-arg]
    client.me.list_orders(from_date="2026-01-01", pagesize=5)  # type: ignore[call-arg]
    ShopperSession.start(client, anon_userid="beacon")  # type: ignore[call-arg]
    ShopperSession.start(client, scopes="Shopper", links=None, client_id=None)
    ensure_tracking(client, client_id="web", delivery_config={}, dryrun=True)  # type: ignore[call-overload]
    ensure_tracking(client, client_id="web")  # type: ignore[call-overload]
    assert_type(ensure_tracking(client, client_id="web", delivery_config={}, dry_run=True), Plan)


async def async_type_errors(client: AsyncOrderCloud) -> None:  # type-checked, never run
    await client.tracking_events.list(serch="mugs")  # type: ignore[call-arg]
    await client.orders.list_line_items("Outgoing", "o-1", filter={"ID": "x"})  # type: ignore[call-arg]
    await AsyncShopperSession.start(client, clientid="storefront")  # type: ignore[call-arg]
    assert_type(await ensure_tracking(client, client_id="web", delivery_config={}, prune=True), Plan)


def test_the_shared_keywords_type_check_and_run() -> None:
    fake = FakeOrderCloud()
    client = fake.client()
    options: RequestOptions = {"timeout": 5.0, "access_token": None}
    page = client.tracking_events.list(search="x", search_on=["ID"], page=1, page_size=5, **options)
    assert_type(page.items, list[TrackingEvent])
    params: IterAllParams = {"filters": {"ClientID": "storefront"}, "sort_by": ["ID"]}
    assert_type(list(client.tracking_events.iter_all(**params)), list[TrackingEvent])
    shopper = fake.shopper().client
    assert_type(shopper.cart.get(timeout=None), Order)
    assert_type(shopper.cart.list_line_items(page_size=10).items, list[LineItem])
    client.close()
    shopper.close()
    fake.close()
