"""Helpers for the FakeOrderCloud tests: raw requests, provisioning, and an in-process Http endpoint.

Nothing here touches the network or sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import httpx

from ordercloud_tracking import OrderCloud
from ordercloud_tracking.messages import Message, TrackingMessage, parse_message
from ordercloud_tracking.testing import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, STOREFRONT_CLIENT_ID, FakeOrderCloud

SECRET = "example-secret"
HOOK_URL = "https://hooks.example.test/oc"
SEND_SITE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
SEND_ENDPOINT = "https://send.example.test/collect"
DISCOVER_ENDPOINT = "https://discover.example.test/event"
CUSTOM_HEADER = ("X-Api-Key", "k3y-value")
EVENT_TYPES = ("UserLoggedIn", "LineItemAdded", "LineItemUpdated", "OrderSubmitted")
ALL_TARGETS = ("Http", "SendEvent", "DiscoverEvent")


class Endpoint:
    """An in-process ``Http`` delivery target: records each request and answers from a script.

    ``script`` items are statuses or exceptions to raise, used in turn; after the script it answers 200.
    """

    def __init__(self, script: Sequence[int | Exception] = ()) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step: int | Exception = self.script.pop(0) if self.script else 200
        if isinstance(step, Exception):
            raise step
        return httpx.Response(step, json={"status": "ok" if step < 300 else "failed"})

    def bodies(self) -> list[Any]:
        return [json.loads(request.content) for request in self.requests]


def raw(
    fake: FakeOrderCloud,
    method: str,
    path: str,
    *,
    token: str | None = None,
    params: Sequence[tuple[str, str]] | None = None,
    json_body: Any = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One request straight through the fake's transport (no SDK, no retries, no client-side checks)."""
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    query = tuple(params) if params is not None else None
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        return http.request(method, path, params=query, json=json_body, data=data, headers=all_headers)


def token_response(fake: FakeOrderCloud, form: dict[str, str]) -> httpx.Response:
    """``POST /oauth/token`` with a form body."""
    return raw(fake, "POST", "/oauth/token", data=form)


def admin_token(fake: FakeOrderCloud, scope: str = "FullAccess") -> str:
    response = token_response(
        fake,
        {
            "grant_type": "client_credentials",
            "client_id": ADMIN_CLIENT_ID,
            "client_secret": ADMIN_CLIENT_SECRET,
            "scope": scope,
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def anonymous_token(fake: FakeOrderCloud, anon_user_id: str | None = None) -> str:
    form = {"grant_type": "client_credentials", "client_id": STOREFRONT_CLIENT_ID, "scope": "Shopper"}
    if anon_user_id is not None:
        form["anonuserid"] = anon_user_id
    response = token_response(fake, form)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def password_token(fake: FakeOrderCloud, username: str, password: str, *, client_id: str = STOREFRONT_CLIENT_ID) -> str:
    response = token_response(
        fake,
        {
            "grant_type": "password",
            "client_id": client_id,
            "username": username,
            "password": password,
            "scope": "Shopper",
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def error_code(response: httpx.Response) -> str:
    """``Errors[0].ErrorCode`` of an error answer."""
    code: str = response.json()["Errors"][0]["ErrorCode"]
    return code


def delivery_targets(
    targets: Iterable[str] = ALL_TARGETS,
    *,
    endpoint: str = HOOK_URL,
    custom_header: tuple[str, str] | None = CUSTOM_HEADER,
) -> dict[str, Any]:
    """A ``DeliveryTargets`` JSON object with the chosen targets."""
    body: dict[str, Any] = {}
    for target in targets:
        if target == "Http":
            http: dict[str, Any] = {"Endpoint": endpoint, "Secret": SECRET}
            if custom_header is not None:
                http["CustomAuthHeaderName"], http["CustomAuthHeaderValue"] = custom_header
            body["Http"] = http
        elif target == "SendEvent":
            body["SendEvent"] = {"SiteID": SEND_SITE_ID, "ServiceEndpoint": SEND_ENDPOINT}
        elif target == "DiscoverEvent":
            body["DiscoverEvent"] = {
                "ClientID": "discover-customer",
                "ApiKey": "discover-key",
                "ServiceEndpoint": DISCOVER_ENDPOINT,
            }
        else:  # pragma: no cover - a typo in a test
            raise ValueError(target)
    return body


def provision(
    admin: OrderCloud,
    *,
    client_id: str = STOREFRONT_CLIENT_ID,
    event_types: Iterable[str] = EVENT_TYPES,
    config_id: str = "dc-all",
    targets: Iterable[str] = ALL_TARGETS,
    enabled: bool = True,
    endpoint: str = HOOK_URL,
    custom_header: tuple[str, str] | None = CUSTOM_HEADER,
) -> None:
    """A delivery config and one tracking event per type for ``client_id`` (IDs ``te-{client}-{type}``)."""
    admin.delivery_configs.create(
        {
            "ID": config_id,
            "Name": f"Config {config_id}",
            "Enabled": enabled,
            "DeliveryTargets": delivery_targets(targets, endpoint=endpoint, custom_header=custom_header),
        }
    )
    for event_type in event_types:
        admin.tracking_events.create(
            {
                "ID": f"te-{client_id}-{event_type}",
                "EventType": event_type,
                "ClientID": client_id,
                "Name": f"{event_type} of {client_id}",
                "DeliveryConfigID": config_id,
            }
        )


def identity(message: Message | bytes) -> tuple[str | None, str | None]:
    """``(UserContext.AnonymousId, UserContext.ID)`` of a delivered message (or its raw body)."""
    parsed = parse_message(message) if isinstance(message, bytes) else message
    assert isinstance(parsed, TrackingMessage), f"not a tracking message: {parsed!r}"
    assert parsed.user_context is not None
    return parsed.user_context.anonymous_id, parsed.user_context.id
