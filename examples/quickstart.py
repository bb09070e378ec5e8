# Shows: the home page's quick start, runnable as is: tracking provisioned on FakeOrderCloud, an
# anonymous shopper who adds a line, logs in and submits, and the signed deliveries your endpoint
# verified (message type and UserContext of each). Run: python examples/quickstart.py
from __future__ import annotations


def main() -> None:
    # --8<-- [start:quickstart]
    import httpx

    from ordercloud_tracking.models.commerce import LineItem
    from ordercloud_tracking.provisioning import ensure_tracking
    from ordercloud_tracking.receiver import Delivery, Receiver, wsgi_app
    from ordercloud_tracking.testing import FakeOrderCloud

    def handle(delivery: Delivery) -> None:  # your code: called once per verified, unique delivery
        print(type(delivery.message).__name__, delivery.message.to_request().get("UserContext"))

    endpoint = wsgi_app(handle, Receiver("s3cret"))  # checks x-oc-hash, parses, de-duplicates
    fake = FakeOrderCloud(http_delivery=httpx.WSGITransport(app=endpoint))  # delivers to it in-process
    target = {"Http": {"Endpoint": "https://shop.example/oc/events", "Secret": "s3cret"}}
    ensure_tracking(fake.client(), client_id="storefront", delivery_config={"Name": "Web", "DeliveryTargets": target})
    shopper = fake.shopper(anon_user_id="beacon-42")  # anonymous token requested with anonuserid
    shopper.client.cart.add_line_item(LineItem(product_id="SKU-MUG", quantity=2))
    shopper.login("jane", "jane-password")  # password grant, then TransferAnonUserOrder
    shopper.client.cart.submit()
    # --8<-- [end:quickstart]
    fake.close()


if __name__ == "__main__":
    main()
