"""``ordercloud-tracking demo``: a complete tracking journey on the embedded fake, in a few seconds.

1. provision a delivery config (Http + Send + Discover) and the four tracking events with
   :func:`~ordercloud_tracking.provisioning.ensure_tracking`;
2. an anonymous shopper with a beacon ID adds two items and updates one;
3. the shopper logs in (the anonymous order is transferred) and submits;
4. a receiver endpoint (the real :func:`~ordercloud_tracking.receiver.wsgi_app`) verifies each Http delivery;
5. with the ``kafka`` extra, the Kafka leg (``_demo_kafka``): the fake delivers to a 6-partition topic on the
   mock cluster, three consumers of one group share it, one stops and the others take over.

Each step, each delivered message and what OrderCloud's Send and Discover targets receive for it are
printed (amounts with two decimals), then a one-line summary. ``--json`` prints the request and delivery
journal instead.

Identity stitching: the login's ``UserLoggedIn`` carries no ``AnonymousId``, so OrderCloud's own Send
target can only address it to the user ID, a second Sitecore contact. The session records *user ID →
beacon ID* in a :class:`~ordercloud_tracking.stores.MemoryIdentityLinks` at login; the storefront's own
mapping, :func:`~ordercloud_tracking.sitecore.to_send_event` / ``to_discover_event`` with ``links=``, then
sends that login to the beacon's contact, which the ``stitched:`` line shows.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import IO, TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from .messages import Message
    from .stores import IdentityLinks

__all__ = ["run_demo"]

BEACON_ID = "7c9e6679742540de944be07fc1f90ae7"
SEND_SITE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
RECEIVER_URL = "https://storefront.example/oc/events"


def _line(out: IO[str], text: str = "") -> None:
    out.write(text + "\n")


def _who(context: dict[str, Any] | None) -> str:
    context = context or {}
    user, anon = context.get("ID"), context.get("AnonymousId")
    return f"user {user or '—'}, anonymous {anon or '—'}"


def _money(amount: Any) -> str:
    """An amount as the demo prints every amount: two decimals (``12.50``, ``130.00``)."""
    try:
        return f"{Decimal(str(amount)):.2f}"
    except (InvalidOperation, ValueError):
        return str(amount)


def _item(code: Any, quantity: Any, price: Any) -> str:
    return f"{code} x {quantity} @ {_money(price)}"


#: What an order status means when the demo shows it.
STATUS_MEANING = {"Open": "submitted, awaiting fulfilment", "Unsubmitted": "a cart, not submitted yet"}


def _status(status: Any) -> str:
    name = str(getattr(status, "value", status))
    meaning = STATUS_MEANING.get(name)
    return f"{name} ({meaning})" if meaning else name


def _send_delta_note(send: dict[str, Any], quantity: Any) -> str | None:
    """Why Send got a smaller quantity than the line has: it is told what was added, not the new state."""
    for entry in send.get("properties") or []:
        added = (entry.get("product") or {}).get("itemQuantity")
        if isinstance(added, int) and isinstance(quantity, int):
            return (
                f"(Send has no 'updated' action: the line went {quantity - added} → {quantity}, so Send gets "
                f"ADDED_TO_ORDER of the {added} added — a lowered quantity sends nothing; Discover gets the whole cart)"
            )
    return None


def message_summary(body: dict[str, Any]) -> str:
    """One readable line for a delivered OrderCloud message."""
    who = _who(body.get("UserContext"))
    if "LineItems" in body:
        lines = ", ".join(
            _item((li.get("Product") or {}).get("ProductID"), li.get("Quantity"), li.get("Price"))
            for li in body["LineItems"]
        )
        status, total = _status(body.get("OrderStatus")), _money(body.get("OrderTotal"))
        return f"Order {body.get('OrderID')} {status}, total {total} ({lines}); {who}"
    if "LineItem" in body:
        li = body["LineItem"]
        product = li.get("Product") or {}
        return f"OrderLine {body.get('OrderId')}/{li.get('LineID')}: {_item(product.get('ProductID'), li.get('Quantity'), li.get('Price'))}; {who}"
    return f"Session {body.get('FirstName')} {body.get('LastName')} <{body.get('Email')}>; {who}"


def _payload(raw: bytes) -> dict[str, Any]:
    """The message of an Http delivery body: OrderCloud's envelope's ``Payload``, or the bare message."""
    body: Any = json.loads(raw)
    if isinstance(body, dict) and isinstance(body.get("Headers"), dict) and isinstance(body.get("Payload"), dict):
        body = body["Payload"]
    return {str(key): value for key, value in body.items()} if isinstance(body, dict) else {}


def send_summary(body: dict[str, Any]) -> str:
    text = f"{body.get('actionType')} ContactId {body.get('ContactId')}"
    if body.get("ContactEmailAddress"):
        text += f" <{body['ContactEmailAddress']}>"
    for entry in body.get("properties") or []:
        if "product" in entry:
            p = entry["product"]
            text += f": {_item(p.get('itemCode'), p.get('itemQuantity'), p.get('itemPrice'))}"
        if "products" in entry:
            items = ", ".join(
                _item(p.get("itemCode"), p.get("itemQuantity"), p.get("itemPrice")) for p in entry["products"]
            )
            text += f": {items}, total {_money(entry.get('totalPrice'))}"
    return text


def discover_summary(body: dict[str, Any]) -> str:
    who = body.get("uuid") or body.get("user_id")
    value = body.get("value") or {}
    text = f"{body.get('type')}:{body.get('name')} {'uuid' if body.get('uuid') else 'user_id'} {who}"
    products = value.get("products") or []
    if products:
        text += " [" + ", ".join(_item(p.get("sku"), p.get("quantity"), p.get("price")) for p in products) + "]"
    checkout = value.get("checkout")
    if checkout:
        text += f", order {checkout.get('order_id')} total {_money(checkout.get('total'))}"
    user = (value.get("context") or {}).get("user")
    if user:
        text += f", user {user.get('id')}"
    return text


def _stitch(messages: Sequence[Message], links: IdentityLinks, now: datetime) -> dict[str, Any] | None:
    """What the storefront's own mapping sends for the last login received: Send and Discover, with ``links``
    (``None`` when no login was received or it could not be mapped)."""
    from ._errors import MappingError
    from .messages import SessionIdentified
    from .sitecore import to_discover_event, to_send_event

    login = next((m for m in reversed(messages) if isinstance(m, SessionIdentified)), None)
    if login is None:
        return None
    try:
        send = to_send_event(
            login,
            site_id=SEND_SITE_ID,
            contact_id=None,  # from links: the message has a user ID but no AnonymousId
            session_id=hashlib.sha256(BEACON_ID.encode()).hexdigest()[:32],
            links=links,
        )
        discover = to_discover_event(login, links=links, now=now)
    except MappingError:  # no link for the user (and no AnonymousId): no contact to send the login to
        return None
    return {"user_id": login.user_id, "contact_id": (send or {}).get("ContactId"), "send": send, "discover": discover}


def _stitching_summary(stitching: dict[str, Any] | None) -> str:
    if stitching is None:
        return "stitched: FAILED (no login was received, or no link for its user)"
    discover = stitching["discover"] or {}
    same = discover.get("uuid") == stitching["contact_id"]
    return (
        f"stitched: user {stitching['user_id']} -> contact {stitching['contact_id']} (with links=, the "
        f"storefront's Send IDENTIFY{' and Discover user:login' if same else ''} reach the cart's contact; "
        "without, the user ID as above)"
    )


def run_demo(out: IO[str], *, as_json: bool = False, kafka: bool = True) -> int:
    """Run the journey; returns 0 when every event was delivered and verified and the login stitched (and the
    Kafka leg, when it ran, lost and repeated nothing), else 1. ``kafka=False`` leaves the Kafka leg out."""
    from .identity import ShopperSession
    from .models.commerce import LineItem
    from .provisioning import ensure_tracking
    from .receiver import Delivery as ReceivedDelivery
    from .receiver import Receiver, wsgi_app
    from .stores import MemoryIdentityLinks
    from .testing import STOREFRONT_CLIENT_ID, FakeOrderCloud

    started = time.perf_counter()
    secret = "demo-http-secret"  # noqa: S105 - a throwaway secret for the embedded fake
    received: list[ReceivedDelivery] = []
    links = MemoryIdentityLinks()  # shared by the shopper's session and the storefront's Send/Discover mapping

    def receive(delivery: ReceivedDelivery) -> None:
        received.append(delivery)
        links.learn(delivery.message)  # any message with both IDs links them too

    receiver = Receiver(secret)
    endpoint = wsgi_app(receive, receiver)
    fake = FakeOrderCloud(http_delivery=httpx.WSGITransport(app=endpoint))
    quiet = as_json

    def step(text: str) -> None:
        if not quiet:
            _line(out, f"\n▶ {text}")

    def show_new_deliveries(since: int) -> int:
        quantity: Any = None  # the line's quantity in the last Http message
        for delivery in fake.deliveries[since:]:
            if quiet:
                continue
            status = "ok" if delivery.ok else f"FAILED ({delivery.error})"
            if delivery.target == "Http":
                verdict = "x-oc-hash verified" if delivery.ok else status
                message = _payload(delivery.raw)
                quantity = (message.get("LineItem") or {}).get("Quantity")
                _line(out, f"  ↳ {delivery.event_type} → Http [{delivery.status}, {verdict}]")
                _line(out, f"      {message_summary(message)}")
            elif delivery.error and delivery.error.startswith("skipped"):
                _line(out, f"    {delivery.target}: nothing to send ({delivery.error.removeprefix('skipped: ')})")
            elif not delivery.ok:
                _line(out, f"    {delivery.target}: {status}")
            elif delivery.target == "SendEvent":
                _line(out, f"    Send:     {send_summary(delivery.body)}")
                note = _send_delta_note(delivery.body, quantity) if delivery.event_type == "LineItemUpdated" else None
                if note:
                    _line(out, f"              {note}")
            else:
                _line(out, f"    Discover: {discover_summary(delivery.body)}")
        return len(fake.deliveries)

    with fake.client() as admin:
        step("Provision: one delivery config (Http + Send + Discover) and the four tracking events")
        plan = ensure_tracking(
            admin,
            client_id=STOREFRONT_CLIENT_ID,
            delivery_config={
                "ID": "dc-demo",
                "Name": "Demo: storefront receiver + Send + Discover",
                "DeliveryTargets": {
                    "Http": {"Endpoint": RECEIVER_URL, "Secret": secret},
                    "SendEvent": {"SiteID": SEND_SITE_ID, "ServiceEndpoint": "https://t.stat-track.com"},
                    "DiscoverEvent": {
                        "ClientID": "demo-ckey",
                        "ApiKey": "demo-api-key",
                        "ServiceEndpoint": "https://demo.rfk.example/events",
                    },
                },
            },
        )
        if not quiet:
            for action in plan.actions:
                _line(out, f"  {action.kind} {action.resource} {action.id}")

        seen = 0
        step(f"Anonymous shopper arrives with beacon ID {BEACON_ID}")
        shopper = ShopperSession.start(
            fake.client(), client_id=STOREFRONT_CLIENT_ID, anon_user_id=BEACON_ID, links=links
        )
        if not quiet:
            _line(
                out, f"  anonymous token carries orderid {shopper.order_id}; anonuserid sent = {shopper.anon_user_id}"
            )

        step("Adds 2 x Mug and 1 x T-shirt to the cart")
        mug = shopper.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=2))
        seen = show_new_deliveries(seen)
        shopper.client.cart.add_line_item(LineItem(product_id="SKU-TEE", quantity=1))
        seen = show_new_deliveries(seen)

        step("Updates the mugs to 10 (the price break: 12.50 → 11.00 each)")
        assert mug.id is not None
        shopper.client.cart.patch_line_item(mug.id, {"Quantity": 10})
        seen = show_new_deliveries(seen)

        step("Logs in as jane; the anonymous order is transferred (TransferAnonUserOrder)")
        transferred = shopper.login("jane", "jane-password")
        if not quiet:
            _line(out, f"  transferred order {transferred} to jane")
        seen = show_new_deliveries(seen)
        stitching = _stitch([d.message for d in received], links, fake.clock.datetime())
        if not quiet:
            _line(out, f"  {_stitching_summary(stitching)}")

        step("Submits the order")
        order = shopper.client.cart.submit(order_id=transferred)
        if not quiet:
            _line(out, f"  order {order.id}: {_status(order.status)}, total {_money(order.total)} {order.currency}")
        seen = show_new_deliveries(seen)

    elapsed = time.perf_counter() - started
    from ._demo_kafka import run_kafka_leg

    leg = run_kafka_leg(None if quiet else out) if kafka else None
    http = fake.deliveries_for(target="Http")
    failures = [d for d in fake.deliveries if not d.ok and not (d.error or "").startswith("skipped")]
    verified = len(received)
    succeeded = not failures and verified == len(http) and (stitching or {}).get("contact_id") == BEACON_ID
    succeeded = succeeded and (leg is None or leg.ok)
    events = len({(d.event_type, d.at) for d in http})
    if as_json:
        journal = {
            "requests": [{"method": r.method, "path": r.path, "status": r.status} for r in fake.requests],
            "deliveries": [
                {
                    "target": d.target,
                    "event_type": d.event_type,
                    "tracking_event_id": d.tracking_event_id,
                    "url": d.url,
                    "status": d.status,
                    "error": d.error,
                    "body": json.loads(d.raw) if d.target == "Http" else d.body,
                }
                for d in fake.deliveries
            ],
            "received": [{"message": type(r.message).__name__, "duplicate": r.duplicate} for r in received],
            "stitching": stitching,
            "kafka": leg.to_json() if leg is not None else None,
            "summary": {
                "events": events,
                "deliveries": len(fake.deliveries),
                "verified": verified,
                "failures": len(failures),
                "seconds": round(elapsed, 3),
            },
        }
        json.dump(journal, out, indent=2, default=str, ensure_ascii=False)
        out.write("\n")
    else:
        _line(out)
        ok = "OK" if succeeded else "FAILED"
        _line(
            out,
            f"Demo {ok}: {events} events, {len(fake.deliveries)} deliveries "
            f"({verified}/{len(http)} Http verified, {len(fake.deliveries_for(target='SendEvent'))} Send, "
            f"{len(fake.deliveries_for(target='DiscoverEvent'))} Discover), {len(failures)} failures, "
            f"{len(fake.requests)} API calls in {elapsed:.2f} s"
            + (f"; Kafka: {leg.events} events, {leg.handled_once} handled once, {leg.lost} lost" if leg else ""),
        )
    fake.close()
    return 0 if succeeded else 1
