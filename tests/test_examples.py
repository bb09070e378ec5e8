"""Every script in ``examples/`` runs, against the fake, and prints what its opening comment promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FILES = sorted(path.name for path in EXAMPLES.glob("*.py"))
SCRIPTS = [name for name in FILES if not name.startswith("test_")]


def run(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python *args`` from the repository root, with a clean environment for the examples (plus ``env``)."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("ORDERCLOUD_", "OC_"))}
    clean["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(  # noqa: S603 - our own interpreter and our own example files
        [sys.executable, *args],
        cwd=ROOT,
        env=clean | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_example(name: str) -> str:
    result = run(str(EXAMPLES / name))
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    assert result.stderr == "", f"{name} wrote to stderr:\n{result.stderr}"
    return result.stdout


@pytest.mark.parametrize("name", FILES)
def test_every_example_opens_with_a_three_line_comment(name: str) -> None:
    lines = (EXAMPLES / name).read_text(encoding="utf-8").splitlines()
    assert all(line.startswith("# ") for line in lines[:3]), lines[:3]
    assert lines[0].startswith("# Shows: ")
    assert not lines[3].startswith("#")


def test_the_listed_examples_exist() -> None:
    assert "test_with_plugin.py" in FILES
    assert {
        "quickstart.py",
        "storefront_journey.py",
        "storefront_journey_async.py",
        "receiver_asgi.py",
        "receiver_wsgi.py",
        "provisioning_dry_run.py",
    } <= set(SCRIPTS)


def test_quickstart() -> None:
    out = run_example("quickstart.py")
    assert out.splitlines() == [
        "OrderLineAdded {'ID': None, 'AnonymousId': 'beacon-42'}",
        "SessionIdentified {'ID': 'buyer-jane', 'AnonymousId': None}",
        "OrderSubmitted {'ID': 'buyer-jane', 'AnonymousId': 'beacon-42'}",
    ]


@pytest.mark.parametrize("name", ["storefront_journey.py", "storefront_journey_async.py"])
def test_storefront_journey(name: str) -> None:
    out = run_example(name)
    beacon = "7c9e6679742540de944be07fc1f90ae7"
    assert "Applied: 5 create" in out
    assert f"anonymous order anon-order-1 for beacon {beacon}" in out
    assert "jane submitted anon-order-1: Open, total 57.5 USD" in out
    assert "5 deliveries verified (x-oc-hash)" in out
    deliveries = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    # OrderCloud's envelope names the type (Headers.type), so the update is told from the adds
    assert deliveries == ["OrderLineAdded", "OrderLineAdded", "OrderLineUpdated", "SessionIdentified", "OrderSubmitted"]
    lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert all(f"anonymous={beacon}" in line for line in lines[:3])  # anonymous: the beacon ID, no user
    assert all("user=None" in line for line in lines[:3])
    assert "user=buyer-jane anonymous=None" in lines[3]  # the fake's login message carries no AnonymousId
    assert f"user=buyer-jane anonymous={beacon}" in lines[4]  # the transferred order keeps the beacon ID


def test_storefront_journey_prints_the_message_details() -> None:
    out = run_example("storefront_journey.py")
    assert "create    DeliveryConfig dc-storefront" in out
    assert "order anon-order-1 line li-1: SKU-MUG x 3 @ 12.5" in out  # the update: absolute quantity
    assert "Jane Doe <jane@example.com> logged in" in out


@pytest.mark.parametrize("name", ["receiver_asgi.py", "receiver_wsgi.py"])
def test_receiver_endpoint(name: str) -> None:
    out = run_example(name)
    assert "OrderCloud delivered LineItemAdded: HTTP 200" in out
    assert 'redelivery of the same body  -> 200 {"status":"duplicate"}' in out
    assert 'tampered body                -> 403 {"error":"invalid signature"}' in out
    assert 'no x-oc-hash                 -> 401 {"error":"missing signature"}' in out
    assert 'GET                          -> 405 {"error":"method not allowed"}' in out
    handled = out.split("handled:\n", 1)[1].splitlines()
    assert handled[0] == "  line li-1 of order anon-order-1 for beacon-42"  # handled once despite the redelivery


def test_wsgi_receiver_handles_the_login_too() -> None:
    out = run_example("receiver_wsgi.py")
    assert "OrderCloud delivered UserLoggedIn: HTTP 200" in out
    assert "  login of buyer-john (john@example.com)" in out


@pytest.mark.parametrize("module", ["receiver_asgi", "receiver_wsgi"])
def test_receiver_apps_are_importable_without_running_the_demo(module: str) -> None:
    code = f"import sys; sys.path.insert(0, 'examples'); import {module}; print(callable({module}.app))"
    result = run("-c", code, env={"OC_HTTP_SECRET": "a-secret-from-the-environment"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


@pytest.mark.parametrize("module", ["receiver_asgi", "receiver_wsgi"])
def test_receiver_apps_refuse_to_start_without_a_secret(module: str) -> None:
    """What a server importing the app sees without OC_HTTP_SECRET: no app, a clear error (no fallback secret)."""
    code = f"import sys; sys.path.insert(0, 'examples'); import {module}"
    for env in ({}, {"OC_HTTP_SECRET": ""}):
        result = run("-c", code, env=env)
        assert result.returncode != 0
        assert result.stderr.strip().splitlines()[-1] == (
            "RuntimeError: OC_HTTP_SECRET is not set: export the Secret of your delivery config's Http target"
        )
    assert "demo-only" not in (EXAMPLES / f"{module}.py").read_text(encoding="utf-8")


def test_provisioning_dry_run() -> None:
    out = run_example("provisioning_dry_run.py")
    first, rest = out.split("# 2. apply it", 1)
    assert "Dry run: would apply: 5 create" in first
    assert "Applied: 5 create" in rest
    assert "Applied: 5 unchanged | changed: False" in rest
    assert "DeliveryTargets.Http.Secret: (secret changed)" in rest
    assert "s3cret" not in out  # secrets are never printed
    assert "Tracking for storefront: healthy" in out
    assert "healthy: True" in out


def test_the_plugin_example_suite_passes() -> None:
    result = run(
        "-m",
        "pytest",
        str(EXAMPLES / "test_with_plugin.py"),
        "-q",
        "-p",
        "no:cacheprovider",
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
