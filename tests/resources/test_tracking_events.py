"""``client.tracking_events``: exact requests of the seven operations, list parameters, iter_all, path IDs.

Each test runs with the sync and the async client (the ``client`` fixture); pytest-httpx fails a test on
any request it was not told to expect.
"""

from __future__ import annotations

import enum
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from pytest_httpx import HTTPXMock

from ordercloud_tracking import (
    DeliveryConfig,
    ListPage,
    PaginationError,
    TrackingEvent,
    TrackingEventType,
)
from ordercloud_tracking.models.tracking import TrackingEventPatch
from tests.client_support import API, Client, collect, resolve

URL = f"{API}/integrations/trackingEvents"
URL_RE = re.compile(re.escape(URL) + r"(\?.*)?$")


def te(event_id: str = "te1", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ID": event_id,
        "EventType": "OrderSubmitted",
        "ClientID": "client-1",
        "Name": f"Event {event_id}",
        "ConfigData": {},
        "DeliveryConfigID": "dc1",
    }
    body.update(fields)
    return body


def page_of(items: list[dict[str, Any]], page: int = 1, page_size: int = 20, total_pages: int = 1) -> dict[str, Any]:
    return {
        "Items": items,
        "Meta": {
            "Page": page,
            "PageSize": page_size,
            "TotalCount": len(items),
            "TotalPages": total_pages,
            "ItemRange": [1, len(items)],
        },
    }


async def collect_into(
    iterator: Iterator[TrackingEvent] | AsyncIterator[TrackingEvent], seen: list[str | None]
) -> None:
    """Walk a sync or async iterator, recording each ID as it arrives (the walk may raise midway)."""
    if isinstance(iterator, AsyncIterator):
        async for item in iterator:
            seen.append(item.id)
    else:
        for item in iterator:
            seen.append(item.id)


def only_request(httpx_mock: HTTPXMock) -> httpx.Request:
    (request,) = httpx_mock.get_requests()
    return request


def query(request: httpx.Request) -> list[tuple[str, str]]:
    return sorted(request.url.params.multi_items())


# -------------------------------------------------------------------------------------------- list


async def test_list_without_parameters(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", url=URL, json=page_of([te("te1"), te("te2")], total_pages=1))

    page = await resolve(client.tracking_events.list())

    assert isinstance(page, ListPage)
    assert [event.id for event in page] == ["te1", "te2"]
    assert all(isinstance(event, TrackingEvent) for event in page.items)
    assert page.items[0].event_type is TrackingEventType.ORDER_SUBMITTED
    assert page.meta.total_count == 2
    assert page.meta.item_range == [1, 2]
    assert len(page) == 2
    assert page[1].id == "te2"
    assert page.has_next_page is False
    request = only_request(httpx_mock)
    assert request.url.raw_path == b"/v1/integrations/trackingEvents"
    assert request.headers["Authorization"] == "Bearer static-token"


async def test_list_sends_every_standard_parameter(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", json=page_of([te()], page=2, page_size=50, total_pages=3))

    page = await resolve(
        client.tracking_events.list(
            search="Submitted",
            search_on=["ID", "EventType"],
            sort_by=["!EventType", "ID"],
            page=2,
            page_size=50,
            filters={"ClientID": "client-1"},
        )
    )

    assert page.has_next_page is True
    request = only_request(httpx_mock)
    assert request.method == "GET"
    assert request.url.copy_with(query=None) == httpx.URL(URL)
    assert query(request) == sorted(
        [
            ("search", "Submitted"),
            ("searchOn", "ID,EventType"),
            ("sortBy", "!EventType,ID"),
            ("page", "2"),
            ("pageSize", "50"),
            ("ClientID", "client-1"),
        ]
    )


@pytest.mark.parametrize(
    ("search_on", "sort_by", "expected"),
    [
        ("ID", "!ID", [("searchOn", "ID"), ("sortBy", "!ID")]),
        ("ID,EventType", "EventType,!ID", [("searchOn", "ID,EventType"), ("sortBy", "EventType,!ID")]),
        (["ID", "EventType"], ["EventType", "!ID"], [("searchOn", "ID,EventType"), ("sortBy", "EventType,!ID")]),
        (("EventType",), ("!EventType",), [("searchOn", "EventType"), ("sortBy", "!EventType")]),
        ([], "", []),
    ],
)
async def test_search_on_and_sort_by_take_a_string_or_a_list(
    client: Client, httpx_mock: HTTPXMock, search_on: str | list[str], sort_by: str | list[str], expected: list[Any]
) -> None:
    httpx_mock.add_response(method="GET", json=page_of([]))

    await resolve(client.tracking_events.list(search_on=search_on, sort_by=sort_by))

    assert query(only_request(httpx_mock)) == sorted(expected)


class Color(enum.Enum):
    RED = "Red"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({"EventType": "OrderSubmitted"}, [("EventType", "OrderSubmitted")], id="plain"),
        pytest.param({"xp": {"a": {"b": 1}}}, [("xp.a.b", "1")], id="nested-dotted"),
        pytest.param({"xp.Color": "Red"}, [("xp.Color", "Red")], id="already-dotted"),
        pytest.param({"ID": ["!a*", "!b*"]}, [("ID", "!a*"), ("ID", "!b*")], id="list-repeats-key"),
        pytest.param({"ID": ("x*",)}, [("ID", "x*")], id="tuple"),
        pytest.param(
            {"xp": {"Active": True, "Hidden": False}}, [("xp.Active", "true"), ("xp.Hidden", "false")], id="bool"
        ),
        pytest.param(
            {"xp": {"Count": 0, "Price": Decimal("9.50")}}, [("xp.Count", "0"), ("xp.Price", "9.50")], id="zero-kept"
        ),
        pytest.param(
            {"EventType": "OrderSubmitted|UserLoggedIn"}, [("EventType", "OrderSubmitted|UserLoggedIn")], id="or"
        ),
        pytest.param({"Name": "*Send*"}, [("Name", "*Send*")], id="wildcard"),
        pytest.param({"ID": "!te1"}, [("ID", "!te1")], id="negate"),
        pytest.param({"xp": {"Color": "!*"}}, [("xp.Color", "!*")], id="absent"),
        pytest.param({"xp": {"Date": ">2024-01-01"}}, [("xp.Date", ">2024-01-01")], id="greater"),
        pytest.param({"xp": {"Qty": "!<5"}}, [("xp.Qty", "!<5")], id="not-less"),
        pytest.param({"EventType": TrackingEventType.USER_LOGGED_IN}, [("EventType", "UserLoggedIn")], id="enum"),
        pytest.param({"xp": {"Color": Color.RED}}, [("xp.Color", "Red")], id="any-enum"),
        pytest.param(
            {"xp": {"At": datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)}},
            [("xp.At", "2024-05-01T12:00:00+00:00")],
            id="datetime",
        ),
        pytest.param({"Name": "", "ID": "te1"}, [("ID", "te1")], id="empty-string-dropped"),
        pytest.param({"ID": ["", "te1"]}, [("ID", "te1")], id="empty-in-list-dropped"),
        pytest.param({"xp": {}}, [], id="empty-mapping"),
    ],
)
async def test_filters_are_flattened_into_query_parameters(
    client: Client, httpx_mock: HTTPXMock, filters: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    httpx_mock.add_response(method="GET", json=page_of([]))

    await resolve(client.tracking_events.list(filters=filters))

    request = only_request(httpx_mock)
    assert query(request) == sorted(expected)
    assert "filters" not in request.url.params


async def test_repeated_filter_values_keep_their_order(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", json=page_of([]))

    await resolve(client.tracking_events.list(filters={"ID": ["!b*", "!a*", "te*"]}))

    assert only_request(httpx_mock).url.params.get_list("ID") == ["!b*", "!a*", "te*"]


@pytest.mark.parametrize(
    "filters", [{"Name": None}, {"xp": {"Color": None}}, {"ID": ["te1", None]}], ids=["top", "nested", "in-list"]
)
async def test_none_filter_is_refused_before_any_request(
    client: Client, httpx_mock: HTTPXMock, filters: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match=r"!\*"):
        await resolve(client.tracking_events.list(filters=filters))
    assert httpx_mock.get_requests() == []


async def test_unsupported_filter_value_is_refused(client: Client, httpx_mock: HTTPXMock) -> None:
    with pytest.raises(TypeError, match="Name"):
        await resolve(client.tracking_events.list(filters={"Name": object()}))
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize("page_size", [0, -1, 101, 1000])
async def test_page_size_out_of_range_is_refused_before_any_request(
    client: Client, httpx_mock: HTTPXMock, page_size: int
) -> None:
    with pytest.raises(ValueError, match="page_size"):
        await resolve(client.tracking_events.list(page_size=page_size))
    with pytest.raises(ValueError, match="page_size"):
        await collect(client.tracking_events.iter_all(page_size=page_size))
    assert httpx_mock.get_requests() == []


async def test_page_must_be_positive(client: Client, httpx_mock: HTTPXMock) -> None:
    with pytest.raises(ValueError, match="page"):
        await resolve(client.tracking_events.list(page=0))
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize("page_size", [1, 100])
async def test_page_size_bounds_are_allowed(client: Client, httpx_mock: HTTPXMock, page_size: int) -> None:
    httpx_mock.add_response(method="GET", json=page_of([]))
    await resolve(client.tracking_events.list(page_size=page_size))
    assert only_request(httpx_mock).url.params["pageSize"] == str(page_size)


# ---------------------------------------------------------------------------------------- iter_all


def serve_sorted_pages(items: list[dict[str, Any]]) -> Any:
    """A list endpoint over ``items`` (sorted by ID) that honours page, pageSize and ``ID=>x`` filters."""

    def callback(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        assert params["sortBy"] == "ID"
        page, size = int(params["page"]), int(params["pageSize"])
        matching = items
        for condition in params.get_list("ID"):
            assert condition.startswith(">")
            matching = [item for item in matching if item["ID"] > condition[1:]]
        chunk = matching[(page - 1) * size : page * size]
        total_pages = -(-len(matching) // size)
        return httpx.Response(200, json=page_of(chunk, page=page, page_size=size, total_pages=total_pages))

    return callback


async def test_iter_all_walks_every_page(client: Client, httpx_mock: HTTPXMock) -> None:
    items = [te(f"te{n}") for n in range(1, 6)]
    httpx_mock.add_callback(serve_sorted_pages(items), method="GET", url=URL_RE, is_reusable=True)

    events = await collect(client.tracking_events.iter_all(page_size=2, filters={"ClientID": "client-1"}))

    assert [event.id for event in events] == ["te1", "te2", "te3", "te4", "te5"]
    requests = httpx_mock.get_requests()
    assert [r.url.params["page"] for r in requests] == ["1", "2", "3"]
    for request in requests:
        assert request.url.params["pageSize"] == "2"
        assert request.url.params["ClientID"] == "client-1"
        assert request.url.params["sortBy"] == "ID"


async def test_iter_all_defaults_to_pages_of_100_sorted_by_id(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_callback(serve_sorted_pages([te("te1")]), method="GET", url=URL_RE)

    events = await collect(client.tracking_events.iter_all())

    assert [event.id for event in events] == ["te1"]
    assert query(only_request(httpx_mock)) == sorted([("page", "1"), ("pageSize", "100"), ("sortBy", "ID")])


async def test_iter_all_of_an_empty_list_makes_one_request(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", json=page_of([], total_pages=0))

    assert await collect(client.tracking_events.iter_all()) == []
    assert len(httpx_mock.get_requests()) == 1


async def test_iter_all_switches_to_last_id_paging_past_page_30(client: Client, httpx_mock: HTTPXMock) -> None:
    items = [te(f"te{n:03}") for n in range(1, 36)]
    httpx_mock.add_callback(serve_sorted_pages(items), method="GET", url=URL_RE, is_reusable=True)

    events = await collect(client.tracking_events.iter_all(page_size=1, filters={"ClientID": "client-1"}))

    assert [event.id for event in events] == [item["ID"] for item in items]
    requests = httpx_mock.get_requests()
    by_number, by_last_id = requests[:30], requests[30:]
    assert [r.url.params["page"] for r in by_number] == [str(n) for n in range(1, 31)]
    assert all("ID" not in r.url.params for r in by_number)
    # Past page 30: page=1 with ID=>{last ID seen}, until a page comes back empty.
    assert [r.url.params["page"] for r in by_last_id] == ["1"] * 6
    assert [r.url.params.get_list("ID") for r in by_last_id] == [[f">te{n:03}"] for n in range(30, 36)]
    for request in requests:
        assert request.url.params["ClientID"] == "client-1"
        assert request.url.params["pageSize"] == "1"


async def test_iter_all_stops_when_last_id_paging_makes_no_progress(client: Client, httpx_mock: HTTPXMock) -> None:
    items = [te(f"te{n:03}") for n in range(1, 31)]
    stuck = page_of([te("te031")], page=1, page_size=1, total_pages=99)  # ignores ID=>te031: same page again

    def callback(request: httpx.Request) -> httpx.Response:
        if "ID" in request.url.params:
            return httpx.Response(200, json=stuck)
        response: httpx.Response = serve_sorted_pages([*items, te("te031"), te("te032")])(request)
        return response

    httpx_mock.add_callback(callback, method="GET", url=URL_RE, is_reusable=True)

    seen: list[str | None] = []
    with pytest.raises(PaginationError) as excinfo:
        await collect_into(client.tracking_events.iter_all(page_size=1), seen)

    assert excinfo.value.last_id == "te031"
    assert excinfo.value.path == "integrations/trackingEvents"
    assert seen == [item["ID"] for item in items] + ["te031"]  # nothing is yielded twice
    assert len(httpx_mock.get_requests()) == 32  # 30 pages by number, then two by LastID


async def test_iter_all_is_lazy(client: Client, httpx_mock: HTTPXMock) -> None:
    iterator = client.tracking_events.iter_all()
    assert httpx_mock.get_requests() == []
    del iterator


# --------------------------------------------------------------------------------- get/create/...


async def test_get(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", url=f"{URL}/te1", json=te("te1"))

    event = await resolve(client.tracking_events.get("te1"))

    assert isinstance(event, TrackingEvent)
    assert event.id == "te1"
    assert event.delivery_config_id == "dc1"
    assert event.client_id == "client-1"
    assert only_request(httpx_mock).content == b""


async def test_create_posts_the_given_fields(client: Client, httpx_mock: HTTPXMock) -> None:
    sent = {
        "ID": "te1",
        "EventType": "OrderSubmitted",
        "ClientID": "client-1",
        "Name": "Orders to Send",
        "DeliveryConfigID": "dc1",
    }
    httpx_mock.add_response(method="POST", url=URL, match_json=sent, status_code=201, json=te("te1"))

    created = await resolve(
        client.tracking_events.create(
            TrackingEvent(
                id="te1",
                event_type=TrackingEventType.ORDER_SUBMITTED,
                client_id="client-1",
                name="Orders to Send",
                delivery_config_id="dc1",
            )
        )
    )

    assert created.id == "te1"
    request = only_request(httpx_mock)
    assert request.headers["Content-Type"] == "application/json"


async def test_create_accepts_a_mapping_of_json_names(client: Client, httpx_mock: HTTPXMock) -> None:
    body = te("te1", ConfigData={"a": 1})
    httpx_mock.add_response(method="POST", url=URL, match_json=body, status_code=201, json=body)

    created = await resolve(client.tracking_events.create(body))

    assert created.config_data == {"a": 1}


async def test_create_enforces_required_fields_before_sending(client: Client, httpx_mock: HTTPXMock) -> None:
    with pytest.raises(ValidationError, match="ClientID"):
        await resolve(
            client.tracking_events.create({"EventType": "OrderSubmitted", "Name": "x", "DeliveryConfigID": "d"})
        )
    with pytest.raises(ValidationError, match="EventType"):
        await resolve(client.tracking_events.save("te1", {"ClientID": "c", "Name": "x", "DeliveryConfigID": "d"}))
    assert httpx_mock.get_requests() == []


async def test_create_refuses_another_model(client: Client, httpx_mock: HTTPXMock) -> None:
    wrong: Any = DeliveryConfig.from_api({"Name": "n", "DeliveryTargets": {}})
    with pytest.raises(TypeError, match="TrackingEvent"):
        await resolve(client.tracking_events.create(wrong))
    assert httpx_mock.get_requests() == []


async def test_save_puts_to_the_id(client: Client, httpx_mock: HTTPXMock) -> None:
    body = te("te1", Name="Renamed")
    httpx_mock.add_response(method="PUT", url=f"{URL}/te1", match_json=body, json=body)

    saved = await resolve(client.tracking_events.save("te1", TrackingEvent.from_api(body)))

    assert saved.name == "Renamed"


async def test_patch_sends_only_the_given_fields(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="PATCH", url=f"{URL}/te1", match_json={"Name": "Renamed"}, json=te(Name="Renamed"))

    patched = await resolve(client.tracking_events.patch("te1", TrackingEventPatch(name="Renamed")))

    assert patched.name == "Renamed"


async def test_patch_sends_explicit_none_as_null(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        method="PATCH",
        url=f"{URL}/te1",
        match_json={"ConfigData": None, "DeliveryConfigID": "dc2"},
        json=te(ConfigData=None, DeliveryConfigID="dc2"),
    )

    await resolve(client.tracking_events.patch("te1", TrackingEventPatch(config_data=None, delivery_config_id="dc2")))

    assert json.loads(only_request(httpx_mock).content) == {"ConfigData": None, "DeliveryConfigID": "dc2"}


async def test_patch_accepts_a_mapping(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="PATCH", url=f"{URL}/te1", match_json={"Name": "n2", "ConfigData": None}, json=te())

    await resolve(client.tracking_events.patch("te1", {"Name": "n2", "ConfigData": None}))


async def test_delete(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="DELETE", url=f"{URL}/te1", status_code=204)

    await resolve(client.tracking_events.delete("te1"))

    request = only_request(httpx_mock)
    assert request.method == "DELETE"
    assert request.content == b""


async def test_unknown_event_type_and_fields_survive_get_then_save(client: Client, httpx_mock: HTTPXMock) -> None:
    from_server = te("te1", EventType="CartAbandoned", FutureField={"x": [1, 2]})
    httpx_mock.add_response(method="GET", url=f"{URL}/te1", json=from_server)
    httpx_mock.add_response(method="PUT", url=f"{URL}/te1", match_json=from_server, json=from_server)

    event = await resolve(client.tracking_events.get("te1"))
    assert event.event_type == "CartAbandoned"
    assert not event.event_type.is_known
    saved = await resolve(client.tracking_events.save("te1", event))

    assert saved.event_type == "CartAbandoned"


async def test_an_event_from_before_delivery_configs_round_trips(client: Client, httpx_mock: HTTPXMock) -> None:
    # Objects created before v1.0.293 have no DeliveryConfigID: reading them works, and saving one back
    # does not invent a null.
    old = {key: value for key, value in te("te1").items() if key != "DeliveryConfigID"}
    httpx_mock.add_response(method="GET", url=f"{URL}/te1", json=old)
    httpx_mock.add_response(method="PUT", url=f"{URL}/te1", match_json=old, json=old)

    event = await resolve(client.tracking_events.get("te1"))
    await resolve(client.tracking_events.save("te1", event))

    assert event.delivery_config_id is None


# --------------------------------------------------------------------------------------- path IDs


@pytest.mark.parametrize(
    ("object_id", "raw_path"),
    [
        ("te-1_A", "te-1_A"),
        ("te 1", "te%201"),
        ("te?1", "te%3F1"),
        ("te#1", "te%231"),
        ("te%1", "te%251"),
        ("te&x=1", "te%26x%3D1"),
        ("tü", "t%C3%BC"),
        ("...a", "...a"),
    ],
)
async def test_path_ids_are_percent_encoded(
    client: Client, httpx_mock: HTTPXMock, object_id: str, raw_path: str
) -> None:
    httpx_mock.add_response(method="GET", json=te(object_id))
    httpx_mock.add_response(method="DELETE", status_code=204)

    await resolve(client.tracking_events.get(object_id))
    await resolve(client.tracking_events.delete(object_id))

    for request in httpx_mock.get_requests():
        assert request.url.raw_path == f"/v1/integrations/trackingEvents/{raw_path}".encode()
        assert request.url.params == httpx.QueryParams()


@pytest.mark.parametrize("object_id", ["", "   ", "a/b", "/", ".", ".."])
async def test_empty_slash_or_dot_ids_are_refused_before_any_request(
    client: Client, httpx_mock: HTTPXMock, object_id: str
) -> None:
    events = client.tracking_events
    with pytest.raises(ValueError, match="event_id"):
        await resolve(events.get(object_id))
    with pytest.raises(ValueError, match="event_id"):
        await resolve(events.save(object_id, te()))
    with pytest.raises(ValueError, match="event_id"):
        await resolve(events.patch(object_id, {"Name": "x"}))
    with pytest.raises(ValueError, match="event_id"):
        await resolve(events.delete(object_id))
    assert httpx_mock.get_requests() == []


# ------------------------------------------------------------------------------- per-call options


async def test_every_operation_takes_access_token_and_timeout(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", url=URL, json=page_of([]))
    httpx_mock.add_response(method="GET", url=f"{URL}/te1", json=te())
    httpx_mock.add_response(method="POST", url=URL, status_code=201, json=te())
    httpx_mock.add_response(method="PUT", url=f"{URL}/te1", json=te())
    httpx_mock.add_response(method="PATCH", url=f"{URL}/te1", json=te())
    httpx_mock.add_response(method="DELETE", url=f"{URL}/te1", status_code=204)
    opts: dict[str, Any] = {"access_token": "user-token", "timeout": 3.0}
    events = client.tracking_events

    await resolve(events.list(**opts))
    await resolve(events.get("te1", **opts))
    await resolve(events.create(te(), **opts))
    await resolve(events.save("te1", te(), **opts))
    await resolve(events.patch("te1", {"Name": "n"}, **opts))
    await resolve(events.delete("te1", **opts))

    requests = httpx_mock.get_requests()
    assert [r.method for r in requests] == ["GET", "GET", "POST", "PUT", "PATCH", "DELETE"]
    for request in requests:
        assert request.headers["Authorization"] == "Bearer user-token"
        assert request.extensions["timeout"] == httpx.Timeout(3.0).as_dict()


async def test_iter_all_takes_access_token_and_timeout(client: Client, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="GET", json=page_of([te()]))

    await collect(client.tracking_events.iter_all(access_token="user-token", timeout=4.0))

    request = only_request(httpx_mock)
    assert request.headers["Authorization"] == "Bearer user-token"
    assert request.extensions["timeout"] == httpx.Timeout(4.0).as_dict()


async def test_nothing_about_the_body_is_logged(
    client: Client, httpx_mock: HTTPXMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    httpx_mock.add_response(method="POST", url=URL, status_code=201, json=te())

    await resolve(client.tracking_events.create(te(Name="a-distinctive-name")))

    assert "a-distinctive-name" not in caplog.text
    assert "POST" in caplog.text
