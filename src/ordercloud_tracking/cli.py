"""The ``ordercloud-tracking`` command (also ``python -m ordercloud_tracking``).

Commands: ``setup``, ``doctor``, ``events list``, ``configs list``, ``verify``, ``consume``, ``serve``, ``demo``.
Credentials come from flags or the environment (``ORDERCLOUD_CLIENT_ID``, ``ORDERCLOUD_CLIENT_SECRET``,
``ORDERCLOUD_ENVIRONMENT``, ``ORDERCLOUD_REGION``, ``ORDERCLOUD_BASE_URL``); secrets are read from the
environment (``--…-env NAME``), never printed, and a secret given as a plain flag draws a warning.
Errors print one line (OrderCloud's ``ErrorCode`` and what to do); ``--debug`` shows the traceback.
Exit codes: 0 success (``consume``: also when stopped by Ctrl+C or SIGTERM), 1 problems found (``doctor``,
``verify``), 2 usage or connection error.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, cast

from ._errors import APIConnectionError, APIError, OrderCloudError, TokenError
from ._version import __version__

if TYPE_CHECKING:
    from ._client import OrderCloud

__all__ = ["main"]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
DEFAULT_TIMEOUT = 30.0  # seconds: --timeout

#: What to do about the ErrorCodes people meet most (also rendered in the troubleshooting guide).
HINTS: Mapping[str, str] = {
    "Auth.InvalidUsernameOrPassword": "check the username and password",
    "Auth.InsufficientRoles": "give the API client (or user) the role named in the message",
    "ApiClient.InvalidClientID": "check --client-id / ORDERCLOUD_CLIENT_ID and the environment/region",
    "Auth.InvalidClientSecret": "check ORDERCLOUD_CLIENT_SECRET",
    "invalid_client": "check the client ID and secret, and the environment/region",
    "InvalidToken": "the token expired or belongs to another environment; get a new one",
    "NotFound": "check the ID (and that you are on the right environment/region)",
    "TrackingEvent.InvalidClientID": "the tracking event's ClientID must be an existing API client",
    "TrackingEvent.InvalidDeliveryConfigID": "create the delivery config first (setup does it in order)",
    "TrackingEvent.CannotCreateMultipleEventsOfSameType": "an API client has one tracking event per type; update it",
    "TrackingEvent.CannotUpdateProperty": "ClientID and EventType cannot change; delete and recreate the event",
    "DeliveryConfig.CannotDeleteConfigInUse": "point the tracking events elsewhere (or delete them) first",
    "Integration.CustomAuthHeaderNameRequired": "give CustomAuthHeaderName together with its value",
    "Integration.CustomAuthHeaderValueRequired": "give CustomAuthHeaderValue together with its name",
    "List.InvalidPageSize": "pageSize must be between 1 and 100",
    "ValidationFailure": "a required field is missing or invalid (see the message)",
}


def _hint(error: OrderCloudError) -> str:
    code = getattr(error, "error_code", None)
    return HINTS.get(code or "", "")


class _Usage(Exception):
    """A usage problem: printed as one line, exit code 2."""


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        print(message, file=sys.stderr, flush=True)


_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Names shown back in errors: upper-case words (HOOK_SECRET). Anything else might be a secret pasted by mistake.
_SHOWABLE_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")


def _env_secret(name: str | None, what: str) -> str | None:
    """The value of the environment variable ``name``; the name itself is echoed only when it looks like one."""
    if not name:
        return None
    if not _VARIABLE_NAME.fullmatch(name):
        raise _Usage(
            f"{what} takes the NAME of an environment variable (e.g. HOOK_SECRET), not the secret itself;"
            " what was given is not a variable name (not shown)"
        )
    value = os.environ.get(name)
    if not value:
        showable = _SHOWABLE_NAME.fullmatch(name) and len(name) <= 40 and ("_" in name or name.isalpha())
        if showable:
            raise _Usage(f"{what}: environment variable {name} is not set")
        raise _Usage(
            f"{what}: no environment variable of that name is set (the name is not shown: it may be the secret"
            " itself); pass the NAME of the variable that holds the secret"
        )
    return value


# ------------------------------------------------------------------------------------------ clients


def _add_connection_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection (flags override ORDERCLOUD_* environment variables)")
    group.add_argument("--client-id", help="admin API client ID (ORDERCLOUD_CLIENT_ID)")
    group.add_argument(
        "--client-secret-env",
        metavar="NAME",
        help="read the client secret from this variable (default ORDERCLOUD_CLIENT_SECRET)",
    )
    group.add_argument("--client-secret", help=argparse.SUPPRESS)
    group.add_argument("--environment", help="production, staging or sandbox (ORDERCLOUD_ENVIRONMENT)")
    group.add_argument("--region", help="us-west, us-east, australia-east, europe-west, japan-east (ORDERCLOUD_REGION)")
    group.add_argument("--base-url", help="explicit API base URL, e.g. a fake (ORDERCLOUD_BASE_URL)")


def _add_list_command(
    sub: argparse._SubParsersAction[_Parser],
    name: str,
    helps: tuple[str, str],
    handler: Callable[[argparse.Namespace, IO[str]], int],
) -> argparse.ArgumentParser:
    """``ordercloud-tracking NAME list`` (``helps``: of NAME, of list) with the connection flags and ``--json``."""
    group = sub.add_parser(name, help=helps[0])
    actions = group.add_subparsers(dest=f"{name}_command", required=True, metavar="ACTION", parser_class=_Parser)
    listing = actions.add_parser("list", help=helps[1])
    _add_connection_flags(listing)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=handler)
    return listing


def _timeout(args: argparse.Namespace) -> float:
    timeout: float = getattr(args, "timeout", DEFAULT_TIMEOUT)
    return timeout


class _Deadline:
    """The retry policy's ``sleep``: no retry starts once ``--timeout`` seconds have passed since the client was made.

    Each request also waits at most ``--timeout`` seconds for an answer, so a host that accepts and never
    answers fails after about that long, not once per retry.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()

    def __call__(self, delay: float) -> None:
        if time.monotonic() + delay - self.started >= self.seconds:
            raise _Usage(f"OrderCloud did not answer within {self.seconds:g} s (--timeout)")
        time.sleep(delay)


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return seconds


def _client(args: argparse.Namespace) -> OrderCloud:
    from ._client import OrderCloud

    client_id = args.client_id or os.environ.get("ORDERCLOUD_CLIENT_ID")
    if not client_id:
        raise _Usage("no client ID: pass --client-id or set ORDERCLOUD_CLIENT_ID")
    secret = args.client_secret
    if secret:
        _warn("--client-secret puts the secret in your shell history and process list; prefer ORDERCLOUD_CLIENT_SECRET")
    else:
        secret = _env_secret(args.client_secret_env, "--client-secret-env") or os.environ.get(
            "ORDERCLOUD_CLIENT_SECRET"
        )
    if not secret:
        raise _Usage("no client secret: set ORDERCLOUD_CLIENT_SECRET (or --client-secret-env NAME)")
    from httpx import URL, InvalidURL

    from ._retry import RetryPolicy

    base_url = args.base_url or os.environ.get("ORDERCLOUD_BASE_URL") or None
    try:
        if base_url is not None:
            URL(base_url)  # the client only parses it when it sends the first request
        return OrderCloud(
            client_id,
            secret,
            environment=args.environment or os.environ.get("ORDERCLOUD_ENVIRONMENT") or "production",
            region=args.region or os.environ.get("ORDERCLOUD_REGION") or "us-west",
            base_url=base_url,
            timeout=_timeout(args),
            retry_policy=RetryPolicy(sleep=_Deadline(_timeout(args))),
        )
    except InvalidURL as exc:  # e.g. ORDERCLOUD_BASE_URL=http://[::1 (not echoed: a URL can hold a password)
        raise _Usage(f"invalid base URL (--base-url or ORDERCLOUD_BASE_URL): {exc}") from exc
    except ValueError as exc:
        raise _Usage(str(exc)) from exc


# ------------------------------------------------------------------------------------------- output


def _emit_json(data: Any, out: IO[str]) -> None:
    json.dump(data, out, indent=2, default=str, ensure_ascii=not _is_utf(out))
    out.write("\n")


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str], out: IO[str]) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out.write(line.format(*headers).rstrip() + "\n")
    out.write(line.format(*("-" * w for w in widths)).rstrip() + "\n")
    for row in rows:
        out.write(line.format(*(str(x) for x in row)).rstrip() + "\n")


def _is_utf(stream: IO[str]) -> bool:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


def _tolerate_any_encoding(*streams: IO[str]) -> None:
    """A terminal or pipe that cannot encode a character (ASCII, latin-1) shows an escape instead of failing."""
    for stream in streams:
        if isinstance(stream, io.TextIOWrapper) and not _is_utf(stream):
            stream.reconfigure(errors="backslashreplace")


# ----------------------------------------------------------------------------------------- commands


def _read_text(path: str) -> str:
    """A UTF-8 text file (a BOM is dropped); a missing, unreadable or binary file is a usage error."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise _Usage(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _Usage(f"{path} is not UTF-8 text (byte {exc.start} cannot be decoded)") from exc


SETUP_KEYS = ("client_id", "delivery_config", "events", "prune")


def _load_file(path: str) -> dict[str, Any]:
    text = _read_text(path)
    kind = "TOML" if Path(path).suffix.lower() == ".toml" else "JSON"
    try:
        if kind == "TOML":
            if sys.version_info >= (3, 11):
                import tomllib

                data: Any = tomllib.loads(text)
            else:  # pragma: no cover - Python 3.10
                raise _Usage("TOML setup files need Python 3.11 or later; use JSON")
        else:
            data = json.loads(text)
        if not isinstance(data, dict):
            raise _Usage(f"{path} must hold an object")
        resolved: dict[str, Any] = _resolve_env_refs(data)
    except ValueError as exc:
        raise _Usage(f"{path} is not valid {kind}: {exc}") from exc
    except RecursionError as exc:
        raise _Usage(f"{path} is nested too deeply") from exc
    unknown = sorted(set(resolved) - set(SETUP_KEYS))
    if unknown:
        raise _Usage(f"{path}: unknown key(s) {', '.join(unknown)} (expected {', '.join(SETUP_KEYS)})")
    return resolved


def _resolve_env_refs(value: Any) -> Any:
    """``{"env": "NAME"}`` anywhere in a setup file is replaced by that environment variable."""
    if isinstance(value, dict):
        if set(value) == {"env"} and isinstance(value["env"], str):
            return _env_secret(value["env"], '{"env": …} in the setup file')
        return {k: _resolve_env_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env_refs(v) for v in value]
    return value


def _typed(source: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str, where: str) -> Any:
    """``source[key]`` (``None`` when absent or null); a value of another type is a usage error."""
    value = source.get(key)
    if value is not None and not isinstance(value, kind):
        raise _Usage(f"{where}: {key} must be {what}, not {type(value).__name__}")
    return value


def _setup_spec(args: argparse.Namespace) -> dict[str, Any]:
    spec: dict[str, Any] = _load_file(args.file) if args.file else {}
    where = args.file or "setup"
    config: dict[str, Any] = dict(_typed(spec, "delivery_config", dict, "an object", where) or {})
    targets: dict[str, Any] = dict(
        _typed(config, "DeliveryTargets", dict, "an object", f"{where}: delivery_config") or {}
    )
    file_events = _typed(spec, "events", list, "a list of event type names", where)
    if file_events is not None and not all(isinstance(e, str) for e in file_events):
        raise _Usage(f"{where}: events must be a list of event type names (strings)")
    prune = _typed(spec, "prune", bool, "true or false", where)
    if args.http_endpoint:
        secret = _env_secret(args.http_secret_env, "--http-secret-env")
        if args.http_secret:
            _warn("--http-secret puts the secret in your shell history; prefer --http-secret-env NAME")
            secret = args.http_secret
        if not secret:
            raise _Usage("--http-endpoint needs --http-secret-env NAME (the x-oc-hash key)")
        targets["Http"] = {"Endpoint": args.http_endpoint, "Secret": secret}
    if args.send_site_id:
        targets["SendEvent"] = {"SiteID": args.send_site_id, "ServiceEndpoint": args.send_endpoint}
    if args.discover_client_id:
        key = _env_secret(args.discover_api_key_env, "--discover-api-key-env")
        if not key:
            raise _Usage("--discover-client-id needs --discover-api-key-env NAME")
        if not args.discover_endpoint:
            raise _Usage("--discover-client-id needs --discover-endpoint URL (the Discover events API URL)")
        targets["DiscoverEvent"] = {
            "ClientID": args.discover_client_id,
            "ApiKey": key,
            "ServiceEndpoint": args.discover_endpoint,
        }
    if args.config_id:
        config["ID"] = args.config_id
    if args.config_name:
        config["Name"] = args.config_name
    config.setdefault("Name", "ordercloud-tracking")
    if not targets:
        raise _Usage("no delivery targets: pass --http-endpoint, --send-site-id or --discover-client-id, or --file")
    config["DeliveryTargets"] = targets
    api_client = args.api_client or _typed(spec, "client_id", str, "a string (an API client ID)", where)
    if not api_client:
        # Not defaulted to the admin --client-id: that is rarely the storefront whose events you mean.
        raise _Usage("which API client's events? pass --api-client (the storefront's client ID) or client_id in --file")
    events = [e.strip() for e in args.events.split(",") if e.strip()] if args.events else file_events
    return {"client_id": api_client, "delivery_config": config, "events": events, "prune": bool(args.prune or prune)}


def cmd_setup(args: argparse.Namespace, out: IO[str]) -> int:
    from pydantic import ValidationError

    from .provisioning import ALL_EVENTS, ensure_tracking

    spec = _setup_spec(args)
    with _client(args) as client:
        _progress(
            f"{'Planning' if args.dry_run else 'Applying'} tracking for {spec['client_id']} on {client.options.base_url} …"
        )
        try:
            plan = ensure_tracking(
                client,
                client_id=spec["client_id"],
                delivery_config=spec["delivery_config"],
                events=spec["events"] or ALL_EVENTS,
                prune=spec["prune"],
                dry_run=args.dry_run,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            raise _Usage(f"invalid delivery config: {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc
        except ValueError as exc:  # an unknown event type: a usage error, not a traceback
            raise _Usage(str(exc)) from exc
    if args.json:
        _emit_json(plan.to_dict(), out)
    else:
        out.write(f"{plan}\n")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace, out: IO[str]) -> int:
    from .provisioning import doctor

    api_client = args.api_client
    if not api_client:
        # Not defaulted to the admin --client-id: its events are rarely the ones meant, and its checks mislead.
        raise _Usage(
            "which API client's tracking? pass --api-client ID (the storefront's API client, not the admin one)"
        )
    with _client(args) as client:
        _progress(f"Checking tracking for {api_client} on {client.options.base_url} (--timeout {_timeout(args):g} s) …")
        try:
            report = doctor(client, client_id=api_client)
        except ValueError as exc:  # an API client ID that cannot be one (a "/" in it)
            raise _Usage(str(exc)) from exc
        if args.check_kafka:
            report = _with_kafka_probes(client, report, timeout=min(_timeout(args), KAFKA_PROBE_TIMEOUT))
    if args.json:
        _emit_json(report.to_dict(), out)
    else:
        out.write(f"{report}\n")
    return EXIT_OK if report.healthy else EXIT_PROBLEMS


KAFKA_PROBE_TIMEOUT = 5.0  # seconds per bootstrap server: doctor --check-kafka


def _with_kafka_probes(client: OrderCloud, report: Any, *, timeout: float) -> Any:
    """``report`` plus, for each Kafka target of the client's delivery configs, a connection try from here."""
    import attrs

    from ._errors import NotFoundError, PermissionDeniedError
    from .provisioning import Check, probe_kafka

    config_ids = sorted(
        {
            event.delivery_config_id
            for event in client.tracking_events.iter_all(filters={"ClientID": report.client_id})
            if event.delivery_config_id
        }
    )
    probes: list[Check] = []
    for config_id in config_ids:
        try:
            config = client.delivery_configs.get(config_id)
        except (NotFoundError, PermissionDeniedError):  # already reported by doctor
            continue
        kafka = config.delivery_targets.kafka if config.delivery_targets else None
        if kafka is not None:
            _progress(f"Trying the Kafka brokers of {config_id} from here ({timeout:g} s each) …")
            probes.append(
                probe_kafka(f"delivery config {config_id} → Kafka brokers", kafka.bootstrap_servers, timeout=timeout)
            )
    if not probes:
        probes.append(Check("Kafka brokers", "skip", "No Kafka target to try"))
    return attrs.evolve(report, checks=(*report.checks, *probes))


def cmd_events_list(args: argparse.Namespace, out: IO[str]) -> int:
    filters = {"ClientID": args.api_client} if args.api_client else None
    with _client(args) as client:
        _progress(f"Listing tracking events on {client.options.base_url} …")
        events = list(client.tracking_events.iter_all(filters=filters))
    if args.json:
        _emit_json([e.to_request(exclude_unset=False) for e in events], out)
        return EXIT_OK
    rows = [(e.id or "", str(e.event_type), e.client_id, e.delivery_config_id or "", e.name) for e in events]
    _table(rows, ("ID", "EventType", "ClientID", "DeliveryConfigID", "Name"), out)
    return EXIT_OK


def cmd_configs_list(args: argparse.Namespace, out: IO[str]) -> int:
    with _client(args) as client:
        _progress(f"Listing delivery configs on {client.options.base_url} …")
        configs = list(client.delivery_configs.iter_all())
    if args.json:
        _emit_json([c.model_dump(mode="json", by_alias=True) for c in configs], out)
        return EXIT_OK
    rows = [
        (c.id or "", c.name, "no" if c.enabled is False else "yes", ", ".join(c.delivery_targets.configured()))
        for c in configs
    ]
    _table(rows, ("ID", "Name", "Enabled", "Targets"), out)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, out: IO[str]) -> int:
    from .messages import parse_message
    from .receiver import verify_signature

    secret = _env_secret(args.secret_env, "--secret-env")
    assert secret is not None
    if args.file == "-":
        body = sys.stdin.buffer.read()
    else:
        try:
            body = Path(args.file).read_bytes()
        except OSError as exc:
            raise _Usage(f"cannot read {args.file}: {exc.strerror or exc}") from exc
    signature = args.signature
    if signature is None and args.signature_file:
        signature = _read_text(args.signature_file).strip()
    if not signature:
        raise _Usage("pass the x-oc-hash value with --signature or --signature-file")
    valid = verify_signature(body, signature, secret)
    kind = hint = None
    if valid:
        try:
            kind = type(parse_message(body)).__name__
        except ValueError as exc:
            kind = f"not JSON ({exc})"
    else:
        hint = _altered_body_hint(body, signature, secret)
    if args.json:
        _emit_json({"valid": valid, "bytes": len(body), "message": kind, "hint": hint}, out)
    else:
        out.write(
            f"{'valid' if valid else 'INVALID'} x-oc-hash over {len(body)} bytes" + (f"; {kind}\n" if kind else "\n")
        )
        if hint:
            out.write(f"hint: {hint}\n")
    return EXIT_OK if valid else EXIT_PROBLEMS


_BOM = b"\xef\xbb\xbf"


def _altered_body_hint(body: bytes, signature: str, secret: str) -> str | None:
    """What an editor, shell or copy-paste did to the body, when undoing it makes the signature match."""
    from .receiver import verify_signature

    unbommed = body.removeprefix(_BOM)
    candidates = {
        "a byte-order mark (BOM) was added at the start": unbommed,
        "a trailing CRLF was added": body.removesuffix(b"\r\n"),
        "a trailing newline was added": body.removesuffix(b"\n"),
        "a BOM and a trailing newline were added": unbommed.removesuffix(b"\r\n").removesuffix(b"\n"),
        "the trailing newline was lost": body + b"\n",
        "the trailing CRLF was lost": body + b"\r\n",
        "line endings were changed from CRLF to LF": body.replace(b"\n", b"\r\n"),
        "line endings were changed from LF to CRLF": body.replace(b"\r\n", b"\n"),
    }
    for change, original in candidates.items():
        if original != body and verify_signature(original, signature, secret):
            return (
                f"the signature matches this body but for one change: {change} (by an editor, shell or copy);"
                " verify the raw bytes exactly as received"
            )
    return None


def cmd_serve(args: argparse.Namespace, out: IO[str]) -> int:
    from .testing import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, DEFAULT_SEED, STOREFRONT_CLIENT_ID, FakeOrderCloud

    if not 0 <= args.port <= 65535:
        raise _Usage(f"--port must be between 0 and 65535, not {args.port}")
    # the user points delivery configs at their own endpoints: serve POSTs Http deliveries for real
    fake = FakeOrderCloud(base_url=f"http://{args.host}:{args.port}", http_delivery="network")
    try:
        server = fake.serve(host=args.host, port=args.port)
    except OSError as exc:  # taken port, unknown host, an address this machine does not have
        fake.close()
        raise _Usage(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    templates = {c.default_context_username for c in DEFAULT_SEED.api_clients if c.is_anon_buyer}
    users = [u for u in DEFAULT_SEED.users if u.username not in templates]

    def logins(user_type: str) -> str:
        return ", ".join(f"{u.username} / {u.password}" for u in users if u.user_type == user_type)

    # The fake's credentials are public test data (ordercloud_tracking.testing), not a secret anyone owns.
    out.write(
        f"FakeOrderCloud listening on {server.url}\n"
        f"  base URL:          {server.url}  (--base-url or ORDERCLOUD_BASE_URL)\n"
        f"  admin client:      {ADMIN_CLIENT_ID} / secret {ADMIN_CLIENT_SECRET}\n"
        f"  storefront client: {STOREFRONT_CLIENT_ID} (anonymous shopping; no secret)\n"
        f"  admin users:       {logins('admin')}\n"
        f"  buyer users:       {logins('buyer')}\n"
        "Point the command at it from another shell:\n"
        f"  export ORDERCLOUD_BASE_URL={server.url} ORDERCLOUD_CLIENT_ID={ADMIN_CLIENT_ID}"
        f" ORDERCLOUD_CLIENT_SECRET={ADMIN_CLIENT_SECRET}\n"
        f"  ordercloud-tracking doctor --api-client {STOREFRONT_CLIENT_ID}\n"
        "Press Ctrl+C to stop.\n"
    )
    out.flush()
    server.serve_forever()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, out: IO[str]) -> int:
    from ._demo import run_demo

    return run_demo(out, as_json=args.json)


# ------------------------------------------------------------------------------------------ consume

STATS_EVERY = 5.0  # seconds between stats lines on a terminal (consume)
_PLACEHOLDER_SITE_ID = "00000000-0000-0000-0000-000000000000"  # shows Send's payload without a real website


def _kafka_settings(args: argparse.Namespace) -> Any:
    """``KafkaSettings`` from the flags; without ``--bootstrap``/``--event-hub``, from ``ORDERCLOUD_KAFKA_*``."""
    from .streams import KafkaSettings

    group = args.group or os.environ.get("ORDERCLOUD_KAFKA_GROUP_ID") or None
    try:
        if args.event_hub:
            if args.bootstrap or args.topic:
                raise _Usage("--event-hub names the topic and the servers: drop --bootstrap/--topic")
            if not args.connection_string_env:
                raise _Usage(
                    "--event-hub needs --connection-string-env NAME (the variable holding the connection string)"
                )
            connection_string = _env_secret(args.connection_string_env, "--connection-string-env")
            assert connection_string is not None
            settings = KafkaSettings.from_event_hub(connection_string, args.event_hub, group_id=group)
        elif args.bootstrap or args.topic:
            if not (args.bootstrap and args.topic):
                raise _Usage("pass both --bootstrap SERVERS and --topic NAME (or --event-hub NAME)")
            password = _env_secret(args.sasl_password_env, "--sasl-password-env")
            if password is not None and not args.sasl_username:
                raise _Usage("--sasl-password-env needs --sasl-username")
            settings = KafkaSettings(
                args.bootstrap,
                args.topic,
                group_id=group,
                sasl_username=args.sasl_username or None,
                sasl_password=password,
                **({"security_protocol": args.security_protocol} if args.security_protocol else {}),
            )
        else:
            try:
                settings = KafkaSettings.from_env()
            except ValueError as exc:
                raise _Usage(
                    f"pass --bootstrap and --topic (or --event-hub NAME), or set ORDERCLOUD_KAFKA_*: {exc}"
                ) from exc
            if group:
                import attrs

                settings = attrs.evolve(settings, group_id=group)
    except ValueError as exc:  # an empty server list or topic, a connection string without Endpoint=
        raise _Usage(str(exc)) from exc
    if not settings.group_id:
        raise _Usage("pass --group NAME (the consumer group; or ORDERCLOUD_KAFKA_GROUP_ID)")
    return settings


def _import_handler(spec: str) -> Callable[..., Any]:
    """``module:function`` (attributes may be dotted), imported as uvicorn imports apps: from the working directory."""
    import importlib

    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise _Usage(f"--handler takes module:function, e.g. shop.tracking:handle (got {spec!r})")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise _Usage(f"--handler: cannot import module {module_name!r}: {exc}") from exc
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise _Usage(f"--handler: module {module_name!r} has no attribute {attribute!r}") from None
    if not callable(target):
        raise _Usage(f"--handler: {spec} is not callable")
    return cast("Callable[..., Any]", target)


def _consumed(delivery: Any, links: Any) -> dict[str, Any]:
    """What the consumer read and what Sitecore Send and Discover would receive for it (the demo's mapping)."""
    from .sitecore import to_discover_event, to_send_event

    links.learn(delivery.message)
    mapped: dict[str, Any] = {}
    message = delivery.message
    for target in ("send", "discover"):
        try:
            if target == "send":
                body = to_send_event(
                    message, site_id=_PLACEHOLDER_SITE_ID, contact_id=None, session_id=None, links=links
                )
            else:
                body = to_discover_event(message, links=links)
        except (OrderCloudError, ValueError, TypeError) as exc:  # MappingError, or a message the mapping cannot use
            body = {"error": str(exc)}
        mapped[target] = body
    return {
        "topic": delivery.topic,
        "partition": delivery.partition,
        "offset": delivery.offset,
        "key": delivery.key.decode("utf-8", "replace") if delivery.key is not None else None,
        "event_type": delivery.event_type.value if delivery.event_type is not None else None,
        "delivery_key": delivery.delivery_key,
        "message": delivery.message.to_request(),
        **mapped,
    }


def _consumed_line(record: Mapping[str, Any]) -> str:
    from ._demo import discover_summary, message_summary, send_summary

    def target(body: Any, summary: Callable[[dict[str, Any]], str]) -> str:
        if body is None:
            return "nothing to send"
        if "error" in body:
            return f"— ({body['error']})"
        return summary(body)

    where = f"{record['topic']}[{record['partition']}]@{record['offset']}"
    return (
        f"{where} {record['event_type'] or 'unknown'} {record['delivery_key']}: {message_summary(record['message'])}"
        f" | Send: {target(record['send'], send_summary)} | Discover: {target(record['discover'], discover_summary)}"
    )


@contextlib.contextmanager
def _consume_logging(*, debug: bool) -> Iterator[None]:
    """The SDK's warnings (a record dead-lettered) on stderr while consuming; librdkafka's only with --debug."""
    import logging

    from .streams._core import LIBRDKAFKA_LOGGER

    sdk = logging.getLogger("ordercloud_tracking")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    levels = sdk.level, LIBRDKAFKA_LOGGER.level
    sdk.addHandler(handler)
    sdk.setLevel(logging.DEBUG if debug else logging.WARNING)
    # librdkafka repeats a connection failure many times a second; the one-line error says it once.
    LIBRDKAFKA_LOGGER.setLevel(logging.DEBUG if debug else logging.CRITICAL)
    try:
        yield
    finally:
        sdk.removeHandler(handler)
        sdk.setLevel(levels[0])
        LIBRDKAFKA_LOGGER.setLevel(levels[1])


def cmd_consume(args: argparse.Namespace, out: IO[str]) -> int:
    import threading

    settings = _kafka_settings(args)
    try:
        from .streams import AsyncTrackingConsumer, TrackingConsumer
        from .streams._base import is_async_callable
    except ImportError as exc:  # the kafka extra is missing
        raise _Usage(str(exc)) from exc
    handler: Callable[..., Any]
    if args.handler_spec:
        handler = _import_handler(args.handler_spec)
    else:
        from .stores import MemoryIdentityLinks

        links = MemoryIdentityLinks()

        def handler(delivery: Any) -> None:
            record = _consumed(delivery, links)
            out.write((json.dumps(record, default=str) if args.json else _consumed_line(record)) + "\n")
            out.flush()

    dedupe: Any = "memory"
    if args.dedupe_db:
        from .stores import SQLiteDedupeStore

        try:
            dedupe = SQLiteDedupeStore(args.dedupe_db)
        except Exception as exc:  # sqlite3.Error, OSError: a path that cannot hold a database
            raise _Usage(f"--dedupe-db: cannot open {args.dedupe_db}: {exc}") from exc
    options: dict[str, Any] = {"dedupe": dedupe, "connect_timeout": _timeout(args), "stats_interval": None}
    if args.dlq:
        options["dead_letter_topic"] = args.dlq
    consumer: TrackingConsumer | AsyncTrackingConsumer
    try:
        if is_async_callable(handler):
            consumer = AsyncTrackingConsumer(settings, **options)
        else:
            consumer = TrackingConsumer(settings, **options)
    except ImportError as exc:
        raise _Usage(str(exc)) from exc
    _progress(
        f"Consuming {settings.topic} as group {settings.group_id} from {settings.bootstrap_servers} (Ctrl+C stops) …"
    )
    done = threading.Event()

    def report_stats() -> None:
        while not done.wait(STATS_EVERY):
            print(f"stats: {consumer.stats.describe()}", file=sys.stderr, flush=True)

    reporter = threading.Thread(target=report_stats, name="ordercloud-consume-stats", daemon=True)
    if sys.stderr.isatty():
        reporter.start()
    try:
        with _consume_logging(debug=args.debug):
            if isinstance(consumer, AsyncTrackingConsumer):
                import asyncio

                asyncio.run(consumer.run(handler))
            else:
                consumer.run(handler)
    finally:
        done.set()
        close = getattr(dedupe, "close", None)
        if callable(close):
            close()
    _progress(f"Stopped: {consumer.stats.describe()}")
    return EXIT_OK


# ------------------------------------------------------------------------------------------- parser


class _Parser(argparse.ArgumentParser):
    """argparse with "did you mean" for a mistyped command, and the global options after any command too."""

    def error(self, message: str) -> NoReturn:
        match = re.search(r"invalid choice: '([^']*)'", message)
        if match:
            choices = [c for a in self._actions if isinstance(a, argparse._SubParsersAction) for c in a.choices]
            close = difflib.get_close_matches(match.group(1), choices, n=1, cutoff=0.6)
            if close:
                message = f"{message.split(' (choose from')[0]} — did you mean '{close[0]}'?"
        super().error(message)


def _add_global_flags(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """``--debug`` and ``--timeout``, before or after the command (a command's copy never resets the other)."""
    unset: Any = {} if defaults else {"default": argparse.SUPPRESS}
    parser.add_argument("--debug", action="store_true", help="show tracebacks", **unset)
    parser.add_argument(
        "--timeout",
        type=_positive_seconds,
        metavar="SECONDS",
        help=f"how long to wait for OrderCloud to answer (default {DEFAULT_TIMEOUT:g}); no retry after it",
        **({"default": DEFAULT_TIMEOUT} if defaults else unset),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ordercloud-tracking",
        description="Provision, diagnose and try out Sitecore OrderCloud tracking events.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_flags(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    setup = sub.add_parser("setup", help="create or update the delivery config and tracking events (idempotent)")
    _add_connection_flags(setup)
    setup.add_argument("--api-client", help="the API client whose events are tracked (or client_id in --file)")
    setup.add_argument(
        "--file", help='TOML or JSON file: client_id, delivery_config, events, prune; secrets as {"env": "NAME"}'
    )
    setup.add_argument("--config-id", help="delivery config ID (default dc-<api client>)")
    setup.add_argument("--config-name", help="delivery config name")
    setup.add_argument("--http-endpoint", help="Http target URL")
    setup.add_argument("--http-secret-env", metavar="NAME", help="variable holding the Http secret (x-oc-hash key)")
    setup.add_argument("--http-secret", help=argparse.SUPPRESS)
    setup.add_argument("--send-site-id", help="Sitecore Send website ID")
    setup.add_argument("--send-endpoint", default="https://t.stat-track.com", help="Send collector endpoint")
    setup.add_argument("--discover-client-id", help="Sitecore Discover customer key")
    setup.add_argument("--discover-api-key-env", metavar="NAME", help="variable holding the Discover API key")
    setup.add_argument("--discover-endpoint", default=None, help="Discover events endpoint")
    setup.add_argument("--events", help="comma-separated event types (default: all four)")
    setup.add_argument("--prune", action="store_true", help="delete the client's tracking events of other types")
    setup.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    setup.add_argument("--json", action="store_true", help="print the plan as JSON")
    setup.set_defaults(handler=cmd_setup)

    doc = sub.add_parser("doctor", help="check why events would not arrive (exit 1 when problems are found)")
    _add_connection_flags(doc)
    doc.add_argument("--api-client", metavar="ID", help="the API client whose tracking is checked (required)")
    doc.add_argument("--json", action="store_true")
    doc.add_argument(
        "--check-kafka",
        action="store_true",
        help="also try to connect to the Kafka targets' bootstrap servers from this machine (a few seconds at most)",
    )
    doc.set_defaults(handler=cmd_doctor)

    events_list = _add_list_command(sub, "events", ("tracking events", "list tracking events"), cmd_events_list)
    events_list.add_argument("--api-client", help="only this API client's events")
    configs_helps = ("delivery configurations", "list delivery configs (secrets are never returned)")
    configs_list = _add_list_command(sub, "configs", configs_helps, cmd_configs_list)

    verify = sub.add_parser("verify", help="check a captured delivery body against its x-oc-hash")
    verify.add_argument("file", help="the raw body, exactly as received (- reads it from stdin)")
    verify.add_argument("--secret-env", metavar="NAME", required=True, help="variable holding the Http secret")
    verify.add_argument("--signature", help="the x-oc-hash header value")
    verify.add_argument("--signature-file", help="a file holding the x-oc-hash header value")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=cmd_verify)

    consume = sub.add_parser(
        "consume", help="consume tracking deliveries from Kafka or an Event Hub in a consumer group (Ctrl+C stops)"
    )
    kafka = consume.add_argument_group("where (flags override ORDERCLOUD_KAFKA_* environment variables)")
    kafka.add_argument("--bootstrap", metavar="SERVERS", help="bootstrap servers, host:port[,host:port]")
    kafka.add_argument("--topic", help="the topic the Kafka target writes to")
    kafka.add_argument("--group", metavar="NAME", help="the consumer group (ORDERCLOUD_KAFKA_GROUP_ID)")
    kafka.add_argument("--sasl-username", metavar="USER", help="SASL user (SASL_SSL, mechanism PLAIN)")
    kafka.add_argument("--sasl-password-env", metavar="NAME", help="variable holding the SASL password")
    kafka.add_argument("--security-protocol", help="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
    kafka.add_argument("--event-hub", metavar="NAME", help="an Azure Event Hub (through its Kafka endpoint)")
    kafka.add_argument(
        "--connection-string-env", metavar="NAME", help="variable holding the Event Hubs connection string"
    )
    consume.add_argument(
        "--handler", dest="handler_spec", metavar="MODULE:FUNCTION", help="call this for each delivery (async or plain)"
    )
    consume.add_argument("--json", action="store_true", help="one JSON object per event instead of one line")
    consume.add_argument("--dedupe-db", metavar="PATH", help="SQLite file that remembers handled events across runs")
    consume.add_argument("--dlq", metavar="TOPIC", help="dead-letter topic (default <topic>.dlq)")
    consume.set_defaults(handler=cmd_consume)

    serve = sub.add_parser("serve", help="run FakeOrderCloud as an HTTP server (for tools in any language)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8085)
    serve.set_defaults(handler=cmd_serve)

    demo = sub.add_parser("demo", help="run a complete tracking journey on the embedded fake")
    demo.add_argument("--json", action="store_true", help="print the request and delivery journal as JSON")
    demo.set_defaults(handler=cmd_demo)
    for command in (setup, doc, events_list, configs_list, verify, consume, serve, demo):
        _add_global_flags(command, defaults=False)
    return parser


def main(argv: Sequence[str] | None = None, *, out: IO[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    _tolerate_any_encoding(sys.stdout, sys.stderr)
    stdout = out or sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage error
        return int(exc.code or 0)
    handler: Callable[[argparse.Namespace, IO[str]], int] = args.handler
    try:
        return handler(args, stdout)
    except _Usage as exc:
        return _fail(args, exc, str(exc), EXIT_USAGE)
    except APIConnectionError as exc:
        return _fail(args, exc, f"cannot reach OrderCloud: {exc}", EXIT_USAGE)
    except (TokenError, APIError) as exc:
        hint = _hint(exc)
        return _fail(args, exc, f"{exc}" + (f" — {hint}" if hint else ""), EXIT_USAGE)
    except OrderCloudError as exc:
        return _fail(args, exc, str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `ordercloud-tracking demo | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def _fail(args: argparse.Namespace, exc: BaseException, message: str, code: int) -> int:
    if getattr(args, "debug", False):
        traceback.print_exception(exc)
    print(f"error: {message}", file=sys.stderr)
    return code


def run() -> NoReturn:
    """``python -m ordercloud_tracking``."""
    raise SystemExit(main())
