"""``client.delivery_configs``: the lower-case ``deliveryconfig`` path, the seven operations, write-only
secrets (sent when writing, never logged), unknown targets kept through get → save. Sync and async."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from pytest_httpx import HTTPXMock

from ordercloud_tracking import DeliveryConfig, DeliveryTargets, ListPage
from ordercloud_tracking.models.delivery import (
    DeliveryConfigPatch,
    DiscoverEventConfig,
    HttpConfig,
    SendEventConfig,
)
from tests.client_support import API, Client, collect, resolve

URL = f"{API}/integrations/deliveryconfig"
URL_RE = re.compile(re.escape(URL) + r"(\?.*)?$")
HTTP_SECRET = "http-signing-secret-4f1a"
DISCOVER_KEY = "discover-api-key-9c2e"
HEADER_VALUE = "custom-header-value-77ab"


def dc(config_id: str = "dc1", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ID": config_id,
        "Name": f"Config {config_id}",
        "Enabled": True,
        "DeliveryTargets": {"SendEvent": {"SiteID": "site-1", "ServiceEndpoint": "https://send.example/api"}},
    }
    body.update(fields)
    return body


def page_of(items: list[dict[str, Any]], page: int = 1, page_size: int = 20, total_pages: int = 1) -> dict[str, Any]:
    return {
        "Items": items,
        "Meta": {"Page": page, "PageSize": page_size, "TotalCount": len(items), "TotalPages": total_pages},
    }


def with_secrets() -> DeliveryConfig:
    return DeliveryConfig(
        id="dc1",
        name="Send and receiver",
        enabled=True,
        delivery_targets=DeliveryTargets(
            discover_event=DiscoverEventConfig(
                client_id="ck-1", api_key=SecretStr(DISCOVER_KEY), service_endpoint="https://discover.example"
            ),
            http=HttpConfig(
                endpoint="https://hooks.example.com/oc",
                secret=SecretStr(HTTP_SECRET),
                custom_auth_header_name="X-Auth",
                custom_auth_header_value=SecretStr(HEADER_VALUE),
            ),
        ),
    )


WITH_SECRETS_JSON: dict[str, Any] = {
    "ID": "dc1",
    "Name": "Send and receiver",
    "Enabled": True,
    "DeliveryTargets": {
        "DiscoverEvent": {"ClientID": "ck-1", "ApiKey": DISCOVER_KEY, "ServiceEndpoint": "https://discover.example"},
        "Http": {
            "Endpoint": "https://hooks.example.com/oc",
            "Secret": HTTP_SECRET,
            "CustomAuthHeaderName": "X-Auth",
            "CustomAuthHeaderValue": HEADER_VALUE,
        },
    },
}

# What OrderCloud answers: the write-only values are left out.
AS_READ_JSON: dict[str, Any] = {
    "ID": "dc1",
    "Name": "Send and receiver",
    "Enabled": True,
    "DeliveryTargets": {
        "DiscoverEvent": {"ClientID": "ck-1", "ServiceEndpoint": "https://discover.example"},
        "Http": {"Endpoint": "https://hooks.example.com/oc", "CustomAuthHeaderName": "X-Auth"},
    },
}


def only_request(httpx_mock: HTTPXMock) -> httpx.Request:
    (request,) = httpx_mock.get_requests()
    return request


# -------------------------------------------------------------------------------------------- list


async def test_list_uses_the_lower_case_path(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", url=URL, json=page_of([dc("dc1"), dc("dc2")]))

    page = await resolve(client.delivery_configs.list())

    assert isinstance(page, ListPage)
    assert [config.id for config in page] == ["dc1", "dc2"]
    assert all(isinstance(config, DeliveryConfig) for config in page.items)
    assert only_request(httpx_mock).url.raw_path == b"/v1/integrations/deliveryconfig"


async def test_list_parameters(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", json=page_of([]))

    await resolve(
        client.delivery_configs.list(
            search="Send",
            search_on="Name",
            sort_by=["!Name", "ID"],
            page=3,
            page_size=10,
            filters={"Enabled": True, "DeliveryTargets": {"Http": {"Endpoint": "https://hooks*"}}},
        )
    )

    request = only_request(httpx_mock)
    assert request.url.copy_with(query=None) == httpx.URL(URL)
    assert sorted(request.url.params.multi_items()) == sorted(
        [
            ("search", "Send"),
            ("searchOn", "Name"),
            ("sortBy", "!Name,ID"),
            ("page", "3"),
            ("pageSize", "10"),
            ("Enabled", "true"),
            ("DeliveryTargets.Http.Endpoint", "https://hooks*"),
        ]
    )


@pytest.mark.parametrize("page_size", [0, 101])
async def test_page_size_out_of_range_is_refused_before_any_request(
    client: Client, httpx_mock: HTTPXMock, page_size: int
) -> None:
    with pytest.raises(ValueError, match="page_size"):
        await resolve(client.delivery_configs.list(page_size=page_size))
    assert httpx_mock.get_requests() == []


async def test_none_filter_is_refused_before_any_request(client: Client, httpx_mock: HTTPXMock) -> None:
    with pytest.raises(ValueError, match="Name"):
        await resolve(client.delivery_configs.list(filters={"Name": None}))
    assert httpx_mock.get_requests() == []


async def test_iter_all_walks_pages(client: Client, httpx_mock: HTTPXMock) -> None:
    pages = [
        page_of([dc("dc1"), dc("dc2")], page=1, page_size=2, total_pages=2),
        page_of([dc("dc3")], page=2, page_size=2, total_pages=2),
    ]
    httpx_mock.add_response(method="GET", url=URL_RE, json=pages[0])
    httpx_mock.add_response(method="GET", url=URL_RE, json=pages[1])

    configs = await collect(client.delivery_configs.iter_all(page_size=2, sort_by="Name"))

    assert [config.id for config in configs] == ["dc1", "dc2", "dc3"]
    requests = httpx_mock.get_requests()
    assert [(r.url.params["page"], r.url.params["sortBy"]) for r in requests] == [("1", "Name"), ("2", "Name")]
    assert all(r.url.path == "/v1/integrations/deliveryconfig" for r in requests)


async def test_iter_all_switches_to_last_id_past_page_30(client: Client, httpx_mock: HTTPXMock) -> None:
    seen: list[httpx.Request] = []

    def callback(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        params = request.url.params
        last = params.get_list("ID")
        if not last:
            page = int(params["page"])
            return httpx.Response(200, json=page_of([dc(f"dc{page:02}")], page=page, page_size=1, total_pages=32))
        assert last == [">dc30"] or last == [">dc31"] or last == [">dc32"]
        number = int(last[0][3:]) + 1
        items = [dc(f"dc{number:02}")] if number <= 32 else []
        return httpx.Response(200, json=page_of(items, page=1, page_size=1, total_pages=1))

    httpx_mock.add_callback(callback, method="GET", url=URL_RE, is_reusable=True)

    configs = await collect(client.delivery_configs.iter_all(page_size=1))

    assert [config.id for config in configs] == [f"dc{n:02}" for n in range(1, 33)]
    assert [r.url.params["page"] for r in seen] == [str(n) for n in range(1, 31)] + ["1", "1", "1"]
    assert [r.url.params.get_list("ID") for r in seen[30:]] == [[">dc30"], [">dc31"], [">dc32"]]


# ----------------------------------------------------------------------------------- CRUD requests


async def test_get(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", url=f"{URL}/dc1", json=AS_READ_JSON)

    config = await resolve(client.delivery_configs.get("dc1"))

    assert config.id == "dc1"
    http = config.delivery_targets.http
    assert http is not None
    assert http.endpoint == "https://hooks.example.com/oc"
    assert http.secret is None  # write-only: absent on read


async def test_create_sends_the_write_only_secrets_in_clear(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="POST", url=URL, match_json=WITH_SECRETS_JSON, status_code=201, json=AS_READ_JSON)

    created = await resolve(client.delivery_configs.create(with_secrets()))

    assert created.id == "dc1"
    assert only_request(httpx_mock).headers["Content-Type"] == "application/json"


async def test_save_sends_the_write_only_secrets_in_clear(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="PUT", url=f"{URL}/dc1", match_json=WITH_SECRETS_JSON, json=AS_READ_JSON)

    saved = await resolve(client.delivery_configs.save("dc1", with_secrets()))

    assert saved.name == "Send and receiver"


async def test_secrets_are_never_logged(
    client: Client, httpx_mock: HTTPXMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    httpx_mock.add_response(method="POST", url=URL, status_code=201, json=AS_READ_JSON)
    httpx_mock.add_response(method="PUT", url=f"{URL}/dc1", json=AS_READ_JSON)
    httpx_mock.add_response(method="PATCH", url=f"{URL}/dc1", json=AS_READ_JSON)

    config = with_secrets()
    await resolve(client.delivery_configs.create(config))
    await resolve(client.delivery_configs.save("dc1", config))
    await resolve(client.delivery_configs.patch("dc1", {"DeliveryTargets": {"Http": {"Secret": HTTP_SECRET}}}))

    assert "/v1/integrations/deliveryconfig" in caplog.text
    for secret in (HTTP_SECRET, DISCOVER_KEY, HEADER_VALUE):
        assert secret not in caplog.text
        assert secret not in repr(config)
        assert secret in b"".join(r.content for r in httpx_mock.get_requests()).decode()


async def test_required_fields_are_enforced_before_sending(client: Client, httpx_mock: HTTPXMock) -> None:
    with pytest.raises(ValidationError, match="DeliveryTargets"):
        await resolve(client.delivery_configs.create({"Name": "no targets"}))
    with pytest.raises(ValidationError, match="Secret"):
        # Http.Secret is required (it may be None explicitly) when the caller builds the config.
        await resolve(
            client.delivery_configs.save(
                "dc1", {"Name": "n", "DeliveryTargets": {"Http": {"Endpoint": "https://hooks.example.com"}}}
            )
        )
    assert httpx_mock.get_requests() == []


async def test_patch_sends_only_the_given_fields(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="PATCH", url=f"{URL}/dc1", match_json={"Enabled": False}, json=dc(Enabled=False))

    patched = await resolve(client.delivery_configs.patch("dc1", DeliveryConfigPatch(enabled=False)))

    assert patched.enabled is False


async def test_patch_sends_explicit_none_as_null(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="PATCH", url=f"{URL}/dc1", json=dc())

    await resolve(client.delivery_configs.patch("dc1", DeliveryConfigPatch(enabled=None, name="Renamed")))

    assert json.loads(only_request(httpx_mock).content) == {"Enabled": None, "Name": "Renamed"}


async def test_patch_with_a_partial_target_dict_sends_it_as_written(client: Client, httpx_mock: HTTPXMock) -> None:
    sent = {"DeliveryTargets": {"Http": {"Secret": HTTP_SECRET}}}
    httpx_mock.add_response(method="PATCH", url=f"{URL}/dc1", match_json=sent, json=AS_READ_JSON)

    await resolve(client.delivery_configs.patch("dc1", sent))


async def test_delete(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="DELETE", url=f"{URL}/dc1", status_code=204)

    await resolve(client.delivery_configs.delete("dc1"))

    assert only_request(httpx_mock).method == "DELETE"


async def test_unknown_targets_and_fields_survive_get_then_save(client: Client, httpx_mock: HTTPXMock) -> None:
    from_server = {
        "ID": "dc1",
        "Name": "Everything",
        "Enabled": True,
        "FutureFlag": "on",
        "DeliveryTargets": {
            "Http": {"Endpoint": "https://hooks.example.com/oc"},
            "Mandrill": {},
            "Mailchimp": {},
            "FutureTarget": {"Url": "https://future.example", "Mode": 2},
        },
    }
    httpx_mock.add_response(method="GET", url=f"{URL}/dc1", json=from_server)
    # Written back exactly: unknown target and field kept, no null invented for the absent secrets.
    httpx_mock.add_response(method="PUT", url=f"{URL}/dc1", match_json=from_server, json=from_server)

    config = await resolve(client.delivery_configs.get("dc1"))
    assert "FutureTarget" in config.delivery_targets.configured()
    await resolve(client.delivery_configs.save("dc1", config))


async def test_a_read_config_can_be_changed_and_saved(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", url=f"{URL}/dc1", json=dc())
    expected = dc()
    expected["DeliveryTargets"]["Http"] = {"Endpoint": "https://hooks.example.com/oc", "Secret": HTTP_SECRET}
    httpx_mock.add_response(method="PUT", url=f"{URL}/dc1", match_json=expected, json=dc())

    config = await resolve(client.delivery_configs.get("dc1"))
    config.delivery_targets.http = HttpConfig(endpoint="https://hooks.example.com/oc", secret=SecretStr(HTTP_SECRET))
    await resolve(client.delivery_configs.save("dc1", config))


# --------------------------------------------------------------------------------------- path IDs


@pytest.mark.parametrize(("config_id", "raw"), [("dc 1", "dc%201"), ("dc?x", "dc%3Fx"), ("dc%", "dc%25")])
async def test_path_ids_are_percent_encoded(client: Client, httpx_mock: HTTPXMock, config_id: str, raw: str) -> None:
    httpx_mock.add_response(method="GET", json=dc(config_id))
    httpx_mock.add_response(method="PATCH", json=dc(config_id))

    await resolve(client.delivery_configs.get(config_id))
    await resolve(client.delivery_configs.patch(config_id, {"Enabled": True}))

    assert [r.url.raw_path for r in httpx_mock.get_requests()] == [
        f"/v1/integrations/deliveryconfig/{raw}".encode()
    ] * 2


@pytest.mark.parametrize("config_id", ["", "a/b", "..", "."])
async def test_bad_ids_are_refused_before_any_request(client: Client, httpx_mock: HTTPXMock, config_id: str) -> None:
    configs = client.delivery_configs
    with pytest.raises(ValueError, match="delivery_config_id"):
        await resolve(configs.get(config_id))
    with pytest.raises(ValueError, match="delivery_config_id"):
        await resolve(configs.save(config_id, dc()))
    with pytest.raises(ValueError, match="delivery_config_id"):
        await resolve(configs.patch(config_id, {"Enabled": False}))
    with pytest.raises(ValueError, match="delivery_config_id"):
        await resolve(configs.delete(config_id))
    assert httpx_mock.get_requests() == []


async def test_send_event_config_read_without_service_endpoint(client: Client, httpx_mock: HTTPXMock) -> None:
    body = dc(DeliveryTargets={"SendEvent": {"SiteID": "site-1"}})
    httpx_mock.add_response(method="GET", url=f"{URL}/dc1", json=body)

    config = await resolve(client.delivery_configs.get("dc1"))

    assert config.delivery_targets.send_event == SendEventConfig.from_api({"SiteID": "site-1"})
