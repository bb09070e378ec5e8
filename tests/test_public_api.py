"""The public surface: a sorted ``__all__`` of importable names, and a cheap, lazy ``import ordercloud_tracking``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import ordercloud_tracking

# DESIGN §2: these names are part of the contract.
CONTRACT = {
    "OrderCloud",
    "AsyncOrderCloud",
    "ClientCredentials",
    "PasswordGrant",
    "AnonymousGrant",
    "StaticToken",
    "decode_token",
    "DecodedToken",
    "TrackingEvent",
    "TrackingEventType",
    "DeliveryConfig",
    "DeliveryTargets",
    "ListPage",
    "Meta",
    "OrderCloudError",
    "APIError",
    "ErrorDetail",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "TokenError",
    "SignatureVerificationError",
}


def test_all_is_sorted_and_unique() -> None:
    names = ordercloud_tracking.__all__
    assert names == sorted(names)
    assert len(names) == len(set(names))


def test_all_contains_the_contract() -> None:
    assert set(ordercloud_tracking.__all__) >= CONTRACT


@pytest.mark.parametrize("name", ordercloud_tracking.__all__)
def test_every_public_name_is_importable(name: str) -> None:
    value = getattr(ordercloud_tracking, name)
    assert value is not None
    # What ``from ordercloud_tracking import <name>`` does:
    module = __import__("ordercloud_tracking", fromlist=[name])
    assert getattr(module, name) is value


def test_error_classes_share_one_root() -> None:
    for name in ordercloud_tracking.__all__:
        value = getattr(ordercloud_tracking, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, ordercloud_tracking.OrderCloudError), name


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        _ = ordercloud_tracking.NoSuchThing


def test_dir_lists_the_public_names() -> None:
    assert set(ordercloud_tracking.__all__) <= set(dir(ordercloud_tracking))


def _modules_after(code: str) -> list[str]:
    script = textwrap.dedent(code) + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run(  # noqa: S603 - runs this interpreter on a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    modules: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return modules


def _heavy(modules: list[str]) -> list[str]:
    heavy_roots = ("httpx", "pydantic", "pydantic_core", "httpcore")
    lazy_parts = ("ordercloud_tracking.testing", "ordercloud_tracking.cli", "ordercloud_tracking.sitecore")
    return [
        name
        for name in modules
        if name.split(".")[0] in heavy_roots or any(name == p or name.startswith(p + ".") for p in lazy_parts)
    ]


def test_import_is_cheap() -> None:
    modules = _modules_after("import ordercloud_tracking")
    assert "ordercloud_tracking" in modules
    assert _heavy(modules) == []


def test_using_the_client_does_not_import_the_fake_cli_sitecore_or_resources() -> None:
    modules = _modules_after(
        """
        from ordercloud_tracking import OrderCloud, TrackingEvent, DeliveryConfig, decode_token
        client = OrderCloud("client-id", "client-secret")
        """
    )
    assert "httpx" in modules  # the client itself needs it
    for forbidden in ("ordercloud_tracking.testing", "ordercloud_tracking.cli", "ordercloud_tracking.sitecore"):
        assert not any(name == forbidden or name.startswith(forbidden + ".") for name in modules), forbidden
    # Resources attach on first use.
    assert "ordercloud_tracking.resources.tracking_events" not in modules
    assert "ordercloud_tracking.resources.delivery_configs" not in modules
