# Shows: provisioning tracking idempotently with ensure_tracking on FakeOrderCloud: a dry run (reads, writes
# nothing), the real run, a second run that changes nothing, a rotated secret reported without its value, and
# doctor's diagnosis. The command line does the same: `ordercloud-tracking setup ... --dry-run`, `... doctor`.
from __future__ import annotations

from typing import Any

from ordercloud_tracking.provisioning import doctor, ensure_tracking
from ordercloud_tracking.testing import STOREFRONT_CLIENT_ID, FakeOrderCloud


def delivery_config(http_secret: str) -> dict[str, Any]:
    """One delivery config: your own Http endpoint plus Sitecore Send (a known integration)."""
    return {
        "ID": "dc-storefront",
        "Name": "Storefront: receiver + Send",
        "DeliveryTargets": {
            "Http": {"Endpoint": "https://shop.example/oc/events", "Secret": http_secret},
            "SendEvent": {
                "SiteID": "0f8fad5b-d9cb-469f-a165-70867728950e",
                "ServiceEndpoint": "https://t.stat-track.com",
            },
        },
    }


def main() -> None:
    fake = FakeOrderCloud()
    with fake.client() as admin:  # in production: OrderCloud(client_id=..., client_secret=..., environment=...)
        current, rotated = delivery_config("s3cret-1"), delivery_config("s3cret-2")

        print("# 1. dry run: what would be written")
        print(ensure_tracking(admin, client_id=STOREFRONT_CLIENT_ID, delivery_config=current, dry_run=True))

        print("\n# 2. apply it")
        print(ensure_tracking(admin, client_id=STOREFRONT_CLIENT_ID, delivery_config=current).summary())

        print("\n# 3. run again: nothing to do (the secret is compared through a fingerprint, never read back)")
        again = ensure_tracking(admin, client_id=STOREFRONT_CLIENT_ID, delivery_config=current)
        print(again.summary(), "| changed:", again.changed)

        print("\n# 4. rotate the Http secret: a dry run names the field, never the value")
        print(ensure_tracking(admin, client_id=STOREFRONT_CLIENT_ID, delivery_config=rotated, dry_run=True))

        print("\n# 5. doctor: why events would (not) arrive")
        report = doctor(admin, client_id=STOREFRONT_CLIENT_ID)
        print(report)
        print("healthy:", report.healthy)
    fake.close()


if __name__ == "__main__":
    main()
