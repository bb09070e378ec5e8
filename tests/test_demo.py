"""``ordercloud-tracking demo`` (``_demo.run_demo``): identity stitching, what it prints per delivery, and
its Kafka leg. Each form of the demo runs once per session (the Kafka leg takes a few seconds).

The CLI wiring and the summary line are tested in ``test_cli.py``.
"""

from __future__ import annotations

import functools
import io
import json
import re
from typing import Any

from ordercloud_tracking._demo import BEACON_ID, run_demo
from ordercloud_tracking._demo_kafka import CONSUMERS, PARTITIONS, SHOPPERS, STOPPED


@functools.cache
def _journal() -> dict[str, Any]:
    out = io.StringIO()
    assert run_demo(out, as_json=True) == 0
    journal = json.loads(out.getvalue())
    assert isinstance(journal, dict)
    return journal


@functools.cache
def _output() -> str:
    out = io.StringIO()
    assert run_demo(out) == 0
    return out.getvalue()


def _text() -> list[str]:
    return _output().splitlines()


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


# ------------------------------------------------------------------------------------------ the Kafka leg
def test_the_kafka_leg_handles_every_event_once_across_a_stopped_consumer() -> None:
    kafka = _journal()["kafka"]

    events = SHOPPERS * 3  # two lines added and one updated per shopper
    assert (kafka["events"], kafka["handled_once"], kafka["duplicates"], kafka["lost"]) == (events, events, 0, 0)
    assert sum(kafka["per_consumer"].values()) == events
    assert all(kafka["per_consumer"][name] > 0 for name in CONSUMERS)  # all three shared the first half
    before = kafka["partitions_before"]
    assert sorted(p for name in CONSUMERS for p in before[name]) == list(range(PARTITIONS))
    # the stopped consumer's partitions went to the two others
    assert sorted(int(p) for p in kafka["taken_over"]) == sorted(before[STOPPED])
    assert set(kafka["taken_over"].values()) <= set(CONSUMERS) - {STOPPED}
    assert kafka["ok"] is True


def test_the_kafka_leg_ends_with_per_consumer_counts_and_nothing_lost() -> None:
    lines = [line.strip() for line in _text()]

    counts = next(line for line in lines if line.startswith("handled per consumer:"))
    numbers = [int(n) for n in re.findall(r"consumer-\d (\d+)", counts)]
    assert len(numbers) == 3
    assert sum(numbers) == SHOPPERS * 3
    assert f"{STOPPED} {numbers[2]} (stopped midway)" in counts
    assert any(
        re.fullmatch(rf"{SHOPPERS * 3} events, {SHOPPERS * 3} handled once, 0 lost in [0-9.]+ s", line)
        for line in lines
    )
    assert any(line.startswith(f"{STOPPED} stops") and "the others take over its partitions" in line for line in lines)
    assert _text()[-1].endswith(f"; Kafka: {SHOPPERS * 3} events, {SHOPPERS * 3} handled once, 0 lost")


def test_without_the_kafka_leg_the_journey_alone_runs() -> None:
    out = io.StringIO()

    assert run_demo(out, kafka=False) == 0
    assert "Kafka" not in out.getvalue()


# ------------------------------------------------------------------------------- the demo explains itself
def test_the_update_explains_why_send_gets_the_difference() -> None:
    lines = [line.strip() for line in _text()]

    update = lines.index("▶ Updates the mugs to 10 (the price break: 12.50 → 11.00 each)")
    send = lines[update + 3]
    assert send.endswith("SKU-MUG x 8 @ 11.00")
    assert lines[update + 4].startswith(
        "(Send has no 'updated' action: the line went 2 → 10, so Send gets ADDED_TO_ORDER of the 8 added"
    )


def test_open_after_submit_says_what_it_means() -> None:
    assert "  order anon-order-1: Open (submitted, awaiting fulfilment), total 130.00 USD" in _text()


def test_every_amount_has_two_decimals() -> None:
    journey = _output().split("▶ Kafka")[0]

    amounts = re.findall(r"(?:@|total) (\d+(?:\.\d+)?)", journey)
    assert amounts  # prices and totals are shown
    assert all(re.fullmatch(r"\d+\.\d{2}", amount) for amount in amounts), amounts
