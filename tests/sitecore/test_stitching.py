"""Identity stitching: a login without AnonymousId reaches the same Send / Discover contact as the cart."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from ordercloud_tracking._errors import MappingError
from ordercloud_tracking.messages import Message, parse_message
from ordercloud_tracking.models.commerce import LineItem, MeUser, Order
from ordercloud_tracking.sitecore import to_discover_event, to_send_event
from ordercloud_tracking.stores import IdentityLinks, MemoryIdentityLinks, SQLiteIdentityLinks

SITE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
BEACON = "7c9e6679742540de944be07fc1f90ae7"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)

# UserLoggedIn may carry no AnonymousId (reference §15).
LOGIN: dict[str, Any] = {
    "UserContext": {"ID": "buyer01"},
    "Email": "jane@example.com",
    "FirstName": "Jane",
    "LastName": "Doe",
}
CART_LINE: dict[str, Any] = {
    "UserContext": {"ID": "buyer01", "AnonymousId": BEACON},
    "Currency": "USD",
    "OrderId": "o-1",
    "LineItem": {"LineID": "li-1", "Product": {"ProductID": "SKU-1"}, "Quantity": 1, "Price": 5},
}


def login() -> Message:
    return parse_message(LOGIN, event_type="UserLoggedIn")


@pytest.fixture(params=["memory", "sqlite"])
def links(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IdentityLinks]:
    if request.param == "memory":
        yield MemoryIdentityLinks()
    else:
        with SQLiteIdentityLinks(tmp_path / "links.db") as store:
            yield store


def send(message: Any, **options: Any) -> dict[str, Any]:
    options = {"site_id": SITE_ID, "contact_id": None, "session_id": "s-1", **options}
    payload = to_send_event(message, **options)
    assert payload is not None
    return payload


def discover(message: Any, **options: Any) -> dict[str, Any]:
    event = to_discover_event(message, now=NOW, **options)
    assert event is not None
    return event


def test_without_links_a_login_has_no_contact() -> None:
    with pytest.raises(MappingError, match="pass contact_id= or links="):
        send(login())
    with pytest.raises(MappingError, match="pass uuid=, user_id= or links="):
        discover(login())
    with pytest.raises(MappingError, match="ContactId"):
        send(login(), links=MemoryIdentityLinks())  # links that know nothing of this user


def test_a_login_is_stitched_to_the_linked_beacon_id(links: IdentityLinks) -> None:
    links.link("buyer01", BEACON)  # what the storefront records at login
    identify = send(login(), links=links)
    assert identify == {
        "siteId": SITE_ID,
        "actionType": "IDENTIFY",
        "ContactId": BEACON,
        "sessionId": "s-1",
        "ContactEmailAddress": "jane@example.com",
        "ContactName": "Jane Doe",
    }
    event = discover(login(), links=links)
    assert (event["type"], event["name"], event["uuid"]) == ("user", "login", BEACON)
    assert event["value"]["context"]["user"] == {"id": "buyer01", "email": "jane@example.com"}


def test_login_and_cart_reach_one_contact(links: IdentityLinks) -> None:
    cart_line = parse_message(CART_LINE, event_type="LineItemAdded")
    links.learn(cart_line)  # what a receiver given links= does with every message
    cart = send(cart_line, links=links)
    identify = send(login(), links=links)
    assert cart["ContactId"] == identify["ContactId"] == BEACON
    assert discover(cart_line, links=links)["uuid"] == discover(login(), links=links)["uuid"] == BEACON


def test_the_message_and_explicit_arguments_win_over_links(links: IdentityLinks) -> None:
    links.link("buyer01", "older-beacon")
    cart_line = parse_message(CART_LINE, event_type="LineItemAdded")
    assert send(cart_line, links=links)["ContactId"] == BEACON  # the message's own AnonymousId
    assert discover(cart_line, links=links)["uuid"] == BEACON
    assert send(login(), links=links, contact_id="uid-cookie")["ContactId"] == "uid-cookie"
    assert discover(login(), links=links, uuid="ruid-cookie")["uuid"] == "ruid-cookie"
    by_user = discover(login(), links=links, user_id="buyer01")
    assert by_user["user_id"] == "buyer01"
    assert "uuid" not in by_user


def test_hydrated_objects_are_stitched_too(links: IdentityLinks) -> None:
    links.link("buyer01", BEACON)
    me = MeUser(id="buyer01", email="jane@example.com")
    assert send(me, links=links)["ContactId"] == BEACON
    assert discover(me, links=links)["uuid"] == BEACON
    order = Order.from_api(
        {"ID": "o-1", "FromUser": {"ID": "buyer01", "Email": "jane@example.com"}, "Subtotal": 5, "Total": 5}
    )
    line = LineItem.from_api({"ID": "li-1", "ProductID": "SKU-1", "Quantity": 1, "UnitPrice": 5, "LineTotal": 5})
    assert send(order, line_item=line, links=links)["ContactId"] == BEACON
    assert discover(order, line_items=[line], links=links)["uuid"] == BEACON


def test_an_anonymous_message_is_unchanged_by_links(links: IdentityLinks) -> None:
    anonymous = parse_message({**CART_LINE, "UserContext": {"AnonymousId": "other-beacon"}}, event_type="LineItemAdded")
    links.learn(anonymous)  # nothing to learn: no user ID
    assert send(anonymous, links=links)["ContactId"] == "other-beacon"
    with pytest.raises(MappingError, match="ContactId"):
        send(login(), links=links)


LEARN_IN_ANOTHER_PROCESS = """
import sys
from ordercloud_tracking.messages import parse_message
from ordercloud_tracking.stores import SQLiteIdentityLinks

with SQLiteIdentityLinks(sys.argv[1]) as links:
    links.learn(parse_message({"UserContext": {"ID": "buyer01", "AnonymousId": sys.argv[2]}, "OrderID": "o-1"}))
"""


def test_a_link_learned_by_another_process_stitches_here(tmp_path: Path) -> None:
    path = str(tmp_path / "links.db")
    with SQLiteIdentityLinks(path) as links:
        with pytest.raises(MappingError):
            send(login(), links=links)
        subprocess.run(  # noqa: S603 - this interpreter on a fixed script
            [sys.executable, "-c", LEARN_IN_ANOTHER_PROCESS, path, BEACON], check=True, timeout=60
        )
        assert send(login(), links=links)["ContactId"] == BEACON
        assert discover(login(), links=links)["uuid"] == BEACON
