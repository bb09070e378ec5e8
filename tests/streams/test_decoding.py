"""Record decoding: every form of §15 gives the same typed message and delivery key as the Http receiver."""

from __future__ import annotations

import json

import pytest

from ordercloud_tracking._errors import InvalidPayloadError
from ordercloud_tracking.messages import OrderLineAdded, OrderLineUpdated, OrderSubmitted, UnknownMessage
from ordercloud_tracking.receiver import Receiver, sign_payload
from ordercloud_tracking.streams import decode_record

LINE = {"OrderId": "o-1", "LineItem": {"LineID": "li-1", "Quantity": 2}, "UserContext": {"AnonymousId": "a-1"}}
LINE_BODY = json.dumps(LINE).encode()
UPDATED = "sitecore.ordercloud.messages.orders.lines.updated"


@pytest.mark.parametrize(
    ("headers", "key"),
    [
        ((("type", UPDATED.encode()),), None),
        ((("ce_type", UPDATED.encode()),), None),
        ((("Type", b"sitecore.backbone.messages.orders.lines.updated"),), None),
        ((), UPDATED.encode()),
    ],
)
def test_bare_value_with_a_declared_type_routes_on_it(
    headers: tuple[tuple[str, bytes], ...], key: bytes | None
) -> None:
    delivery = decode_record("t", 1, 5, key, LINE_BODY, headers)
    assert isinstance(delivery.message, OrderLineUpdated)
    assert delivery.message.type_inferred is False
    assert (delivery.topic, delivery.partition, delivery.offset, delivery.key) == ("t", 1, 5, key)


def test_bare_value_without_a_type_is_inferred_from_its_shape() -> None:
    delivery = decode_record("t", 0, 0, b"some-key", LINE_BODY, None)
    assert isinstance(delivery.message, OrderLineAdded)
    assert delivery.message.type_inferred is True


def test_envelope_value_is_unwrapped() -> None:
    body = json.dumps(
        {
            "Headers": {"type": "sitecore.ordercloud.messages.orders.submitted"},
            "Payload": {"OrderID": "o-9", "LineItems": []},
        }
    )
    delivery = decode_record("t", 0, 0, None, body.encode(), [])
    assert isinstance(delivery.message, OrderSubmitted)
    assert delivery.delivery_key == "order:o-9"


def test_the_delivery_key_and_fingerprint_are_the_receivers() -> None:
    received = Receiver("s", dedupe=None).parse(LINE_BODY, {"x-oc-hash": sign_payload(LINE_BODY, "s")})
    delivery = decode_record("t", 0, 0, None, LINE_BODY, [])
    assert (delivery.delivery_key, delivery.fingerprint) == (received.delivery_key, received.fingerprint)
    assert delivery.delivery_key == "line:o-1:li-1"
    assert delivery.event_type == received.event_type


def test_unknown_declared_type_is_an_unknown_message_not_a_guess() -> None:
    delivery = decode_record(
        "t", 0, 0, None, LINE_BODY, [("type", b"sitecore.ordercloud.messages.orders.lines.deleted")]
    )
    assert isinstance(delivery.message, UnknownMessage)


@pytest.mark.parametrize("value", [b"not json", b"[1, 2]", b"", None])
def test_undecodable_values_raise_invalid_payload(value: bytes | None) -> None:
    with pytest.raises(InvalidPayloadError):
        decode_record("t", 0, 0, None, value, [])
