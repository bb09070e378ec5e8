"""Contract test: the official OrderCloud JavaScript SDK, unmodified, drives `ordercloud-tracking serve`.

`scenario.mjs` is a storefront + tracking flow written as a new user of `ordercloud-javascript-sdk` 12.0.0
would write it (Auth without scopes, ApiClients, DeliveryConfigurations, TrackingEvents, Orders, LineItems,
Me orders / transfer / register, Cart), with a Node receiver that verifies each Http delivery's `x-oc-hash`.
A client nobody here wrote is the judge of whether the fake answers like OrderCloud.

`make test` installs the SDK (`npm ci` in this folder, from the committed lock file) before pytest runs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
SDK = HERE / "node_modules" / "ordercloud-javascript-sdk" / "package.json"

#: What the receiver must get, in order: the namespace in the envelope's Headers.type.
EXPECTED_DELIVERIES = [
    "sitecore.ordercloud.messages.orders.lines.added",  # anonymous shopper adds a mug
    "sitecore.ordercloud.messages.orders.lines.updated",  # ... and makes it three
    "sitecore.ordercloud.messages.sessions.identified",  # jane logs in
    "sitecore.ordercloud.messages.orders.submitted",  # jane submits the transferred order
    "sitecore.ordercloud.messages.orders.lines.added",  # second shopper's cart line
    "sitecore.ordercloud.messages.orders.lines.updated",  # ... patched to two
    "sitecore.ordercloud.messages.sessions.identified",  # registers (a login with the anonymous ID)
    "sitecore.ordercloud.messages.orders.lines.added",  # a cap, as the new user
    "sitecore.ordercloud.messages.orders.submitted",  # cart submitted
]


@pytest.fixture
def serve() -> Iterator[str]:
    """`ordercloud-tracking serve` on a free loopback port, as a user would start it; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ordercloud_tracking", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in banner, banner + (process.stderr.read() if process.stderr else "")
        yield banner.split("listening on ", 1)[1].split()[0]
    finally:
        process.terminate()
        process.communicate(timeout=10)  # reaps the process and closes its pipes


def run_scenario(base_url: str) -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None, "node is required for the JS SDK contract test (it is on the project's machines)"
    assert SDK.exists(), (
        "ordercloud-javascript-sdk is not installed: run `make test` (it runs `npm ci` in tests/contract)"
    )
    result = subprocess.run(  # noqa: S603 - node and our own script; the only input is a loopback URL
        [node, str(HERE / "scenario.mjs"), base_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=HERE,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_official_js_sdk_storefront_and_tracking_flow(serve: str) -> None:
    report = run_scenario(serve)

    failed_calls = [call for call in report["calls"] if not call["ok"]]
    assert failed_calls == []
    assert len(report["calls"]) >= 50
    failed_checks = [check for check in report["checks"] if not check["ok"]]
    assert failed_checks == []

    deliveries = report["deliveries"]
    assert all(delivery["verified"] for delivery in deliveries), "x-oc-hash did not verify in Node"
    assert all(delivery["enveloped"] for delivery in deliveries)
    assert [delivery["type"] for delivery in deliveries] == EXPECTED_DELIVERIES

    payloads = [delivery["body"]["Payload"] for delivery in deliveries]
    assert payloads[0]["UserContext"]["AnonymousId"] == "beacon-js-1"
    assert [payloads[0]["LineItem"]["Quantity"], payloads[1]["LineItem"]["Quantity"]] == [2, 3]
    assert payloads[2]["UserContext"]["ID"] == "buyer-jane"
    assert payloads[3]["UserContext"] == {"ID": "buyer-jane", "AnonymousId": "beacon-js-1"}
    assert payloads[3]["OrderTotal"] == 37.5
