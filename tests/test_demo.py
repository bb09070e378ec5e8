"""``ordercloud-tracking demo`` (``_demo.run_demo``): identity stitching and what it prints per delivery.

The CLI wiring and the summary line are tested in ``test_cli.py``.
"""

from __future__ import annotations

import io
import json
from typing import Any

from ordercloud_tracking._demo import BEACON_ID, run_demo


def _journal() -> dict[str, Any]:
    out = io.StringIO()
    assert run_demo(out, as_json=True) == 0
    journal = json.loads(out.getvalue())
    assert isinstance(journal, dict)
    return journal


def _text() -> list[str]:
    out = io.StringIO()
    assert run_demo(out) == 0
    return out.getvalue().splitlines()


def test_the_demo_login_identify_goes_to_the_beacon_contact() -> None:
    journal = _journal()

    stitching = journal["stitching"]
    assert stitching["user_id"] == "buyer-jane"
    assert stitching["send"]["actionType"] == "IDENTIFY"
    assert stitching["send"]["ContactId"] == BEACON_ID  # the cart's contact
    assert stitching["discover"]["name"] == "login"
    assert stitching["discover"]["uuid"] == BEACON_ID
    cart_contacts = {
        d["body"]["ContactId"]
        for d in journal["deliveries"]
        if d["target"] == "SendEvent" and d["event_type"] in ("LineItemAdded", "LineItemUpdated")
    }
    assert cart_contacts == {BEACON_ID}


def test_without_links_the_demo_login_identify_goes_to_the_user_id() -> None:
    # OrderCloud's own Send target has no link store: the login (no AnonymousId) reaches a second contact.
    journal = _journal()

    native = [
        d["body"] for d in journal["deliveries"] if d["target"] == "SendEvent" and d["event_type"] == "UserLoggedIn"
    ]
    assert [body["actionType"] for body in native] == ["IDENTIFY"]
    assert native[0]["ContactId"] == "buyer-jane"


def test_the_demo_says_in_one_line_that_the_login_was_stitched() -> None:
    lines = [line.strip() for line in _text() if "stitched" in line]

    assert lines == [
        f"stitched: user buyer-jane -> contact {BEACON_ID} (with links=, the storefront's Send IDENTIFY and "
        "Discover user:login reach the cart's contact; without, the user ID as above)"
    ]


def test_the_demo_prints_the_message_inside_orderclouds_envelope() -> None:
    # Http deliveries are {"Headers": {"type": ...}, "Payload": {message}}: the summary reads the Payload.
    lines = _text()

    assert "      Session Jane Doe <jane@example.com>; user buyer-jane, anonymous —" in lines
    assert sum(line.strip().startswith("OrderLine anon-order-1/") for line in lines) == 3
    assert not any("None None" in line for line in lines)
