"""The ``ordercloud-tracking`` command: in-process through ``main([...], out=...)`` against a loopback
FakeOrderCloud (the command builds its own real httpx client), and once as a real subprocess against
``ordercloud-tracking serve``.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ordercloud_tracking.cli import main
from ordercloud_tracking.receiver import sign_payload
from ordercloud_tracking.testing import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    STOREFRONT_CLIENT_ID,
    FakeOrderCloud,
    FakeServer,
)

HOOK_SECRET = "hook-secret-4d2c9f7a"
DISCOVER_KEY = "discover-key-0e8b51"
ENDPOINT = "https://storefront.example/oc/events"
SEND_SITE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
SECRETS = (HOOK_SECRET, DISCOVER_KEY, ADMIN_CLIENT_SECRET)


@pytest.fixture
def fake() -> Iterator[FakeOrderCloud]:
    made = FakeOrderCloud()
    yield made
    made.close()


@pytest.fixture
def server(fake: FakeOrderCloud) -> Iterator[FakeServer]:
    with fake.serve(port=0) as running:
        yield running


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ORDERCLOUD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ORDERCLOUD_CLIENT_ID", ADMIN_CLIENT_ID)
    monkeypatch.setenv("ORDERCLOUD_CLIENT_SECRET", ADMIN_CLIENT_SECRET)
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)
    monkeypatch.setenv("DISCOVER_KEY", DISCOVER_KEY)


class Result:
    """One in-process run of the command."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code = code
        self.out = out
        self.err = err

    def json(self) -> Any:
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"Result(code={self.code}, out={self.out!r}, err={self.err!r})"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    capsys.readouterr()  # start from clean captures
    out = io.StringIO()
    code = main(list(argv), out=out)
    captured = capsys.readouterr()
    result = Result(code, out.getvalue() + captured.out, captured.err)
    for secret in SECRETS:  # whatever happens, no secret is ever printed
        assert secret not in result.out, result
        assert secret not in result.err, result
    return result


def setup_args(server: FakeServer, *extra: str) -> list[str]:
    return [
        "setup",
        "--base-url",
        server.url,
        "--api-client",
        STOREFRONT_CLIENT_ID,
        "--http-endpoint",
        ENDPOINT,
        "--http-secret-env",
        "HOOK_SECRET",
        *extra,
    ]


def write_requests(fake: FakeOrderCloud, since: int = 0) -> list[tuple[str, str]]:
    return [
        (e.method, e.path)
        for e in fake.requests[since:]
        if e.method in ("PUT", "POST", "PATCH", "DELETE") and not e.path.startswith("/oauth/")
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ------------------------------------------------------------------------------------------------- setup


def test_setup_from_flags(capsys: pytest.CaptureFixture[str], fake: FakeOrderCloud, server: FakeServer) -> None:
    result = run(capsys, *setup_args(server))

    assert result.code == 0, result
    assert result.out.splitlines() == [
        "create    DeliveryConfig dc-storefront",
        "create    TrackingEvent te-storefront-UserLoggedIn",
        "create    TrackingEvent te-storefront-LineItemAdded",
        "create    TrackingEvent te-storefront-LineItemUpdated",
        "create    TrackingEvent te-storefront-OrderSubmitted",
        "Applied: 5 create",
    ]
    assert result.err == ""  # no warning (secret from the environment) and no progress (not a terminal)
    config = fake.api.delivery_configs["dc-storefront"]
    assert config["DeliveryTargets"]["Http"] == {"Endpoint": ENDPOINT, "Secret": HOOK_SECRET}
    assert config["Name"] == "ordercloud-tracking"
    assert len([e for e in fake.api.tracking_events.values() if e["ClientID"] == STOREFRONT_CLIENT_ID]) == 4


def test_setup_with_send_discover_and_a_subset_of_events(
    capsys: pytest.CaptureFixture[str], fake: FakeOrderCloud, server: FakeServer
) -> None:
    result = run(
        capsys,
        *setup_args(server, "--config-id", "dc-all", "--config-name", "All targets"),
        "--send-site-id",
        SEND_SITE_ID,
        "--discover-client-id",
        "ck-1",
        "--discover-api-key-env",
        "DISCOVER_KEY",
        "--discover-endpoint",
        "https://discover.example/events",
        "--events",
        "UserLoggedIn,OrderSubmitted",
    )

    assert result.code == 0, result
    targets = fake.api.delivery_configs["dc-all"]["DeliveryTargets"]
    assert targets["DiscoverEvent"]["ApiKey"] == DISCOVER_KEY
    assert targets["SendEvent"]["SiteID"] == SEND_SITE_ID
    assert sorted(e["EventType"] for e in fake.api.tracking_events.values()) == ["OrderSubmitted", "UserLoggedIn"]


def test_setup_rerun_is_unchanged(capsys: pytest.CaptureFixture[str], fake: FakeOrderCloud, server: FakeServer) -> None:
    assert run(capsys, *setup_args(server)).code == 0
    before = len(fake.requests)

    result = run(capsys, *setup_args(server))

    assert result.code == 0, result
    assert result.out.splitlines()[-1] == "Applied: 5 unchanged"
    assert write_requests(fake, before) == []
    as_json = run(capsys, *setup_args(server, "--json")).json()
    assert as_json["changed"] is False
    assert {a["kind"] for a in as_json["actions"]} == {"unchanged"}


def test_setup_dry_run_writes_nothing(
    capsys: pytest.CaptureFixture[str], fake: FakeOrderCloud, server: FakeServer
) -> None:
    result = run(capsys, *setup_args(server, "--dry-run"))

    assert result.code == 0, result
    assert result.out.splitlines()[-1] == "Dry run: would apply: 5 create"
    assert write_requests(fake) == []
    assert fake.api.delivery_configs == {}

    as_json = run(capsys, *setup_args(server, "--dry-run", "--json")).json()
    assert as_json["dry_run"] is True
    assert as_json["applied"] is False
    assert [a["kind"] for a in as_json["actions"]] == ["create"] * 5
    assert write_requests(fake) == []


def test_setup_json_output(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = run(capsys, *setup_args(server, "--json")).json()

    assert plan["applied"] is True
    assert plan["changed"] is True
    assert [(a["kind"], a["resource"]) for a in plan["actions"]][:2] == [
        ("create", "DeliveryConfig"),
        ("create", "TrackingEvent"),
    ]

    rotated_secret = "rotated-secret-77aa"
    monkeypatch.setenv("HOOK_SECRET", rotated_secret)
    rotated = run(capsys, *setup_args(server, "--json"))
    assert rotated_secret not in rotated.out
    config_action = rotated.json()["actions"][0]
    assert config_action["kind"] == "update"
    assert config_action["changes"] == [{"path": "DeliveryTargets.Http.Secret", "secret": True}]


SETUP_JSON = {
    "client_id": STOREFRONT_CLIENT_ID,
    "events": ["UserLoggedIn", "OrderSubmitted"],
    "delivery_config": {
        "ID": "dc-from-file",
        "Name": "From a file",
        "DeliveryTargets": {
            "Http": {"Endpoint": ENDPOINT, "Secret": {"env": "HOOK_SECRET"}},
            "DiscoverEvent": {
                "ClientID": "ck-1",
                "ApiKey": {"env": "DISCOVER_KEY"},
                "ServiceEndpoint": "https://discover.example/events",
            },
        },
    },
}

SETUP_TOML = f"""
client_id = "{STOREFRONT_CLIENT_ID}"
events = ["UserLoggedIn", "OrderSubmitted"]

[delivery_config]
ID = "dc-from-file"
Name = "From a file"

[delivery_config.DeliveryTargets.Http]
Endpoint = "{ENDPOINT}"
Secret = {{ env = "HOOK_SECRET" }}

[delivery_config.DeliveryTargets.DiscoverEvent]
ClientID = "ck-1"
ApiKey = {{ env = "DISCOVER_KEY" }}
ServiceEndpoint = "https://discover.example/events"
"""


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_setup_from_a_file_with_env_secret_references(
    capsys: pytest.CaptureFixture[str], fake: FakeOrderCloud, server: FakeServer, tmp_path: Path, suffix: str
) -> None:
    if suffix == ".toml" and sys.version_info < (3, 11):
        pytest.skip("TOML setup files need Python 3.11")
    spec = tmp_path / f"tracking{suffix}"
    spec.write_text(json.dumps(SETUP_JSON) if suffix == ".json" else SETUP_TOML, encoding="utf-8")

    result = run(capsys, "setup", "--base-url", server.url, "--file", str(spec))

    assert result.code == 0, result
    assert result.out.splitlines() == [
        "create    DeliveryConfig dc-from-file",
        "create    TrackingEvent te-storefront-UserLoggedIn",
        "create    TrackingEvent te-storefront-OrderSubmitted",
        "Applied: 3 create",
    ]
    targets = fake.api.delivery_configs["dc-from-file"]["DeliveryTargets"]
    assert targets["Http"]["Secret"] == HOOK_SECRET
    assert targets["DiscoverEvent"]["ApiKey"] == DISCOVER_KEY
    assert result.err == ""
    assert run(capsys, "setup", "--base-url", server.url, "--file", str(spec)).out.endswith("Applied: 3 unchanged\n")


def test_setup_file_problems_are_usage_errors(
    capsys: pytest.CaptureFixture[str], server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "tracking.json"
    spec.write_text(json.dumps(SETUP_JSON), encoding="utf-8")
    monkeypatch.delenv("DISCOVER_KEY")
    missing_env = run(capsys, "setup", "--base-url", server.url, "--file", str(spec))
    assert missing_env.code == 2
    assert missing_env.err.startswith("error: ")
    assert "DISCOVER_KEY is not set" in missing_env.err

    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    invalid = run(capsys, "setup", "--base-url", server.url, "--file", str(broken))
    assert invalid.code == 2
    assert "is not valid JSON" in invalid.err

    absent = run(capsys, "setup", "--base-url", server.url, "--file", str(tmp_path / "absent.toml"))
    assert absent.code == 2
    assert "cannot read" in absent.err


def test_setup_usage_errors(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    no_targets = run(capsys, "setup", "--base-url", server.url)
    assert no_targets.code == 2
    assert no_targets.err.startswith("error: no delivery targets")

    no_secret = run(capsys, "setup", "--base-url", server.url, "--http-endpoint", ENDPOINT)
    assert no_secret.code == 2
    assert "--http-secret-env" in no_secret.err


@pytest.mark.parametrize("events", ["OrderShipped", "UserLoggedIn,Bogus"])
def test_setup_unknown_event_type_is_one_error_line(
    capsys: pytest.CaptureFixture[str], fake: FakeOrderCloud, server: FakeServer, events: str
) -> None:
    result = run(capsys, *setup_args(server, "--events", events))

    assert result.code == 2, result
    assert result.err.startswith("error: ")
    assert len(result.err.splitlines()) == 1
    assert "Traceback" not in result.err
    assert "Unknown event type" in result.err
    assert write_requests(fake) == []


def test_setup_event_list_tolerates_spaces(
    capsys: pytest.CaptureFixture[str], fake: FakeOrderCloud, server: FakeServer
) -> None:
    result = run(capsys, *setup_args(server, "--events", "UserLoggedIn, OrderSubmitted"))

    assert result.code == 0, result
    assert sorted(e["EventType"] for e in fake.api.tracking_events.values()) == ["OrderSubmitted", "UserLoggedIn"]


def test_plain_secret_flags_warn_and_are_never_printed(
    capsys: pytest.CaptureFixture[str], fake: FakeOrderCloud, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORDERCLOUD_CLIENT_SECRET")
    result = run(
        capsys,
        "setup",
        "--base-url",
        server.url,
        "--client-secret",
        ADMIN_CLIENT_SECRET,
        "--api-client",
        STOREFRONT_CLIENT_ID,
        "--http-endpoint",
        ENDPOINT,
        "--http-secret",
        HOOK_SECRET,
    )  # run() asserts neither secret is in stdout or stderr

    assert result.code == 0, result
    warnings = [line for line in result.err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2
    assert any("--client-secret" in w for w in warnings)
    assert any("--http-secret" in w for w in warnings)
    assert fake.api.delivery_configs["dc-storefront"]["DeliveryTargets"]["Http"]["Secret"] == HOOK_SECRET


def test_a_secret_given_to_json_output_is_never_printed(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    assert run(capsys, *setup_args(server, "--json")).code == 0
    for argv in (
        ["configs", "list", "--base-url", server.url, "--json"],
        ["configs", "list", "--base-url", server.url],
        ["events", "list", "--base-url", server.url, "--json"],
        ["doctor", "--base-url", server.url, "--api-client", STOREFRONT_CLIENT_ID, "--json"],
    ):
        assert run(capsys, *argv).code == 0  # run() checks the secrets


# ------------------------------------------------------------------------------------------------ doctor


def test_doctor_healthy_is_exit_0(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    assert run(capsys, *setup_args(server)).code == 0

    result = run(capsys, "doctor", "--base-url", server.url, "--api-client", STOREFRONT_CLIENT_ID)

    assert result.code == 0, result
    assert result.out.splitlines()[-1] == "Tracking for storefront: healthy"
    report = run(capsys, "doctor", "--base-url", server.url, "--api-client", STOREFRONT_CLIENT_ID, "--json").json()
    assert report["healthy"] is True
    assert report["client_id"] == STOREFRONT_CLIENT_ID
    assert {c["status"] for c in report["checks"]} == {"ok"}


def test_doctor_problems_are_exit_1(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    result = run(capsys, "doctor", "--base-url", server.url, "--api-client", STOREFRONT_CLIENT_ID)

    assert result.code == 1, result
    assert "[FAIL] tracking events" in result.out
    assert "fix: Run `ordercloud-tracking setup`" in result.out
    as_json = run(capsys, "doctor", "--base-url", server.url, "--api-client", STOREFRONT_CLIENT_ID, "--json")
    assert as_json.code == 1
    assert as_json.json()["healthy"] is False


def test_doctor_without_a_client_id_is_exit_2(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORDERCLOUD_CLIENT_ID")

    result = run(capsys, "doctor", "--base-url", server.url, "--api-client", STOREFRONT_CLIENT_ID)

    assert result.code == 2
    assert result.out == ""
    assert result.err == "error: no client ID: pass --client-id or set ORDERCLOUD_CLIENT_ID\n"


def test_doctor_without_a_secret_is_exit_2(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORDERCLOUD_CLIENT_SECRET")

    result = run(capsys, "doctor", "--base-url", server.url, "--api-client", STOREFRONT_CLIENT_ID)

    assert result.code == 2
    assert result.err.startswith("error: no client secret")


def test_doctor_connection_error_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    closed = f"http://127.0.0.1:{free_port()}"

    result = run(capsys, "doctor", "--base-url", closed, "--api-client", STOREFRONT_CLIENT_ID)

    assert result.code == 2, result
    assert result.out == ""
    assert result.err.startswith("error: cannot reach OrderCloud")
    assert len(result.err.splitlines()) == 1


def test_doctor_uses_the_environment_base_url(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERCLOUD_BASE_URL", server.url)

    result = run(capsys, "doctor", "--api-client", STOREFRONT_CLIENT_ID)

    assert result.code == 1  # reached the fake: no tracking events yet


# ----------------------------------------------------------------------------------------- errors, --debug


def test_an_api_error_is_one_line_with_its_error_code(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    args = setup_args(server)
    args[args.index("--api-client") + 1] = "no-such-client"

    result = run(capsys, *args)

    assert result.code == 2, result
    assert result.err.startswith("error: ")
    assert len(result.err.splitlines()) == 1
    assert "NotFound: ApiClient no-such-client not found" in result.err
    assert "Traceback" not in result.err
    assert "check the ID" in result.err  # what to do


def test_a_token_error_is_one_line_and_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERCLOUD_CLIENT_SECRET", "not-the-secret")

    plain = run(capsys, "events", "list", "--base-url", server.url)

    assert plain.code == 2, plain
    assert plain.err.startswith("error: ")
    assert len(plain.err.splitlines()) == 1
    assert "Auth.InvalidClientSecret" in plain.err
    assert "Traceback" not in plain.err
    assert "not-the-secret" not in plain.err

    debug = run(capsys, "--debug", "events", "list", "--base-url", server.url)

    assert debug.code == 2
    assert "Traceback (most recent call last)" in debug.err
    assert debug.err.splitlines()[-1].startswith("error: ")
    assert "not-the-secret" not in debug.err


def test_argparse_usage_errors_are_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "no-such-command").code == 2
    assert run(capsys).code == 2
    assert run(capsys, "events").code == 2
    helped = run(capsys, "--help")
    assert helped.code == 0
    assert "doctor" in helped.out


# ---------------------------------------------------------------------------------------------- listings


def test_events_and_configs_list(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    assert run(capsys, *setup_args(server)).code == 0

    table = run(capsys, "events", "list", "--base-url", server.url)
    assert table.code == 0
    lines = table.out.splitlines()
    assert lines[0].split() == ["ID", "EventType", "ClientID", "DeliveryConfigID", "Name"]
    assert len(lines) == 2 + 4
    assert any(line.startswith("te-storefront-OrderSubmitted") for line in lines)

    events = run(capsys, "events", "list", "--base-url", server.url, "--json").json()
    assert sorted(e["EventType"] for e in events) == [
        "LineItemAdded",
        "LineItemUpdated",
        "OrderSubmitted",
        "UserLoggedIn",
    ]
    assert {e["DeliveryConfigID"] for e in events} == {"dc-storefront"}

    only_admin = run(capsys, "events", "list", "--base-url", server.url, "--api-client", ADMIN_CLIENT_ID, "--json")
    assert only_admin.json() == []

    configs_table = run(capsys, "configs", "list", "--base-url", server.url)
    assert configs_table.code == 0
    assert configs_table.out.splitlines()[0].split() == ["ID", "Name", "Enabled", "Targets"]
    assert configs_table.out.splitlines()[2].split() == ["dc-storefront", "ordercloud-tracking", "yes", "Http"]

    configs = run(capsys, "configs", "list", "--base-url", server.url, "--json").json()
    assert [c["ID"] for c in configs] == ["dc-storefront"]
    assert configs[0]["DeliveryTargets"]["Http"]["Endpoint"] == ENDPOINT
    assert not configs[0]["DeliveryTargets"]["Http"].get("Secret")


# ------------------------------------------------------------------------------------------------- verify


BODY = b'{"OrderID":"o-1001","OrderStatus":"Open","OrderTotal":42.5,"LineItems":[]}'


@pytest.fixture
def captured(tmp_path: Path) -> Path:
    path = tmp_path / "delivery.json"
    path.write_bytes(BODY)
    return path


def test_verify_a_good_signature(capsys: pytest.CaptureFixture[str], captured: Path, tmp_path: Path) -> None:
    signature = sign_payload(BODY, HOOK_SECRET)

    result = run(capsys, "verify", str(captured), "--secret-env", "HOOK_SECRET", "--signature", signature)

    assert result.code == 0, result
    assert result.out.startswith(f"valid x-oc-hash over {len(BODY)} bytes")
    signature_file = tmp_path / "x-oc-hash.txt"
    signature_file.write_text(signature + "\n", encoding="utf-8")
    from_file = run(
        capsys, "verify", str(captured), "--secret-env", "HOOK_SECRET", "--signature-file", str(signature_file)
    )
    assert from_file.code == 0
    as_json = run(capsys, "verify", str(captured), "--secret-env", "HOOK_SECRET", "--signature", signature, "--json")
    assert as_json.json() == {"valid": True, "bytes": len(BODY), "message": "OrderSubmitted", "hint": None}


def test_verify_a_bad_signature(capsys: pytest.CaptureFixture[str], captured: Path) -> None:
    wrong = sign_payload(BODY, "some-other-secret")

    result = run(capsys, "verify", str(captured), "--secret-env", "HOOK_SECRET", "--signature", wrong)

    assert result.code == 1, result
    assert result.out.startswith("INVALID x-oc-hash")
    tampered = run(
        capsys,
        "verify",
        str(captured),
        "--secret-env",
        "HOOK_SECRET",
        "--signature",
        sign_payload(BODY + b" ", HOOK_SECRET),
        "--json",
    )
    assert tampered.code == 1
    assert tampered.json() == {"valid": False, "bytes": len(BODY), "message": None, "hint": None}


def test_verify_usage_errors(
    capsys: pytest.CaptureFixture[str], captured: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_signature = run(capsys, "verify", str(captured), "--secret-env", "HOOK_SECRET")
    assert no_signature.code == 2
    assert "--signature" in no_signature.err

    missing_file = run(capsys, "verify", str(tmp_path / "absent"), "--secret-env", "HOOK_SECRET", "--signature", "x")
    assert missing_file.code == 2
    assert missing_file.err.startswith("error: cannot read")

    monkeypatch.delenv("HOOK_SECRET")
    unset = run(capsys, "verify", str(captured), "--secret-env", "HOOK_SECRET", "--signature", "x")
    assert unset.code == 2
    assert "HOOK_SECRET is not set" in unset.err


# --------------------------------------------------------------------------------------------------- demo


def test_demo(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "demo")

    assert result.code == 0, result
    summary = [line for line in result.out.splitlines() if line.startswith("Demo ")]
    assert len(summary) == 1
    assert summary[0].startswith("Demo OK: 5 events, 15 deliveries")
    assert "0 failures" in summary[0]


def test_demo_json(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "demo", "--json")

    assert result.code == 0, result
    journal = result.json()
    assert journal["summary"]["events"] == 5
    assert journal["summary"]["deliveries"] == 15
    assert journal["summary"]["failures"] == 0
    assert journal["summary"]["verified"] == 5
    assert len(journal["deliveries"]) == 15
    assert {d["target"] for d in journal["deliveries"]} == {"Http", "SendEvent", "DiscoverEvent"}
    assert "demo-http-secret" not in result.out


# ---------------------------------------------------------------------------------------------- subprocess


def _wait_until_listening(port: int, process: subprocess.Popen[str], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"serve did not listen on {port} within {timeout} s")


def test_the_command_as_a_subprocess_against_serve(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ORDERCLOUD_")},
        "ORDERCLOUD_CLIENT_ID": ADMIN_CLIENT_ID,
        "ORDERCLOUD_CLIENT_SECRET": ADMIN_CLIENT_SECRET,
        "ORDERCLOUD_BASE_URL": f"http://127.0.0.1:{port}",
        "HOOK_SECRET": HOOK_SECRET,
    }
    command = [sys.executable, "-m", "ordercloud_tracking"]
    serve = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [*command, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_listening(port, serve)

        def cli(*argv: str) -> subprocess.CompletedProcess[str]:
            done = subprocess.run(  # noqa: S603 - our own command, fixed arguments
                [*command, *argv], env=env, capture_output=True, text=True, timeout=60, check=False
            )
            for secret in SECRETS:
                assert secret not in done.stdout + done.stderr
            return done

        before = cli("doctor", "--api-client", STOREFRONT_CLIENT_ID)
        assert before.returncode == 1, before
        assert "[FAIL] tracking events" in before.stdout

        setup = cli(
            "setup",
            "--api-client",
            STOREFRONT_CLIENT_ID,
            "--http-endpoint",
            ENDPOINT,
            "--http-secret-env",
            "HOOK_SECRET",
            "--json",
        )
        assert setup.returncode == 0, setup
        assert [a["kind"] for a in json.loads(setup.stdout)["actions"]] == ["create"] * 5

        again = cli(
            "setup",
            "--api-client",
            STOREFRONT_CLIENT_ID,
            "--http-endpoint",
            ENDPOINT,
            "--http-secret-env",
            "HOOK_SECRET",
        )
        assert again.returncode == 0, again
        assert again.stdout.splitlines()[-1] == "Applied: 5 unchanged"

        healthy = cli("doctor", "--api-client", STOREFRONT_CLIENT_ID, "--json")
        assert healthy.returncode == 0, healthy
        assert json.loads(healthy.stdout)["healthy"] is True

        events = cli("events", "list", "--api-client", STOREFRONT_CLIENT_ID, "--json")
        assert events.returncode == 0, events
        assert len(json.loads(events.stdout)) == 4

        refused = cli("events", "list", "--client-secret-env", "HOOK_SECRET")  # the wrong secret
        assert refused.returncode == 2
        assert refused.stderr.startswith("error: ")
        assert "Traceback" not in refused.stderr
    finally:
        serve.terminate()
        try:
            out, _err = serve.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            serve.kill()
            out, _err = serve.communicate()
    url = f"http://127.0.0.1:{port}"
    banner = out.splitlines()
    assert banner[0] == f"FakeOrderCloud listening on {url}"
    assert f"  base URL:          {url}  (--base-url or ORDERCLOUD_BASE_URL)" in banner
    # The fake's credentials are public test data: the banner shows them, and how to use them.
    assert f"  admin client:      {ADMIN_CLIENT_ID} / secret {ADMIN_CLIENT_SECRET}" in banner
    assert "  admin users:       admin / admin-password" in banner
    assert "  buyer users:       jane / jane-password, john / john-password, ines / ines-password" in banner
    assert (
        f"  export ORDERCLOUD_BASE_URL={url} ORDERCLOUD_CLIENT_ID={ADMIN_CLIENT_ID}"
        f" ORDERCLOUD_CLIENT_SECRET={ADMIN_CLIENT_SECRET}"
    ) in banner
    assert f"  ordercloud-tracking doctor --api-client {STOREFRONT_CLIENT_ID}" in banner


def test_serve_on_a_taken_port_exits_2_with_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "ordercloud_tracking", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert done.returncode == 2, done
    assert done.stdout == ""
    assert done.stderr == f"error: cannot serve on 127.0.0.1:{port}: Address already in use\n"


def test_setup_needs_the_api_client_whose_events_are_tracked(
    capsys: pytest.CaptureFixture[str], server: FakeServer
) -> None:
    args = setup_args(server)
    del args[args.index("--api-client") : args.index("--api-client") + 2]

    result = run(capsys, *args)

    assert result.code == 2
    assert result.err.startswith("error: which API client's events? pass --api-client")


def test_a_discover_target_needs_its_endpoint(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCOVER_KEY", "discover-api-key-value")
    args = setup_args(server, "--discover-client-id", "ckey", "--discover-api-key-env", "DISCOVER_KEY")

    result = run(capsys, *args)

    assert result.code == 2
    assert "--discover-endpoint" in result.err
    assert "discover-api-key-value" not in result.out + result.err


# ------------------------------------------------------------------------------------------ bad input


class BadInput:
    """What a parametrised bad-input case may use: files, the loopback fake, the environment."""

    def __init__(
        self, tmp_path: Path, server: FakeServer, fake: FakeOrderCloud, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.tmp_path = tmp_path
        self.server = server
        self.fake = fake
        self.monkeypatch = monkeypatch
        self.sockets: list[socket.socket] = []

    def setup_file(self, content: bytes | str | dict[str, Any], name: str = "tracking.json") -> list[str]:
        path = self.tmp_path / name
        if isinstance(content, dict):
            content = json.dumps(content)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return ["setup", "--base-url", self.server.url, "--file", str(path)]

    def spec(self, **fields: Any) -> list[str]:
        """A setup file that is right but for ``fields``."""
        http = {"Endpoint": ENDPOINT, "Secret": {"env": "HOOK_SECRET"}}
        base: dict[str, Any] = {
            "client_id": STOREFRONT_CLIENT_ID,
            "delivery_config": {"DeliveryTargets": {"Http": http}},
        }
        return self.setup_file({**base, **fields})

    def verify(self, signature: bytes | None) -> list[str]:
        body = self.tmp_path / "delivery.json"
        body.write_bytes(BODY)
        signature_file = self.tmp_path / "x-oc-hash.txt"
        if signature is not None:
            signature_file.write_bytes(signature)
        return ["verify", str(body), "--secret-env", "HOOK_SECRET", "--signature-file", str(signature_file)]

    def with_env(self, name: str, value: str, *argv: str) -> list[str]:
        self.monkeypatch.setenv(name, value)
        return list(argv)

    def opaque_tokens(self, *argv: str) -> list[str]:
        """The token endpoint answers with a token that is not a JWT (which the fake's API then refuses)."""
        token = {"access_token": "opaque-token", "token_type": "bearer", "expires_in": 600}
        self.fake.faults.add("POST", "/oauth/token", status=200, body=token, times=10)
        return list(argv)

    def taken_port(self) -> int:
        sock = socket.socket()
        self.sockets.append(sock)
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port: int = sock.getsockname()[1]
        return port


DEEP = 100_000
BAD_INPUTS: dict[str, tuple[Callable[[BadInput], list[str]], str]] = {
    # id: (the command line, made from a BadInput; a phrase the error line must hold)
    "setup-file-not-utf8": (lambda b: b.setup_file(b'\xff\xfe{"client_id": "storefront"}'), "is not UTF-8"),
    "setup-file-nested-json": (lambda b: b.setup_file('{"a":' * DEEP + "1" + "}" * DEEP), "nested too deeply"),
    "setup-file-nested-toml": (lambda b: b.setup_file("a = " + "[" * DEEP + "]" * DEEP, "deep.toml"), "deep.toml"),
    "delivery-config-a-string": (lambda b: b.spec(delivery_config="dc-web"), "delivery_config must be an object"),
    "delivery-config-a-list": (lambda b: b.spec(delivery_config=[["ID", "dc"]]), "delivery_config must be an object"),
    "delivery-targets-a-string": (
        lambda b: b.spec(delivery_config={"DeliveryTargets": "Http"}),
        "DeliveryTargets must be an object",
    ),
    "delivery-targets-a-list": (
        lambda b: b.spec(delivery_config={"DeliveryTargets": [["Http", {}]]}),
        "DeliveryTargets must be an object",
    ),
    "events-a-number": (lambda b: b.spec(events=5), "events must be a list"),
    "events-a-string": (lambda b: b.spec(events="OrderSubmitted"), "events must be a list"),
    "events-not-strings": (lambda b: b.spec(events=[1, ["OrderSubmitted"]]), "events must be a list"),
    "client-id-a-number": (lambda b: b.spec(client_id=5), "client_id must be a string"),
    "client-id-a-list": (lambda b: b.spec(client_id=[STOREFRONT_CLIENT_ID]), "client_id must be a string"),
    "prune-a-string": (lambda b: b.spec(prune="no"), "prune must be true or false"),
    "an-unknown-key": (lambda b: b.spec(event=["OrderSubmitted"]), "unknown key(s) event"),
    "signature-file-missing": (lambda b: b.verify(None), "cannot read"),
    "signature-file-binary": (lambda b: b.verify(b"\xff\xfe\x00\x01"), "is not UTF-8"),
    "serve-on-a-taken-port": (lambda b: ["serve", "--port", str(b.taken_port())], "Address already in use"),
    "serve-on-a-port-too-high": (lambda b: ["serve", "--port", "70000"], "--port must be between 0 and 65535"),
    "serve-on-a-negative-port": (lambda b: ["serve", "--port=-1"], "--port must be between 0 and 65535"),
    "serve-on-an-address-not-here": (lambda b: ["serve", "--host", "192.0.2.1", "--port", "0"], "cannot serve on"),
    "base-url-not-a-url": (
        lambda b: b.with_env("ORDERCLOUD_BASE_URL", "http://[::1", "doctor", "--api-client", STOREFRONT_CLIENT_ID),
        "invalid base URL",
    ),
    "doctor-of-an-impossible-client-id": (
        lambda b: ["doctor", "--base-url", b.server.url, "--api-client", "a/b"],
        "api_client_id must not contain '/'",
    ),
    "doctor-with-an-opaque-token": (
        lambda b: b.opaque_tokens("doctor", "--base-url", b.server.url, "--api-client", STOREFRONT_CLIENT_ID),
        "401",
    ),
}


CONSUME_UNREACHABLE = ["consume", "--bootstrap", "127.0.0.1:1", "--topic", "tracking", "--group", "shop"]
BAD_INPUTS.update(
    {
        "consume-without-a-topic": (lambda b: ["consume", "--bootstrap", "127.0.0.1:1"], "--topic"),
        "consume-without-a-group": (
            lambda b: ["consume", "--bootstrap", "127.0.0.1:1", "--topic", "tracking"],
            "pass --group NAME",
        ),
        "consume-without-any-source": (lambda b: ["consume", "--group", "shop"], "ORDERCLOUD_KAFKA_BOOTSTRAP_SERVERS"),
        "consume-an-event-hub-without-its-connection-string": (
            lambda b: ["consume", "--event-hub", "hub", "--group", "shop"],
            "--connection-string-env",
        ),
        "consume-an-event-hub-connection-string-without-endpoint": (
            lambda b: b.with_env(
                "EH_CONNECTION",
                "SharedAccessKey=abc",
                "consume",
                "--event-hub",
                "hub",
                "--group",
                "shop",
                "--connection-string-env",
                "EH_CONNECTION",
            ),
            "no Endpoint=",
        ),
        "consume-a-handler-that-cannot-be-imported": (
            lambda b: [*CONSUME_UNREACHABLE, "--handler", "no_such_module_here:handle"],
            "cannot import module 'no_such_module_here'",
        ),
        "consume-a-handler-without-a-function": (
            lambda b: [*CONSUME_UNREACHABLE, "--handler", "json"],
            "module:function",
        ),
        "consume-a-handler-that-is-not-there": (
            lambda b: [*CONSUME_UNREACHABLE, "--handler", "json:no_such_function"],
            "has no attribute 'no_such_function'",
        ),
        "consume-a-dedupe-db-that-cannot-be-opened": (
            lambda b: [*CONSUME_UNREACHABLE, "--dedupe-db", str(b.tmp_path / "missing-dir" / "seen.db")],
            "--dedupe-db",
        ),
        "consume-an-unreachable-broker": (
            lambda b: [*CONSUME_UNREACHABLE, "--timeout", "1"],
            "Could not reach Kafka at 127.0.0.1:1",
        ),
    }
)


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_error_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    server: FakeServer,
    fake: FakeOrderCloud,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    make_args, phrase = BAD_INPUTS[case]
    bad = BadInput(tmp_path, server, fake, monkeypatch)
    try:
        result = run(capsys, *make_args(bad))
    finally:
        for sock in bad.sockets:
            sock.close()

    assert result.code == 2, result
    assert result.err.startswith("error: "), result
    assert len(result.err.splitlines()) == 1, result
    assert "Traceback" not in result.err
    assert phrase in result.err, result
    assert result.out == ""


# ------------------------------------------------------------------------------- first contact (issue 14)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from ordercloud_tracking import __version__

    result = run(capsys, "--version")

    assert result.code == 0
    assert result.out == f"ordercloud-tracking {__version__}\n"


def test_debug_and_timeout_are_accepted_after_the_command(
    capsys: pytest.CaptureFixture[str], server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERCLOUD_CLIENT_SECRET", "not-the-secret")

    after = run(capsys, "events", "list", "--base-url", server.url, "--debug", "--timeout", "5")
    before = run(capsys, "--debug", "--timeout", "5", "events", "list", "--base-url", server.url)
    neither = run(capsys, "events", "list", "--base-url", server.url)

    for result in (after, before):
        assert result.code == 2, result
        assert "Traceback (most recent call last)" in result.err
    assert neither.code == 2
    assert "Traceback" not in neither.err


@pytest.mark.parametrize("timeout", ["0", "-1", "soon", "nan", "inf"])
def test_a_timeout_that_is_not_a_positive_number_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], timeout: str
) -> None:
    result = run(capsys, "doctor", "--api-client", STOREFRONT_CLIENT_ID, f"--timeout={timeout}")

    assert result.code == 2
    assert "error: argument --timeout: " in result.err


def test_doctor_without_api_client_says_what_to_pass(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    result = run(capsys, "doctor", "--base-url", server.url)

    assert result.code == 2, result
    assert result.out == ""
    assert result.err.startswith("error: which API client's tracking? pass --api-client ID")
    assert len(result.err.splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [(["doctr"], "did you mean 'doctor'?"), (["stup"], "did you mean 'setup'?"), (["events", "lst"], "'list'?")],
)
def test_a_mistyped_command_gets_did_you_mean(
    capsys: pytest.CaptureFixture[str], argv: list[str], suggestion: str
) -> None:
    result = run(capsys, *argv)

    assert result.code == 2
    assert result.err.splitlines()[-1].endswith(suggestion), result


def test_a_command_like_nothing_gets_the_list_of_commands(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "zzzz")

    assert result.code == 2
    assert "did you mean" not in result.err
    assert "choose from" in result.err


class SilentHost:
    """A loopback server that accepts connections and never answers."""

    def __init__(self) -> None:
        import threading

        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.listener.close()
        self.thread.join(timeout=10)
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def silent_host() -> Iterator[SilentHost]:
    host = SilentHost()
    yield host
    host.close()


@pytest.mark.parametrize("argv", [["doctor", "--api-client", STOREFRONT_CLIENT_ID], ["events", "list"]])
def test_a_host_that_never_answers_is_a_timeout_error_without_retries(
    capsys: pytest.CaptureFixture[str], silent_host: SilentHost, argv: list[str]
) -> None:
    result = run(capsys, *argv, "--base-url", silent_host.url, "--timeout", "0.5")

    assert result.code == 2, result
    assert result.out == ""
    assert result.err == "error: OrderCloud did not answer within 0.5 s (--timeout)\n"
    assert len(silent_host.accepted) == 1  # the token request was not retried after the timeout


def test_progress_goes_to_a_terminal_and_a_timeout_is_one_line(silent_host: SilentHost) -> None:
    import pty

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ORDERCLOUD_")},
        "ORDERCLOUD_CLIENT_ID": ADMIN_CLIENT_ID,
        "ORDERCLOUD_CLIENT_SECRET": ADMIN_CLIENT_SECRET,
    }
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [
                sys.executable,
                "-m",
                "ordercloud_tracking",
                "doctor",
                "--api-client",
                STOREFRONT_CLIENT_ID,
                "--base-url",
                silent_host.url,
                "--timeout",
                "0.5",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=60,
            check=False,
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the terminal's other end is closed and everything was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)

    assert done.returncode == 2
    assert done.stdout == b""
    lines = shown.decode("utf-8", "replace").splitlines()
    assert lines[0].startswith(f"Checking tracking for {STOREFRONT_CLIENT_ID} on {silent_host.url}")
    assert "(--timeout 0.5 s)" in lines[0]
    assert lines[1:] == ["error: OrderCloud did not answer within 0.5 s (--timeout)"]


def test_progress_is_not_written_to_a_pipe(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    result = run(capsys, "doctor", "--base-url", server.url, "--api-client", STOREFRONT_CLIENT_ID)

    assert result.code == 1
    assert result.err == ""


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_non_utf8_stdout_never_fails_the_command(
    capsys: pytest.CaptureFixture[str], server: FakeServer, encoding: str
) -> None:
    assert run(capsys, *setup_args(server)).code == 0
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ORDERCLOUD_", "PYTHONUTF8"))},
        "ORDERCLOUD_CLIENT_ID": ADMIN_CLIENT_ID,
        "ORDERCLOUD_CLIENT_SECRET": ADMIN_CLIENT_SECRET,
        "ORDERCLOUD_BASE_URL": server.url,
        "PYTHONIOENCODING": encoding,
    }
    command = [sys.executable, "-m", "ordercloud_tracking", "doctor", "--api-client", STOREFRONT_CLIENT_ID]

    text = subprocess.run(command, env=env, capture_output=True, timeout=60, check=False)  # noqa: S603
    as_json = subprocess.run([*command, "--json"], env=env, capture_output=True, timeout=60, check=False)  # noqa: S603

    assert text.returncode == 0, text
    assert b"UnicodeEncodeError" not in text.stderr
    assert text.stdout.decode(encoding).splitlines()[-1] == "Tracking for storefront: healthy"
    assert "\\u2192" in text.stdout.decode(encoding)  # the arrow, escaped rather than fatal
    assert as_json.returncode == 0, as_json
    report = json.loads(as_json.stdout.decode(encoding))
    assert report["healthy"] is True
    assert any("\u2192" in check["message"] for check in report["checks"])  # JSON escapes survive the round trip


# ------------------------------------------------------------------------------------ verify: hints, stdin

SIGNED_WITH_CHANGES = {
    "trailing-newline-added": (BODY, BODY + b"\n", "a trailing newline was added"),
    "trailing-crlf-added": (BODY, BODY + b"\r\n", "a trailing CRLF was added"),
    "bom-added": (BODY, b"\xef\xbb\xbf" + BODY, "a byte-order mark (BOM) was added"),
    "trailing-newline-lost": (BODY + b"\n", BODY, "the trailing newline was lost"),
    "crlf-to-lf": (b'{"a": 1,\r\n"b": 2}\r\n', b'{"a": 1,\n"b": 2}\n', "line endings were changed from CRLF to LF"),
}


@pytest.mark.parametrize("case", list(SIGNED_WITH_CHANGES))
def test_verify_hints_when_only_a_newline_or_bom_differs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str
) -> None:
    signed, saved, change = SIGNED_WITH_CHANGES[case]
    path = tmp_path / "delivery.json"
    path.write_bytes(saved)
    signature = sign_payload(signed, HOOK_SECRET)

    result = run(capsys, "verify", str(path), "--secret-env", "HOOK_SECRET", "--signature", signature)
    as_json = run(capsys, "verify", str(path), "--secret-env", "HOOK_SECRET", "--signature", signature, "--json")

    assert result.code == 1, result
    assert result.out.startswith("INVALID x-oc-hash")
    assert result.out.splitlines()[1].startswith("hint: the signature matches this body but for one change: ")
    assert change in result.out
    assert as_json.code == 1
    assert change in as_json.json()["hint"]


def test_verify_gives_no_hint_for_another_secret(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "delivery.json"
    path.write_bytes(BODY + b"\n")

    result = run(
        capsys, "verify", str(path), "--secret-env", "HOOK_SECRET", "--signature", sign_payload(BODY, "other-secret")
    )

    assert result.code == 1
    assert "hint" not in result.out


def test_verify_reads_the_body_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    signature = sign_payload(BODY, HOOK_SECRET)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BODY), encoding="utf-8"))

    result = run(capsys, "verify", "-", "--secret-env", "HOOK_SECRET", "--signature", signature)

    assert result.code == 0, result
    assert result.out == f"valid x-oc-hash over {len(BODY)} bytes; OrderSubmitted\n"


def test_verify_reads_raw_bytes_from_a_piped_stdin() -> None:
    body = b"\xef\xbb\xbf" + BODY + b"\r\n"  # bytes a text-mode read would alter
    env = {**os.environ, "HOOK_SECRET": HOOK_SECRET}

    done = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [
            sys.executable,
            "-m",
            "ordercloud_tracking",
            "verify",
            "-",
            "--secret-env",
            "HOOK_SECRET",
            "--signature",
            sign_payload(body, HOOK_SECRET),
        ],
        input=body,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done
    assert done.stdout.startswith(f"valid x-oc-hash over {len(body)} bytes".encode())


# -------------------------------------------------------------------- *-env flags given the secret itself

PASTED = "Zq8!vT3$kP0-secretvalue"  # what a user pastes by mistake: not a variable name
PASTED_NAMELIKE = "aB3dE5gH7jK9mN1pQ3sT5vX7z"  # a secret that happens to be a valid identifier


def _replaced(argv: list[str], flag: str, value: str) -> list[str]:
    argv[argv.index(flag) + 1] = value
    return argv


def _env_flag_cases(value: str) -> dict[str, Callable[[BadInput], list[str]]]:
    return {
        "client-secret-env": lambda b: ["events", "list", "--base-url", b.server.url, "--client-secret-env", value],
        "http-secret-env": lambda b: [*setup_args(b.server)[:-1], value],
        "discover-api-key-env": lambda b: [
            *setup_args(b.server),
            "--discover-client-id",
            "ckey",
            "--discover-endpoint",
            "https://discover.example/events",
            "--discover-api-key-env",
            value,
        ],
        "verify-secret-env": lambda b: _replaced(b.verify(b"sig"), "--secret-env", value),
        "sasl-password-env": lambda b: [*CONSUME_UNREACHABLE, "--sasl-username", "oc", "--sasl-password-env", value],
        "connection-string-env": lambda b: [
            "consume",
            "--event-hub",
            "hub",
            "--group",
            "g",
            "--connection-string-env",
            value,
        ],
        "setup-file-env-reference": lambda b: b.spec(
            delivery_config={"DeliveryTargets": {"Http": {"Endpoint": ENDPOINT, "Secret": {"env": value}}}}
        ),
    }


@pytest.mark.parametrize("value", [PASTED, PASTED_NAMELIKE])
@pytest.mark.parametrize("flag", list(_env_flag_cases("")))
def test_an_env_flag_given_the_secret_itself_does_not_echo_it(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    server: FakeServer,
    fake: FakeOrderCloud,
    monkeypatch: pytest.MonkeyPatch,
    flag: str,
    value: str,
) -> None:
    argv = _env_flag_cases(value)[flag](BadInput(tmp_path, server, fake, monkeypatch))

    result = run(capsys, *argv)

    assert result.code == 2, result
    assert len(result.err.splitlines()) == 1, result
    assert value not in result.out + result.err
    assert "not shown" in result.err


def test_an_unset_variable_name_is_still_named(capsys: pytest.CaptureFixture[str], server: FakeServer) -> None:
    result = run(capsys, "events", "list", "--base-url", server.url, "--client-secret-env", "MY_OC_SECRET")

    assert result.code == 2
    assert result.err == "error: --client-secret-env: environment variable MY_OC_SECRET is not set\n"


def test_the_troubleshooting_guide_shows_what_serve_prints() -> None:
    from ordercloud_tracking.testing import DEFAULT_SEED

    guide = (Path(__file__).parents[1] / "docs" / "guides" / "troubleshooting.md").read_text(encoding="utf-8")

    assert f"`{ADMIN_CLIENT_ID}`, secret `{ADMIN_CLIENT_SECRET}`" in guide
    assert f"Storefront API client | `{STOREFRONT_CLIENT_ID}`" in guide
    for user in DEFAULT_SEED.users:
        if user.username != "anon-template":
            assert f"`{user.username}` / `{user.password}`" in guide
    assert (
        "ORDERCLOUD_BASE_URL=http://127.0.0.1:8085 "
        f"ORDERCLOUD_CLIENT_ID={ADMIN_CLIENT_ID} ORDERCLOUD_CLIENT_SECRET={ADMIN_CLIENT_SECRET}"
    ) in guide
    assert f"ordercloud-tracking doctor --api-client {STOREFRONT_CLIENT_ID}" in guide


# ------------------------------------------------------------------------------------ consume (issue 13 §5)

KAFKA_PASSWORD = "kafka-pw-7c1e93"
TRACKING_LINE = (
    b'{"OrderId": "o-1", "LineItem": {"LineID": "l-1", "Product": {"ProductID": "sku-1", "Name": "Mug"},'
    b' "Quantity": 2, "Price": 5}, "UserContext": {"AnonymousId": "anon-1"}}'
)
TRACKING_ORDER = (
    b'{"OrderID": "o-1", "OrderStatus": "Open", "Subtotal": 10, "OrderTotal": 10, "LineItems": [],'
    b' "UserContext": {"AnonymousId": "anon-1"}}'
)
LINE_ADDED: tuple[str, str | bytes | None] = ("type", b"sitecore.ordercloud.messages.orders.lines.added")


def test_an_unreachable_broker_names_the_servers_never_the_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_PASSWORD", KAFKA_PASSWORD)
    argv = [*CONSUME_UNREACHABLE, "--sasl-username", "oc", "--sasl-password-env", "KAFKA_PASSWORD"]
    result = run(capsys, *argv, "--security-protocol", "SASL_PLAINTEXT", "--timeout", "1")

    assert result.code == 2, result
    assert result.err.startswith("error: Could not reach Kafka at 127.0.0.1:1"), result
    assert len(result.err.splitlines()) == 1, result  # librdkafka's repeated connection logs are not shown
    assert KAFKA_PASSWORD not in result.out + result.err


class Consuming:
    """``ordercloud-tracking consume`` as a real subprocess; its stdout lines are read as they come."""

    def __init__(self, cwd: Path, *argv: str) -> None:
        import queue
        import threading

        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "ordercloud_tracking", "consume", *argv],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None
        stdout = self.process.stdout

        def pump() -> None:
            for line in stdout:
                self.lines.put(line)

        threading.Thread(target=pump, daemon=True).start()

    def read(self, count: int) -> list[str]:
        """The next ``count`` lines (a bound of 60 s each, so a broken command fails instead of hanging)."""
        import queue

        lines = []
        for _ in range(count):
            try:
                lines.append(self.lines.get(timeout=60))
            except queue.Empty:
                self.process.kill()
                raise AssertionError(f"no output line; stderr: {self.process.communicate()[1]}") from None
        return lines

    def terminate(self) -> tuple[int, str]:
        """SIGTERM, as a process manager stops it; the exit code and stderr."""
        import signal

        self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        return self.process.returncode, err


def _produce(servers: str, topic: str, *records: tuple[bytes, list[tuple[str, str | bytes | None]]]) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": servers})
    for value, headers in records:
        producer.produce(topic, value, headers=headers)
    assert producer.flush(30) == 0


def test_consume_prints_what_send_and_discover_receive_and_sigterm_exits_0(
    oc_kafka: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    oc_kafka.create_topic("tracking", partitions=1)
    _produce(oc_kafka.bootstrap_servers, "tracking", (TRACKING_LINE, [LINE_ADDED]), (TRACKING_ORDER, []))
    monkeypatch.setenv("KAFKA_PASSWORD", KAFKA_PASSWORD)  # in the environment; PLAINTEXT, so unused
    consuming = Consuming(tmp_path, "--bootstrap", oc_kafka.bootstrap_servers, "--topic", "tracking", "--group", "cli")

    line, order = consuming.read(2)
    code, err = consuming.terminate()

    assert code == 0, err
    assert line.startswith("tracking[0]@0 LineItemAdded line:o-1:l-1: OrderLine o-1/l-1"), line
    assert "| Send: ADDED_TO_ORDER ContactId anon-1: sku-1 x 2" in line, line
    assert "| Discover: a2c:pdp uuid anon-1 [sku-1 x 2" in line, line
    assert order.startswith(
        "tracking[0]@1 OrderSubmitted order:o-1: Order o-1 Open (submitted, awaiting fulfilment), total 10.00"
    ), order
    assert "| Send: ORDER_COMPLETED ContactId anon-1" in order, order
    assert KAFKA_PASSWORD not in line + order + err


def test_consume_json_with_a_handler_dedupe_db_and_dlq(oc_kafka: Any, tmp_path: Path) -> None:
    """An async --handler module:function (imported from the working directory), --dedupe-db across groups, --dlq."""
    oc_kafka.create_topic("tracking", partitions=1)
    oc_kafka.create_topic("poison", partitions=1)
    (tmp_path / "shop_handler.py").write_text(
        "import json\n"
        "async def handle(delivery):  # an async handler: the command runs AsyncTrackingConsumer\n"
        "    print(json.dumps({'handled': delivery.delivery_key, 'offset': delivery.offset}), flush=True)\n"
    )
    database = str(tmp_path / "seen.db")
    servers = oc_kafka.bootstrap_servers
    _produce(servers, "tracking", (TRACKING_LINE, [LINE_ADDED]), (b"not json", []), (TRACKING_ORDER, []))
    common = ["--bootstrap", servers, "--topic", "tracking", "--dedupe-db", database, "--dlq", "poison"]

    first = Consuming(tmp_path, *common, "--group", "one", "--handler", "shop_handler:handle")
    handled = [json.loads(line) for line in first.read(2)]
    code, err = first.terminate()
    assert code == 0, err
    assert handled == [{"handled": "line:o-1:l-1", "offset": 0}, {"handled": "order:o-1", "offset": 2}]
    assert "Dead-lettered tracking[0]@1 to poison" in err

    # Another group reads the topic from the start: the same database knows what was handled.
    _produce(servers, "tracking", (TRACKING_LINE.replace(b'"Quantity": 2', b'"Quantity": 3'), [LINE_ADDED]))
    second = Consuming(tmp_path, *common, "--group", "two", "--json")
    [record] = [json.loads(line) for line in second.read(1)]
    code, err = second.terminate()
    assert code == 0, err
    assert (record["offset"], record["event_type"], record["delivery_key"]) == (3, "LineItemAdded", "line:o-1:l-1")
    assert record["message"]["LineItem"]["Quantity"] == 3
    assert record["send"]["actionType"] == "ADDED_TO_ORDER"
    assert record["discover"]["type"] == "a2c"


def test_doctor_check_kafka_tries_the_brokers_from_here(
    capsys: pytest.CaptureFixture[str], fake: FakeOrderCloud, server: FakeServer
) -> None:
    from ordercloud_tracking.provisioning import ensure_tracking

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        broker = f"127.0.0.1:{listening.getsockname()[1]}"
        kafka = {"BootstrapServers": broker, "SaslUsername": "oc", "SaslPassword": KAFKA_PASSWORD, "Topic": "commerce"}
        with fake.client() as admin:
            ensure_tracking(
                admin,
                client_id=STOREFRONT_CLIENT_ID,
                delivery_config={"ID": "dc-k", "Name": "Kafka", "DeliveryTargets": {"Kafka": kafka}},
            )
        plain = run(capsys, "doctor", "--base-url", server.url, "--api-client", STOREFRONT_CLIENT_ID)
        checked = run(capsys, "doctor", "--base-url", server.url, "--api-client", STOREFRONT_CLIENT_ID, "--check-kafka")

    assert "[WARN] delivery config dc-k → Kafka: BootstrapServers 127.0.0.1" in plain.out  # OrderCloud cannot reach it
    assert "Kafka brokers" not in plain.out
    assert (
        f"[OK  ] delivery config dc-k → Kafka brokers: {broker} accepted a connection from this machine" in checked.out
    )
    assert KAFKA_PASSWORD not in plain.out + checked.out + checked.err


def test_consume_on_a_terminal_prints_progress_and_a_stats_line(oc_kafka: Any, tmp_path: Path) -> None:
    import pty
    import select
    import signal

    oc_kafka.create_topic("tracking", partitions=1)
    _produce(oc_kafka.bootstrap_servers, "tracking", (TRACKING_ORDER, []))
    controller, terminal = pty.openpty()
    argv = ["consume", "--bootstrap", oc_kafka.bootstrap_servers, "--topic", "tracking", "--group", "tty"]
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "ordercloud_tracking", *argv],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
    )
    os.close(terminal)
    seen = ""
    try:
        deadline = time.monotonic() + 60  # a bound against hanging, not a timing assertion
        while "stats: processed=1 " not in seen and time.monotonic() < deadline:
            if select.select([controller], [], [], 1)[0]:
                seen += os.read(controller, 4096).decode("utf-8", "replace")
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)

    assert f"Consuming tracking as group tty from {oc_kafka.bootstrap_servers}" in seen
    assert "stats: processed=1 duplicates=0 retried=0 dead_lettered=0 lag=0 partitions=1" in seen, seen
