"""Issue 3: listing one page of 100 hydrated line items, asynchronously.

Subjects, side by side in this one process launch against one loopback server (see ``_harness``),
all answering ``GET /v1/orders/Outgoing/{id}/lineitems?pageSize=100`` with the same ~240 KB page
(Product, Variant, two Specs, both addresses, money, dates and xp on every item):

* ``ordercloud_tracking`` — ``await client.orders.list_line_items("Outgoing", id, page_size=100)``
  (a ``ListPage[LineItem]``: ``Decimal`` money, aware datetimes);
* the peer ``ordercloud-python`` — ``await client.line_items.list("Outgoing", id, page_size=100)``
  (``json.loads`` then ``LineItem.model_validate`` per item; ``float`` money, dates kept as strings);
* raw httpx + ``json.loads`` — the untyped floor;
* raw httpx + ``ListPage[LineItem].model_validate_json`` (our models) — the typed floor, for scale.

Target: ≤ 0.6x the peer's time per call.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _harness import CLIENT_ID, CLIENT_SECRET, LoopbackServer, access_token, atime_interleaved, main, row, server_floor

ORDER_ID = "o-bench-1"
PAGE_SIZE = 100
ITERATIONS = 5
ROUNDS = 45

OURS = "ordercloud_tracking"
PEER = "ordercloud-python"
RAW = "raw httpx + json.loads"
TYPED = "raw httpx + ListPage[LineItem].model_validate_json"


async def _bench(server: LoopbackServer) -> list[dict[str, Any]]:
    from ordercloud import OrderCloudClient

    from ordercloud_tracking import AsyncOrderCloud, ListPage
    from ordercloud_tracking.models.commerce import LineItem

    ours = AsyncOrderCloud(CLIENT_ID, CLIENT_SECRET, base_url=server.base_url)
    await ours.get_access_token()  # fetched before timing; see bench_client.PREFETCH_NOTE
    peer = OrderCloudClient.create(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        base_url=f"{server.base_url}/v1",
        auth_url=f"{server.base_url}/oauth/token",
    )
    raw = httpx.AsyncClient(base_url=server.base_url, headers={"Authorization": f"Bearer {access_token()}"})
    url = f"/v1/orders/Outgoing/{ORDER_ID}/lineitems"
    params = {"pageSize": PAGE_SIZE}
    page_model = ListPage[LineItem]

    async def raw_json() -> Any:
        response = await raw.get(url, params=params)
        response.raise_for_status()
        return json.loads(response.content)

    async def raw_typed() -> Any:
        response = await raw.get(url, params=params)
        response.raise_for_status()
        return page_model.model_validate_json(response.content)

    async def ours_list() -> Any:
        return await ours.orders.list_line_items("Outgoing", ORDER_ID, page_size=PAGE_SIZE)

    async def peer_list() -> Any:
        return await peer.line_items.list("Outgoing", ORDER_ID, page_size=PAGE_SIZE)

    subjects = {OURS: ours_list, PEER: peer_list, RAW: raw_json, TYPED: raw_typed}
    # Every subject really gets the whole page.
    assert len((await ours_list()).items) == PAGE_SIZE
    assert len((await peer_list()).items) == PAGE_SIZE
    assert len((await raw_json())["Items"]) == PAGE_SIZE
    assert len((await raw_typed()).items) == PAGE_SIZE
    try:
        t = await atime_interleaved(subjects, iterations=ITERATIONS, rounds=ROUNDS, warmup=5)
    finally:
        await ours.close()
        await peer.close()
        await raw.aclose()
    bench = f"list {PAGE_SIZE} hydrated line items (async)"
    return [
        row(bench, "AsyncOrderCloud.orders.list_line_items", t[OURS], f"{PEER} line_items.list", t[PEER], "<= 0.6x"),
        row(bench, "AsyncOrderCloud.orders.list_line_items", t[OURS], RAW, t[RAW]),
        row(bench, "AsyncOrderCloud.orders.list_line_items", t[OURS], TYPED, t[TYPED]),
        row(bench, f"{PEER} line_items.list", t[PEER], RAW, t[RAW]),
    ]


def run() -> list[dict[str, Any]]:
    with LoopbackServer(page_size=PAGE_SIZE) as server:
        floor = server_floor(server, f"/v1/orders/Outgoing/{ORDER_ID}/lineitems?pageSize={PAGE_SIZE}", iterations=100)
        rows = asyncio.run(_bench(server))
    rows[0]["note"] = (
        f"loopback + server floor for the ~240 KB page (raw socket, no HTTP client): {floor * 1e6:.0f} µs, "
        "included in every figure"
    )
    return rows


if __name__ == "__main__":
    main(run)
