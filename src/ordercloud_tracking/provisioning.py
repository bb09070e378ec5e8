"""Set tracking up idempotently (:func:`ensure_tracking`) and find out why events do not arrive (:func:`doctor`).

Both take either client. With :class:`~ordercloud_tracking.OrderCloud` they return the result; with
:class:`~ordercloud_tracking.AsyncOrderCloud` they return a coroutine::

    plan = ensure_tracking(client, client_id="storefront", delivery_config=config)
    plan = await ensure_tracking(async_client, client_id="storefront", delivery_config=config)

The logic is written once, as a generator that yields the API calls it needs (typed bound methods of
either client, see ``_flow``); a short sync or async driver performs them. Nothing here keeps state
between runs.

**Secrets cannot be read back** (OrderCloud never returns ``Http.Secret``, ``DiscoverEvent.ApiKey`` …),
so to tell "unchanged" from "changed secret" :func:`ensure_tracking` keeps a salted, slow hash
(PBKDF2-SHA256, 100 000 rounds, salted with the config ID) of the config's secrets in each managed
tracking event's ``ConfigData`` under ``"OrderCloudTrackingSDK"``. The plan reports a changed secret as
an update of that field and never shows any secret value.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import attrs
from typing_extensions import TypedDict, Unpack

from ._auth import decode_token
from ._errors import APIError, NotFoundError, PermissionDeniedError
from ._flow import Call, Flow, call, drive
from ._requests import check_keywords
from .models._base import OCModel
from .models.delivery import DeliveryConfig
from .models.tracking import TrackingEvent, TrackingEventType

if TYPE_CHECKING:
    from ._client import AsyncOrderCloud, OrderCloud
    from .resources._base import AsyncCrudResource, CrudResource

__all__ = [
    "ALL_EVENTS",
    "Action",
    "Check",
    "FieldChange",
    "Plan",
    "Report",
    "TrackingSetup",
    "doctor",
    "ensure_tracking",
    "managed_event_id",
    "probe_kafka",
]

ALL_EVENTS: tuple[TrackingEventType, ...] = (
    TrackingEventType.USER_LOGGED_IN,
    TrackingEventType.LINE_ITEM_ADDED,
    TrackingEventType.LINE_ITEM_UPDATED,
    TrackingEventType.ORDER_SUBMITTED,
)
MARKER = "OrderCloudTrackingSDK"
_SECRET_FIELDS = frozenset({"Secret", "ApiKey", "SaslPassword", "ConnectionString", "CustomAuthHeaderValue"})
_ROUNDS = 100_000


# ------------------------------------------------------------------------------------------- reads

M = TypeVar("M", bound=OCModel)


def _list_all(resource: CrudResource[M, Any] | AsyncCrudResource[M, Any], filters: Mapping[str, str]) -> Flow[list[M]]:
    items: list[M] = []
    page = 1
    while True:
        result = yield from call(resource.list, filters=filters, page=page, page_size=100)
        items.extend(result.items)
        if not result.has_next_page:
            return items
        page += 1


# ---------------------------------------------------------------------------------------------- plans


@attrs.frozen
class FieldChange:
    """One field that differs: its dotted ``path``, the value ``before`` and the one asked for (``after``).

    Secret fields never carry values: ``secret`` is true and ``str()`` only says that it changed.
    """

    path: str
    before: Any
    after: Any
    secret: bool = False

    def __str__(self) -> str:
        if self.secret:
            return f"{self.path}: (secret changed)"
        return f"{self.path}: {self.before!r} -> {self.after!r}"


@attrs.frozen
class Action:
    """What :func:`ensure_tracking` does (or would do) to one object."""

    kind: Literal["create", "update", "unchanged", "delete"]
    resource: Literal["DeliveryConfig", "TrackingEvent"]
    id: str
    changes: tuple[FieldChange, ...] = ()
    note: str | None = None

    def __str__(self) -> str:
        text = f"{self.kind:<9} {self.resource} {self.id}"
        if self.note:
            text += f" ({self.note})"
        return "\n".join([text, *(f"            {change}" for change in self.changes)])


@attrs.frozen
class Plan:
    """The actions of one :func:`ensure_tracking` run (``applied`` is false for a dry run)."""

    actions: tuple[Action, ...]
    dry_run: bool
    applied: bool

    @property
    def changed(self) -> bool:
        """Whether anything was (or would be) written."""
        return any(action.kind != "unchanged" for action in self.actions)

    def count(self, kind: str) -> int:
        """How many actions are of ``kind`` (``create``, ``update``, ``unchanged`` or ``delete``)."""
        return sum(1 for action in self.actions if action.kind == kind)

    def summary(self) -> str:
        """One line counting the actions by kind (the last line of ``str(plan)``)."""
        counts = ", ".join(f"{self.count(k)} {k}" for k in ("create", "update", "delete", "unchanged") if self.count(k))
        prefix = "Dry run: would apply" if self.dry_run else "Applied"
        return f"{prefix}: {counts or 'nothing'}"

    def __str__(self) -> str:
        return "\n".join([*(str(action) for action in self.actions), self.summary()])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (for ``--json``); never includes secret values."""
        return {
            "dry_run": self.dry_run,
            "applied": self.applied,
            "changed": self.changed,
            "actions": [
                {
                    "kind": a.kind,
                    "resource": a.resource,
                    "id": a.id,
                    "note": a.note,
                    "changes": [
                        {
                            "path": c.path,
                            "secret": c.secret,
                            **({} if c.secret else {"before": c.before, "after": c.after}),
                        }
                        for c in a.changes
                    ],
                }
                for a in self.actions
            ],
        }


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", value)


def managed_event_id(client_id: str, event_type: TrackingEventType | str) -> str:
    """The deterministic ID :func:`ensure_tracking` gives a new tracking event."""
    kind = TrackingEventType(event_type).value
    return f"te-{_slug(client_id)}-{kind}"[:100]


def _secret_values(targets: Mapping[str, Any], prefix: str = "DeliveryTargets") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for key, value in sorted(targets.items()):
        path = f"{prefix}.{key}"
        if isinstance(value, Mapping):
            found.extend(_secret_values(value, path))
        elif key in _SECRET_FIELDS and isinstance(value, str) and value:
            found.append((path, value))
    return found


def _fingerprint(config_id: str, secrets: Sequence[tuple[str, str]]) -> str | None:
    if not secrets:
        return None
    material = "\x00".join(f"{path}={value}" for path, value in secrets).encode()
    digest = hashlib.pbkdf2_hmac("sha256", material, f"ordercloud-tracking:{config_id}".encode(), _ROUNDS)
    return "pbkdf2-sha256$" + base64.b64encode(digest).decode()


def _strip_secrets(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _strip_secrets(v) for k, v in value.items() if k not in _SECRET_FIELDS}
    return value


def _diff(before: Any, after: Any, path: str = "") -> list[FieldChange]:
    """Fields of ``after`` that differ in ``before`` (keys absent from ``after`` are not compared)."""
    if isinstance(after, Mapping) and isinstance(before, Mapping):
        changes: list[FieldChange] = []
        for key, value in after.items():
            sub = f"{path}.{key}" if path else str(key)
            changes.extend(_diff(before.get(key), value, sub))
        return changes
    if isinstance(after, Mapping) and before is None:
        return _diff({}, after, path) if after else []
    if before != after:
        return [FieldChange(path, before, after)]
    return []


def _hide_marker(value: Any) -> Any:
    if isinstance(value, Mapping) and MARKER in value:
        return {**value, MARKER: "(secret fingerprint)"}
    return value


def _invalidate_fingerprint(
    client: OrderCloud | AsyncOrderCloud, events: Sequence[TrackingEvent], types: set[str], config_id: str
) -> list[Call[object]]:
    """Before the config's secrets change, clear the fingerprint of one managed event.

    Otherwise a run interrupted between the config write and the event writes leaves every event with
    the old fingerprint, and a later run asking for the old secret would wrongly see it as unchanged.
    """
    for event in events:
        if event.id and str(event.event_type) in types and event.delivery_config_id == config_id:
            body = event.to_request(exclude_unset=False)
            data = body.get("ConfigData")
            body["ConfigData"] = {
                **(data if isinstance(data, Mapping) else {}),
                MARKER: {"DeliveryConfigFingerprint": None},
            }
            return [call(client.tracking_events.save, event.id, body)]
    return []


def _sdk_data(event: TrackingEvent) -> dict[str, Any]:
    data = event.config_data
    if isinstance(data, Mapping) and isinstance(data.get(MARKER), Mapping):
        return dict(data[MARKER])
    return {}


def _ensure_logic(
    client: OrderCloud | AsyncOrderCloud,
    client_id: str,
    desired_config: DeliveryConfig,
    events: Sequence[TrackingEventType],
    prune: bool,
    dry_run: bool,
    event_name: str,
    config_data: Mapping[str, Any] | None,
    fingerprint_secrets: bool,
) -> Flow[Plan]:
    config_id = desired_config.id or f"dc-{_slug(client_id)}"
    desired_body = desired_config.to_request()
    desired_body["ID"] = config_id
    secrets = _secret_values(desired_body.get("DeliveryTargets") or {})
    fingerprint = _fingerprint(config_id, secrets) if fingerprint_secrets else None

    # An unknown API client would leave a config behind and then fail on the first event. A caller that
    # may not read API clients skips this check (OrderCloud still checks ClientID on the event write).
    with contextlib.suppress(PermissionDeniedError):
        yield from call(client.api_clients.get, client_id)

    try:
        existing_config: DeliveryConfig | None = yield from call(client.delivery_configs.get, config_id)
    except NotFoundError:
        existing_config = None
    existing_events = yield from _list_all(client.tracking_events, {"ClientID": client_id})

    actions: list[Action] = []
    writes: list[Call[object]] = []
    invalidate = False

    # --- the delivery config
    # The fingerprints on the events this run manages (those already pointing at this config). The
    # config is written first, so after an interrupted run they can disagree, and then the config's
    # secret is unknown: only when all of them match is it known to be the one asked for.
    managed_types = {TrackingEventType(e).value for e in events}
    previous_fingerprints = {
        _sdk_data(e).get("DeliveryConfigFingerprint")
        for e in existing_events
        if str(e.event_type) in managed_types and e.delivery_config_id == config_id
    }
    if existing_config is None:
        actions.append(Action("create", "DeliveryConfig", config_id))
        writes.append(call(client.delivery_configs.save, config_id, desired_body))
    else:
        current = _strip_secrets(existing_config.to_request(exclude_unset=False))
        wanted = _strip_secrets(desired_body)
        wanted_targets = wanted.setdefault("DeliveryTargets", {})
        for key, value in (current.get("DeliveryTargets") or {}).items():
            if value is not None and key not in wanted_targets:
                wanted_targets[key] = None  # a target the config has but was not asked for: PUT removes it
        changes = _diff(current, wanted)
        note = None
        if secrets and fingerprint is None:
            note = "secrets cannot be compared (fingerprint_secrets=False), so they are written again"
        elif secrets and previous_fingerprints != {fingerprint}:
            if fingerprint in previous_fingerprints:
                note = "an earlier run did not finish, so secrets are written again"
            elif previous_fingerprints - {None}:
                changes += [FieldChange(path, "(secret)", "(secret)", secret=True) for path, _ in secrets]
            else:
                note = "secrets cannot be read back, so they are written again"
        if changes or note:
            actions.append(Action("update", "DeliveryConfig", config_id, tuple(changes), note))
            invalidate = fingerprint is not None and previous_fingerprints != {fingerprint}
            writes.append(call(client.delivery_configs.save, config_id, desired_body))
        else:
            actions.append(Action("unchanged", "DeliveryConfig", config_id))

    # --- one tracking event per requested type
    by_type = {str(e.event_type): e for e in existing_events}
    for event_type in events:
        kind = TrackingEventType(event_type)
        current_event = by_type.get(kind.value)
        event_id = (
            current_event.id if current_event is not None and current_event.id else managed_event_id(client_id, kind)
        )
        kept = current_event.config_data if current_event is not None else None
        data: dict[str, Any] = {**(kept if isinstance(kept, Mapping) else {}), **(config_data or {})}
        data.pop(MARKER, None)
        if fingerprint is not None:
            data[MARKER] = {"DeliveryConfigFingerprint": fingerprint}
        body = {
            "ID": event_id,
            "EventType": kind.value,
            "ClientID": client_id,
            # an event that already exists keeps its name; only new events are named here
            "Name": current_event.name if current_event is not None else f"{event_name} {kind.value}",
            "DeliveryConfigID": config_id,
            "ConfigData": data,
        }
        if current_event is None:
            actions.append(Action("create", "TrackingEvent", event_id))
            writes.append(call(client.tracking_events.save, event_id, body))
            continue
        current = current_event.to_request(exclude_unset=False)
        current_data = current.get("ConfigData")
        removed = [
            FieldChange(f"ConfigData.{key}", "(secret)" if key == MARKER else value, None, secret=key == MARKER)
            for key, value in (current_data.items() if isinstance(current_data, Mapping) else ())
            if key not in data
        ]
        changes = removed + [
            c
            if not c.path.startswith(f"ConfigData.{MARKER}")
            else FieldChange(c.path, "(secret)", "(secret)", secret=True)
            for c in _diff(current, body)
        ]
        # ConfigData that was not an object is replaced whole: never show the fingerprint in that diff
        changes = [
            attrs.evolve(c, before=_hide_marker(c.before), after=_hide_marker(c.after)) if c.path == "ConfigData" else c
            for c in changes
        ]
        if changes:
            actions.append(Action("update", "TrackingEvent", event_id, tuple(changes)))
            writes.append(call(client.tracking_events.save, event_id, body))
        else:
            actions.append(Action("unchanged", "TrackingEvent", event_id))

    if invalidate:  # clear one fingerprint before the config write; that event's own update restores it
        updated = {a.id for a in actions if a.kind == "update" and a.resource == "TrackingEvent"}
        stale = [e for e in existing_events if e.id in updated]
        writes[:0] = _invalidate_fingerprint(client, stale, managed_types, config_id)

    # --- events of other types
    wanted = {TrackingEventType(e).value for e in events}
    for other in existing_events:
        if str(other.event_type) in wanted or not other.id:
            continue
        if prune:
            actions.append(Action("delete", "TrackingEvent", other.id))
            writes.append(call(client.tracking_events.delete, other.id))
        else:
            actions.append(
                Action(
                    "unchanged",
                    "TrackingEvent",
                    other.id,
                    note=f"{other.event_type}: not managed here, kept (prune=True deletes it)",
                )
            )

    if not dry_run:
        for write in writes:
            yield from write
    return Plan(tuple(actions), dry_run=dry_run, applied=not dry_run)


class _RequiredSetup(TypedDict):
    # Required keys by totality: ``Required[...]`` is not seen at run time under ``from __future__ import annotations``.
    client_id: str
    """The API client whose events are published (an unknown one raises ``NotFoundError`` before any write)."""
    delivery_config: DeliveryConfig | Mapping[str, Any]
    """Where the events go; its ``ID`` defaults to ``dc-{client_id}``."""


class TrackingSetup(_RequiredSetup, total=False):
    """The keywords of :func:`ensure_tracking`: what tracking for one API client should look like."""

    events: Iterable[TrackingEventType | str]
    """The event types to publish (default: the four of :data:`ALL_EVENTS`)."""
    prune: bool
    """Delete the client's tracking events of other types (default ``False``: they are kept, listed as kept)."""
    dry_run: bool
    """Read and plan, but write nothing (default ``False``)."""
    event_name: str
    """How new tracking events are named: ``"{event_name} {EventType}"`` (default ``"Tracking:"``)."""
    config_data: Mapping[str, Any] | None
    """Fields merged into each managed tracking event's ``ConfigData``."""
    fingerprint_secrets: bool
    """Keep a salted fingerprint of the config's secrets in ``ConfigData`` (default ``True``; see :func:`ensure_tracking`)."""


@overload
def ensure_tracking(client: OrderCloud, **setup: Unpack[TrackingSetup]) -> Plan: ...


@overload
def ensure_tracking(client: AsyncOrderCloud, **setup: Unpack[TrackingSetup]) -> Coroutine[Any, Any, Plan]: ...


def ensure_tracking(
    client: OrderCloud | AsyncOrderCloud, **setup: Unpack[TrackingSetup]
) -> Plan | Coroutine[Any, Any, Plan]:
    """Make the delivery config and one tracking event per type in ``events`` exist exactly as asked.

    Uses deterministic IDs (the config's ``ID``, else ``dc-{client_id}``; events ``te-{client_id}-{Type}``,
    or the ID of an event of that type the client already has) and PUT ``save``, so a second run changes
    nothing and an interrupted run can simply be run again. Events of other types are left alone (listed
    as kept) unless ``prune=True``. ``dry_run=True`` reads but writes nothing. An existing event keeps
    its ``Name``; ``event_name`` names new ones. An unknown ``client_id`` raises
    :class:`~ordercloud_tracking.NotFoundError` before anything is written.

    ``fingerprint_secrets=False`` keeps no secret fingerprint in the events' ``ConfigData`` (see the
    module docstring: its salt is the public config ID, so a weak secret could be guessed offline by
    whoever can read tracking events); the config's secrets are then written again on every run.

    Offline, against the fake:

    >>> from ordercloud_tracking.testing import FakeOrderCloud
    >>> http = {"Endpoint": "https://shop.example/oc/events", "Secret": "s3cret"}
    >>> config = {"ID": "dc-web", "Name": "Web", "DeliveryTargets": {"Http": http}}
    >>> with FakeOrderCloud().client() as admin:
    ...     plan = ensure_tracking(admin, client_id="storefront", delivery_config=config,
    ...                            events=["OrderSubmitted"], dry_run=True)
    >>> print(plan)
    create    DeliveryConfig dc-web
    create    TrackingEvent te-storefront-OrderSubmitted
    Dry run: would apply: 2 create
    """
    check_keywords(setup, TrackingSetup, "ensure_tracking")
    client_id = setup["client_id"]
    delivery_config = setup["delivery_config"]
    if not client_id:
        raise ValueError("client_id is required")
    config = (
        delivery_config
        if isinstance(delivery_config, DeliveryConfig)
        else DeliveryConfig.model_validate(dict(delivery_config))
    )
    kinds = [TrackingEventType(e) for e in setup.get("events", ALL_EVENTS)]
    unknown = [k.value for k in kinds if not k.is_known]
    if unknown:
        raise ValueError(f"Unknown event type(s) {unknown}; valid: {', '.join(e.value for e in ALL_EVENTS)}")
    logic = _ensure_logic(
        client,
        client_id,
        config,
        list(dict.fromkeys(kinds)),
        setup.get("prune", False),
        setup.get("dry_run", False),
        setup.get("event_name", "Tracking:"),
        setup.get("config_data"),
        setup.get("fingerprint_secrets", True),
    )
    return drive(client, logic)


# --------------------------------------------------------------------------------------------- doctor


@attrs.frozen
class Check:
    """One diagnosis: ``status`` is ``ok``, ``warn``, ``fail`` or ``skip``; ``fix`` says what to do."""

    name: str
    status: Literal["ok", "warn", "fail", "skip"]
    message: str
    fix: str | None = None

    def __str__(self) -> str:
        mark = {"ok": "OK  ", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}[self.status]
        text = f"[{mark}] {self.name}: {self.message}"
        return f"{text}\n       fix: {self.fix}" if self.fix else text


@attrs.frozen
class Report:
    """The result of :func:`doctor`: every :class:`Check` made for ``client_id``, in order."""

    client_id: str
    checks: tuple[Check, ...]

    @property
    def healthy(self) -> bool:
        """No check failed (warnings allowed)."""
        return all(check.status != "fail" for check in self.checks)

    @property
    def problems(self) -> tuple[Check, ...]:
        """The checks that failed or warned, in order."""
        return tuple(check for check in self.checks if check.status in ("fail", "warn"))

    def __str__(self) -> str:
        verdict = "healthy" if self.healthy else f"{sum(c.status == 'fail' for c in self.checks)} problem(s) found"
        return "\n".join([*(str(check) for check in self.checks), f"Tracking for {self.client_id}: {verdict}"])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (for ``doctor --json``): ``client_id``, ``healthy`` and each check's fields."""
        return {
            "client_id": self.client_id,
            "healthy": self.healthy,
            "checks": [attrs.asdict(check) for check in self.checks],
        }


_NEEDED_ROLES = {
    "reading tracking events": ("FullAccess", "TrackingEventAdmin", "TrackingEventReader"),
    "reading delivery configs": ("FullAccess", "DeliveryConfigAdmin"),
    "reading API clients": ("FullAccess", "ApiClientAdmin", "ApiClientReader"),
}


def _role_fix(what: str) -> str:
    return f"Give the caller's API client/user one of these roles for {what}: {', '.join(_NEEDED_ROLES[what])}"


def _doctor_logic(client: OrderCloud | AsyncOrderCloud, client_id: str) -> Flow[Report]:
    checks: list[Check] = []

    # --- the caller's roles, from its own token
    # Connection problems and refused credentials raise (the command's exit code 2): they are about the
    # caller, not findings about tracking.
    token = yield from call(client.get_access_token)
    try:
        roles = set(decode_token(token).role)
    except ValueError:  # not an OrderCloud JWT (a gateway's opaque token?): the checks below still tell
        checks.append(
            Check(
                "caller roles",
                "warn",
                "The access token is not a JWT, so its roles cannot be read",
                "Check that the base URL and auth URL point at OrderCloud",
            )
        )
    else:
        missing = [what for what, needed in _NEEDED_ROLES.items() if not roles & set(needed)]
        if missing:
            checks.append(
                Check("caller roles", "fail", f"The token cannot do: {'; '.join(missing)}", _role_fix(missing[0]))
            )
        else:
            checks.append(Check("caller roles", "ok", f"Token roles: {', '.join(sorted(roles))}"))

    # --- the API client
    api_client = None
    try:
        api_client = yield from call(client.api_clients.get, client_id)
    except NotFoundError:
        checks.append(
            Check(
                "API client",
                "fail",
                f"API client {client_id} does not exist",
                "Use the ID of an existing API client (OrderCloud portal → API clients)",
            )
        )
    except PermissionDeniedError:
        checks.append(Check("API client", "fail", "Missing role to read API clients", _role_fix("reading API clients")))
    if api_client is not None:
        if api_client.active is False:
            checks.append(Check("API client", "fail", f"API client {client_id} is not active", "Set Active to true"))
        else:
            checks.append(Check("API client", "ok", f"{client_id} ({api_client.app_name}) is active"))
        if not api_client.is_anon_buyer:
            checks.append(
                Check(
                    "anonymous shopping",
                    "warn",
                    "IsAnonBuyer is false: shoppers cannot browse anonymously, "
                    "so no beacon ID reaches events before login",
                    "PATCH the API client with IsAnonBuyer=true and a buyer DefaultContextUserName",
                )
            )
        elif not api_client.default_context_user_name:
            checks.append(
                Check(
                    "anonymous shopping",
                    "fail",
                    "IsAnonBuyer is set but there is no DefaultContextUserName",
                    "Set DefaultContextUserName to a buyer user (the anonymous template user)",
                )
            )
        else:
            checks.append(
                Check(
                    "anonymous shopping",
                    "ok",
                    f"Anonymous shoppers act as a copy of {api_client.default_context_user_name}",
                )
            )

    # --- tracking events and their delivery configs
    try:
        events = yield from _list_all(client.tracking_events, {"ClientID": client_id})
    except PermissionDeniedError:
        checks.append(
            Check(
                "tracking events", "fail", "Missing role to read tracking events", _role_fix("reading tracking events")
            )
        )
        return Report(client_id, tuple(checks))
    present = {str(e.event_type) for e in events}
    absent = [e.value for e in ALL_EVENTS if e.value not in present]
    if not events:
        checks.append(
            Check(
                "tracking events",
                "fail",
                f"API client {client_id} has no tracking events",
                "Run `ordercloud-tracking setup` (ensure_tracking) for this client",
            )
        )
    elif absent:
        checks.append(
            Check(
                "tracking events",
                "warn",
                f"No tracking event for {', '.join(absent)}",
                "Add them with ensure_tracking if you need those events",
            )
        )
    else:
        checks.append(Check("tracking events", "ok", "All four event types are configured"))

    configs: dict[str, DeliveryConfig | None] = {}
    config_denied = False
    for event in events:
        config_id = event.delivery_config_id
        name = f"tracking event {event.id}"
        if not config_id:
            checks.append(Check(name, "fail", "It has no DeliveryConfigID", "Save it with a DeliveryConfigID"))
            continue
        if config_id not in configs and not config_denied:
            try:
                configs[config_id] = yield from call(client.delivery_configs.get, config_id)
            except NotFoundError:
                configs[config_id] = None
            except PermissionDeniedError:
                config_denied = True
        if config_denied:
            continue
        config = configs[config_id]
        if config is None:
            checks.append(
                Check(
                    name,
                    "fail",
                    f"Delivery config {config_id} does not exist",
                    "Create it, or point the event at an existing one",
                )
            )
        elif config.enabled is False:
            checks.append(Check(name, "fail", f"Delivery config {config_id} is disabled", "Set Enabled to true"))
        else:
            checks.append(Check(name, "ok", f"{event.event_type} → {config_id}"))
    if config_denied:
        checks.append(
            Check(
                "delivery configs",
                "fail",
                "Missing role to read delivery configs",
                _role_fix("reading delivery configs"),
            )
        )

    for config_id, config in configs.items():
        if config is None:
            continue
        checks.extend(_target_checks(config_id, config))

    # --- Send/Discover targets only make sense for tracking events
    if not config_denied:
        try:
            all_configs = yield from _list_all(client.delivery_configs, {})
            every_event = yield from _list_all(client.tracking_events, {})
        except APIError:
            all_configs, every_event = [], []
        used = {e.delivery_config_id for e in every_event}
        for config in all_configs:
            known = [k for k in ("SendEvent", "DiscoverEvent") if getattr(config.delivery_targets, _attr(k), None)]
            if known and config.id not in used:
                checks.append(
                    Check(
                        f"delivery config {config.id}",
                        "warn",
                        f"Has {'/'.join(known)} but no tracking event uses it",
                        "Send and Discover targets only work with tracking events; point one at it or remove them",
                    )
                )
    return Report(client_id, tuple(checks))


def _attr(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


_REQUIRED_READABLE = {
    "SendEvent": ("SiteID", "ServiceEndpoint"),
    "DiscoverEvent": ("ClientID", "ServiceEndpoint"),
    "Http": ("Endpoint",),
    "Kafka": ("BootstrapServers", "Topic", "SaslUsername"),
    "EventHub": ("EventHubName",),
}
#: What doctor cannot see: whether OrderCloud's servers reach a Kafka broker or an Event Hub.
_STREAM_NOTE = (
    "the SDK cannot check from OrderCloud's side that it reaches {what}; "
    "`ordercloud-tracking consume` shows what arrives"
)


def _kafka_servers(bootstrap_servers: str) -> list[tuple[str, int]]:
    """The ``(host, port)`` pairs of a ``BootstrapServers`` value (``host:port[,host:port]``, optional scheme)."""
    found: list[tuple[str, int]] = []
    for item in bootstrap_servers.split(","):
        text = item.strip().split("://", 1)[-1]
        host, _, port = text.rpartition(":")
        if host and port.isdigit():
            found.append((host.strip("[]"), int(port)))
    return found


def _not_host_port(name: str, bootstrap_servers: str) -> Check:
    return Check(
        name, "fail", f"BootstrapServers {bootstrap_servers!r} is not host:port", "Save it as host:port[,host:port]"
    )


def _local_host(host: str) -> bool:
    import ipaddress

    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".local"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def _stream_check(name: str, key: str, target: Mapping[str, Any]) -> Check:
    if key == "EventHub":
        return Check(
            name,
            "ok",
            "EventHubName present (ConnectionString cannot be read back); "
            + _STREAM_NOTE.format(what="the Event Hubs namespace"),
        )
    servers = str(target.get("BootstrapServers", ""))
    parsed = _kafka_servers(servers)
    if not parsed:
        return _not_host_port(name, servers)
    local = [f"{host}:{port}" for host, port in parsed if _local_host(host)]
    if local:
        return Check(
            name,
            "warn",
            f"BootstrapServers {', '.join(local)} is a local or private address: OrderCloud cannot reach it",
            "Use the brokers' public (advertised) address",
        )
    return Check(
        name,
        "ok",
        "BootstrapServers, Topic and SaslUsername present (SaslPassword cannot be read back); "
        + _STREAM_NOTE.format(what="the brokers")
        + " (`doctor --check-kafka` tries them from this machine)",
    )


def probe_kafka(name: str, bootstrap_servers: str, *, timeout: float = 3.0) -> Check:
    """Try to open a TCP connection to each bootstrap server from this machine, within ``timeout`` seconds each.

    An answer from here says the brokers are up and the address is right; OrderCloud connects from its
    own network, so it is not a proof that OrderCloud reaches them (a firewall may still let only some
    addresses in). Nothing is sent: no credentials are needed.

    >>> print(probe_kafka("brokers", "not-a-server-list"))
    [FAIL] brokers: BootstrapServers 'not-a-server-list' is not host:port
           fix: Save it as host:port[,host:port]
    """
    import socket

    servers = _kafka_servers(bootstrap_servers)
    if not servers:
        return _not_host_port(name, bootstrap_servers)
    failures: list[str] = []
    for host, port in servers:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return Check(name, "ok", f"{host}:{port} accepted a connection from this machine")
        except OSError as exc:
            failures.append(f"{host}:{port} ({exc.strerror or type(exc).__name__})")
    return Check(
        name,
        "warn",
        f"No bootstrap server answered from this machine within {timeout:g} s: {', '.join(failures)}",
        "Check the address and that the brokers are up (OrderCloud connects from its own network)",
    )


def _target_checks(config_id: str, config: DeliveryConfig) -> list[Check]:
    checks: list[Check] = []
    targets = config.delivery_targets.to_request(exclude_unset=False) if config.delivery_targets else {}
    configured = [key for key, value in targets.items() if isinstance(value, Mapping)]
    if not configured:
        return [
            Check(
                f"delivery config {config_id}",
                "fail",
                "It has no delivery targets",
                "Add an Http, Kafka, EventHub, SendEvent or DiscoverEvent target",
            )
        ]
    for key in configured:
        target = targets[key]
        missing = [field for field in _REQUIRED_READABLE.get(key, ()) if not target.get(field)]
        name = f"delivery config {config_id} → {key}"
        if missing:
            checks.append(
                Check(name, "fail", f"Missing {', '.join(missing)}", f"Save the config with {key}.{missing[0]}")
            )
        elif key == "SendEvent" and not re.fullmatch(r"[0-9a-fA-F-]{36}", str(target.get("SiteID"))):
            checks.append(Check(name, "fail", "SiteID is not a UUID", "Use the Send website ID (a UUID)"))
        elif key == "Http" and not str(target.get("Endpoint", "")).startswith("https://"):
            checks.append(Check(name, "warn", "Endpoint is not HTTPS", "Use an https:// endpoint in production"))
        elif key in ("Kafka", "EventHub"):
            checks.append(_stream_check(name, key, target))
        else:
            checks.append(Check(name, "ok", "Required fields present (secrets cannot be read back)"))
    return checks


@overload
def doctor(client: OrderCloud, *, client_id: str) -> Report: ...


@overload
def doctor(client: AsyncOrderCloud, *, client_id: str) -> Coroutine[Any, Any, Report]: ...


def doctor(client: OrderCloud | AsyncOrderCloud, *, client_id: str) -> Report | Coroutine[Any, Any, Report]:
    """Check everything tracking for ``client_id`` depends on; each check says how to fix it.

    A missing role (HTTP 403) is reported as a failed check, not raised. Connection problems raise
    :class:`~ordercloud_tracking.APIConnectionError`.

    Offline, against the fake:

    >>> from ordercloud_tracking.testing import FakeOrderCloud
    >>> with FakeOrderCloud().client() as admin:
    ...     report = doctor(admin, client_id="storefront")
    >>> report.healthy
    False
    >>> print(report.problems[0])
    [FAIL] tracking events: API client storefront has no tracking events
           fix: Run `ordercloud-tracking setup` (ensure_tracking) for this client
    """
    if not client_id:
        raise ValueError("client_id is required")
    return drive(client, _doctor_logic(client, client_id))
