"""Issue 4: receiving a delivery, and mapping messages to Sitecore Discover + Send.

(a) ``Receiver.parse`` of a signed 50-line ``OrderSubmitted`` message (~17 KB): size check,
    case-insensitive ``x-oc-hash`` lookup, HMAC-SHA256 in constant time, typed parse (``Decimal``
    money), delivery key (SHA-256 of the body) and the in-memory dedupe store — against the floor any
    verifying receiver pays: ``hmac`` over the raw body plus ``json.loads`` of it (untyped).
    Target: ≤ 3x the floor.

(b) Messages mapped to a Discover event and a Send payload, per message, over a realistic mix (a
    login, an added line, an updated line under the ``"delta"`` policy, a 5-line submitted order).
    Informational: the base is ``parse_message`` of the same bodies, and the note gives messages/s.

Subjects run side by side in this one process launch, interleaved round by round (see ``_harness``).
No network is involved.
"""

from __future__ import annotations

import hmac
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import main, row, time_interleaved
from _receiver_apps import message_line

from ordercloud_tracking.messages import parse_message
from ordercloud_tracking.receiver import Receiver, sign_payload
from ordercloud_tracking.sitecore import to_discover_event, to_send_event

SECRET = "bench-secret-value"
SITE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
LINES = 50
PARSE_ITERATIONS = 200
MAP_ITERATIONS = 300
ROUNDS = 15


def order_message(lines: int) -> dict[str, Any]:
    items = [message_line(i) for i in range(lines)]
    subtotal = round(sum(item["LineSubTotal"] for item in items), 2)
    total = round(sum(item["LineTotal"] for item in items) + 7.5, 2)
    return {
        "UserContext": {"ID": "buyer01", "AnonymousId": "7c9e6679742540de944be07fc1f90ae7"},
        "OrderID": "o-bench-1",
        "Currency": "USD",
        "Email": "jane@example.com",
        "OrderDate": "2024-05-01T12:00:00+00:00",
        "OrderStatus": "Open",
        "OrderTotal": total,
        "OrderSubtotal": subtotal,
        "Payments": [{"ID": "p-1", "Type": "CreditCard", "Amount": total, "xp": {"CardType": "Visa"}}],
        "LineItems": items,
        "xp": {"Channel": "web"},
    }


def bench_parse() -> list[dict[str, Any]]:
    body = json.dumps(order_message(LINES)).encode()
    signature = sign_payload(body, SECRET)
    headers = {"Content-Type": "application/json", "X-Oc-Hash": signature, "User-Agent": "OrderCloud"}
    receiver = Receiver(SECRET)
    key = SECRET.encode()
    expected = hmac.digest(key, body, "sha256")

    def ours() -> object:
        return receiver.parse(body, headers)

    def floor() -> object:
        if not hmac.compare_digest(hmac.digest(key, body, "sha256"), expected):
            raise AssertionError("floor does not verify")
        return json.loads(body)

    assert len(receiver.parse(body, headers).message.to_request()["LineItems"]) == LINES
    subjects = {"ours": ours, "floor": floor}
    t = time_interleaved(subjects, iterations=PARSE_ITERATIONS, rounds=ROUNDS, warmup=50)
    result = row(
        f"verify + parse a signed {LINES}-line OrderSubmitted ({len(body) / 1024:.0f} KB)",
        "Receiver.parse",
        t["ours"],
        "hmac + json.loads (floor)",
        t["floor"],
        "<= 3x",
    )
    result["note"] = "Receiver.parse includes the typed model (Decimal money), delivery key and dedupe lookup"
    return [result]


def mapping_mix() -> list[tuple[Any, dict[str, Any]]]:
    session = {
        "UserContext": {"ID": "buyer01", "AnonymousId": "7c9e6679742540de944be07fc1f90ae7"},
        "Language": "en-US",
        "Currency": "USD",
        "Email": "jane@example.com",
        "FirstName": "Jane",
        "LastName": "Doe",
    }
    line = {
        "UserContext": {"ID": None, "AnonymousId": "7c9e6679742540de944be07fc1f90ae7"},
        "Language": "en",
        "Currency": "USD",
        "Email": None,
        "OrderId": "o-bench-1",
        "LineItem": message_line(3),
    }
    return [
        (json.dumps(session).encode(), {}),
        (json.dumps({"EventType": "LineItemAdded", "Message": line}).encode(), {}),
        (json.dumps({"EventType": "LineItemUpdated", "Message": line}).encode(), {"previous_quantity": 1}),
        (json.dumps(order_message(5)).encode(), {}),
    ]


def bench_mapping() -> list[dict[str, Any]]:
    bodies = mapping_mix()
    messages = [(parse_message(body), extra) for body, extra in bodies]

    def ours() -> list[object]:
        out: list[object] = []
        for message, extra in messages:
            out.append(
                to_discover_event(
                    message, ip="203.0.113.7", user_agent="Mozilla/5.0", now=NOW, line_update="delta", **extra
                )
            )
            out.append(to_send_event(message, site_id=SITE_ID, contact_id=None, session_id="s-1", **extra))
        return out

    def base() -> object:
        return [parse_message(body) for body, _ in bodies]

    assert all(item is not None for item in ours())
    t = time_interleaved({"ours": ours, "base": base}, iterations=MAP_ITERATIONS, rounds=ROUNDS, warmup=50)
    per_message = t["ours"].median_s / len(messages)
    per_parse = t["base"].median_s / len(messages)
    result = row(
        "map a message to Discover + Send (mix: login, add, update, 5-line order)",
        "to_discover_event + to_send_event",
        per_message,
        "parse_message of the same bodies",
        per_parse,
    )
    result["note"] = f"{1 / per_message:,.0f} messages/s mapped to both targets (one core)"
    return [result]


def run() -> list[dict[str, object]]:
    return [*bench_parse(), *bench_mapping()]


if __name__ == "__main__":
    main(run)
