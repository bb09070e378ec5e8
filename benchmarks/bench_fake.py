"""Issue 5: a full shopper journey on the in-process FakeOrderCloud, against pytest-httpx stubs.

The journey: anonymous token (with ``anonuserid``), two line items added, one updated, login (password
grant, the anonymous order read, ``TransferAnonUserOrder``) and submit — with the fake emitting every
tracking event to an Http target (signed, delivered to an in-process endpoint), SendEvent and
DiscoverEvent. The base runs the *same* SDK calls with the *same* HTTP exchanges answered by
pytest-httpx stubs (recorded once from the fake), so the ratio is what the fake's state, rules, pricing
and deliveries cost over canned answers. Target: <= 3x.

Subjects run side by side in this one process launch, interleaved round by round (see ``_harness``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _harness import main, row, time_interleaved
from pytest_httpx import HTTPXMock
from pytest_httpx._options import _HTTPXMockOptions

from ordercloud_tracking import OrderCloud, RetryPolicy
from ordercloud_tracking.identity import ShopperSession
from ordercloud_tracking.models.commerce import LineItem
from ordercloud_tracking.provisioning import ensure_tracking
from ordercloud_tracking.testing import STOREFRONT_CLIENT_ID, FakeOrderCloud

BEACON = "7c9e6679742540de944be07fc1f90ae7"
ITERATIONS = 20
ROUNDS = 15


def journey(client: OrderCloud) -> int:
    session = ShopperSession.start(client, client_id=STOREFRONT_CLIENT_ID, anon_user_id=BEACON)
    cart = session.client.cart
    mug = cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=2))
    cart.add_line_item(LineItem(product_id="SKU-TEE", quantity=1))
    assert mug.id is not None
    cart.patch_line_item(mug.id, {"Quantity": 3})
    order_id = session.login("jane", "jane-password")
    order = session.client.cart.submit(order_id=order_id)
    assert order.is_submitted
    return 1


def provisioned_fake() -> FakeOrderCloud:
    fake = FakeOrderCloud(http_delivery=lambda request: httpx.Response(200))
    with fake.client() as admin:
        ensure_tracking(
            admin,
            client_id=STOREFRONT_CLIENT_ID,
            delivery_config={
                "ID": "dc-bench",
                "Name": "bench",
                "DeliveryTargets": {
                    "Http": {"Endpoint": "https://receiver.example/oc", "Secret": "bench-secret"},
                    "SendEvent": {
                        "SiteID": "0f8fad5b-d9cb-469f-a165-70867728950e",
                        "ServiceEndpoint": "https://t.example",
                    },
                    "DiscoverEvent": {"ClientID": "ck", "ApiKey": "k", "ServiceEndpoint": "https://d.example"},
                },
            },
        )
    return fake


class _StubTransport(httpx.BaseTransport):
    """Answers from a pytest-httpx ``HTTPXMock`` (what the ``httpx_mock`` fixture does to real transports)."""

    def __init__(self, mock: HTTPXMock) -> None:
        self.mock = mock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.mock._handle_request(self, request)  # type: ignore[arg-type]


def recorded_stubs(base_url: str) -> HTTPXMock:
    """pytest-httpx responses for exactly the exchanges of one journey, recorded from a fresh fake."""
    fake = provisioned_fake()
    exchanges: list[tuple[httpx.Request, httpx.Response]] = []
    transport = fake.transport()

    class Recorder(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = transport.handle_request(request)
            response.read()
            exchanges.append((request, response))
            return response

    client = OrderCloud(grant=None, base_url=base_url, http_client=httpx.Client(transport=Recorder()))
    journey(client)
    mock = HTTPXMock(_HTTPXMockOptions(assert_all_responses_were_requested=False))
    for request, response in exchanges:
        mock.add_response(
            method=request.method,
            url=str(request.url),
            match_content=request.content if request.content else None,
            status_code=response.status_code,
            headers={"Content-Type": "application/json"},
            content=response.content,
            is_reusable=True,
        )
    return mock


def run() -> list[dict[str, Any]]:
    policy = RetryPolicy(sleep=lambda _: None)
    fake = provisioned_fake()
    ours = OrderCloud(base_url=fake.base_url, http_client=httpx.Client(transport=fake.transport()), retry_policy=policy)
    stubs = recorded_stubs(fake.base_url)
    stubbed = OrderCloud(
        base_url=fake.base_url, http_client=httpx.Client(transport=_StubTransport(stubs)), retry_policy=policy
    )

    before = len(fake.deliveries)
    journey(ours)
    per_journey = len(fake.deliveries) - before
    assert per_journey == 15, per_journey  # 5 events x (Http + Send + Discover)

    t = time_interleaved(
        {"fake": lambda: journey(ours), "stubs": lambda: journey(stubbed)},
        iterations=ITERATIONS,
        rounds=ROUNDS,
        warmup=5,
    )
    return [
        row(
            "full shopper journey in-process (9 API calls, 5 events, 15 deliveries)",
            "FakeOrderCloud (stateful, emitting)",
            t["fake"],
            "the same calls answered by pytest-httpx stubs",
            t["stubs"],
            "<= 3x",
            note="each journey: anonymous token, 2 adds, 1 update, login + transfer, submit; deliveries to "
            "an in-process Http endpoint plus recorded Send and Discover payloads",
        )
    ]


if __name__ == "__main__":
    main(run)
