"""The keywords every resource call shares (``RequestOptions``, ``ListParams``, ``IterAllParams``) are checked
when the call runs, as written-out keywords would be: a misspelt one is a ``TypeError`` and nothing is sent.

(tests/editor_types/test_keywords.py proves that mypy and pyright reject the same calls.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpx import HTTPXMock

from tests.client_support import Client, resolve

# Each call with one misspelt or misplaced keyword; pytest-httpx fails the test if any request is sent.
CALLS: dict[str, Callable[[Any], Any]] = {
    "tracking_events.list": lambda c: c.tracking_events.list(serch="x"),
    "tracking_events.iter_all": lambda c: c.tracking_events.iter_all(page=2),  # iter_all chooses the pages
    "tracking_events.get": lambda c: c.tracking_events.get("te1", timeuot=5),
    "delivery_configs.patch": lambda c: c.delivery_configs.patch("dc1", {"Name": "x"}, acces_token="t"),
    "api_clients.delete": lambda c: c.api_clients.delete("c1", page=1),
    "me.list_orders": lambda c: c.me.list_orders(from_date="2026-01-01", sortby="ID"),
    "me.transfer_anon_user_order": lambda c: c.me.transfer_anon_user_order("anon", search="x"),
    "cart.list_line_items": lambda c: c.cart.list_line_items(pagesize=5),
    "cart.submit": lambda c: c.cart.submit(order_id="o1", filters={}),
    "orders.get_line_item": lambda c: c.orders.get_line_item("Outgoing", "o1", "li1", token="t"),
    "orders.list_line_items": lambda c: c.orders.list_line_items("Outgoing", "o1", searchOn="ID"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
async def test_a_wrong_keyword_is_a_type_error_and_sends_nothing(
    client: Client, httpx_mock: HTTPXMock, name: str
) -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        await resolve(CALLS[name](client))
    assert httpx_mock.get_requests() == []


async def test_the_shared_keywords_reach_the_request(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(json={"Items": [], "Meta": {"Page": 2, "PageSize": 5}})

    await resolve(
        client.orders.list_line_items("Outgoing", "o1", page=2, page_size=5, sort_by="ID", access_token="user-token")
    )

    [request] = httpx_mock.get_requests()
    assert request.headers["Authorization"] == "Bearer user-token"
    assert dict(request.url.params) == {"sortBy": "ID", "page": "2", "pageSize": "5"}
