"""OrderCloud list semantics over stored JSON objects: search, filters, sorting and pages."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from ._wire import JSON, FakeRequest, fail, json_default

__all__ = ["EMPTY_PAGE", "list_page", "parse_moment"]

#: The page of an empty list with the default paging.
EMPTY_PAGE: JSON = {
    "Items": [],
    "Meta": {"Page": 1, "PageSize": 20, "TotalCount": 0, "TotalPages": 0, "ItemRange": [0, 0], "NextPageKey": None},
}

_RESERVED_PARAMS = frozenset(
    {"search", "searchOn", "searchType", "sortBy", "page", "pageSize", "from", "to", "pageKey"}
)


def _lookup(item: Mapping[str, Any], dotted: str) -> Any:
    value: Any = item
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(json_default(value))
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _text_key(text: str) -> tuple[str, str]:
    # Case-insensitive (like the equality and wildcard filters), ties broken by the exact text: one total
    # order shared by sortBy and the ``<``/``>`` filters, so LastID paging neither skips nor repeats.
    return text.casefold(), text


def _order_key(value: Any) -> tuple[int, Decimal, tuple[str, str]]:
    """Sort key of a stored value: numbers by value, everything else (IDs, dates, names) as text."""
    if _is_number(value):
        return 0, Decimal(str(value)), ("", "")
    return 1, Decimal(0), _text_key(_as_text(value))


def _compare(left: Any, right: str) -> int | None:
    if _is_number(left):
        try:
            a, b = Decimal(str(left)), Decimal(right)
        except (InvalidOperation, ValueError):
            pass
        else:
            return (a > b) - (a < b)
    a_key, b_key = _text_key(_as_text(left)), _text_key(right)
    return (a_key > b_key) - (a_key < b_key)


def _check_filter(key: str, expression: str) -> None:
    """A ``<``/``>`` filter on a number that is not finite (``>NaN``, ``<Infinity``) is a 400."""
    for alternative in expression.split("|"):
        bound = alternative.removeprefix("!")
        if not bound.startswith((">", "<")):
            continue
        try:
            number = Decimal(bound[1:])
        except (InvalidOperation, ValueError):
            continue  # not a number: compared as text
        if not number.is_finite():
            fail(400, "List.InvalidFilterValue", f"{key}: {bound[1:]} is not a finite number", {"Property": key})


def _match_one(value: Any, expression: str) -> bool:
    negate = expression.startswith("!")
    if negate:
        expression = expression[1:]
    if expression == "*":
        result = value is not None and value != ""
    elif expression.startswith((">", "<")):
        result = value is not None and _compare(value, expression[1:]) == (1 if expression[0] == ">" else -1)
    elif "*" in expression:
        result = value is not None and fnmatch.fnmatchcase(_as_text(value).lower(), expression.lower())
    else:
        result = value is not None and _as_text(value).lower() == expression.lower()
    return not result if negate else result


def _matches(item: Mapping[str, Any], key: str, expression: str) -> bool:
    value = _lookup(item, key)
    return any(_match_one(value, alternative) for alternative in expression.split("|"))


def _sort_key(name: str) -> Callable[[JSON], tuple[bool, tuple[int, Decimal, tuple[str, str]]]]:
    def key(row: JSON) -> tuple[bool, tuple[int, Decimal, tuple[str, str]]]:
        value = _lookup(row, name)
        return value is None, _order_key(value if value is not None else "")

    return key


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date or date-time, with ``Z`` for UTC (``fromisoformat`` before 3.11 does not read it)."""
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)


def _bound(name: str, text: str, *, end_of_day: bool) -> datetime:
    """A ``from`` / ``to`` value: an ISO 8601 date or date-time (UTC unless it says otherwise)."""
    try:
        moment = parse_moment(text)
    except ValueError:
        fail(400, "List.InvalidType", f"{name} must be an ISO 8601 date or date-time", {"Property": name})
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if end_of_day and len(text) == 10:  # a bare date as the upper bound includes that whole day
        moment += timedelta(days=1) - timedelta(microseconds=1)
    return moment


def _within_dates(rows: list[JSON], field: str, start: str | None, end: str | None) -> list[JSON]:
    """The rows whose ``field`` lies within ``from`` and ``to`` (both inclusive); none without the date."""
    if not start and not end:
        return rows
    low = _bound("from", start, end_of_day=False) if start else None
    high = _bound("to", end, end_of_day=True) if end else None
    kept = []
    for row in rows:
        value = row.get(field)
        if not isinstance(value, str):
            continue
        moment = parse_moment(value)
        if (low is None or moment >= low) and (high is None or moment <= high):
            kept.append(row)
    return kept


def list_page(
    items: Iterable[JSON],
    request: FakeRequest,
    *,
    searchable: Sequence[str],
    sortable: Sequence[str],
    filterable: Iterable[str],
    render: Callable[[JSON], JSON] = lambda item: item,
    dated: str | None = None,
) -> JSON:
    """OrderCloud list semantics over stored JSON objects."""
    page_text, size_text = request.param("page") or "1", request.param("pageSize") or "20"
    try:
        page, page_size = int(page_text), int(size_text)
    except ValueError:
        fail(400, "List.InvalidType", "page and pageSize must be whole numbers")
    if not 1 <= page_size <= 100:
        fail(400, "List.InvalidPageSize", "pageSize must be between 1 and 100", {"PageSize": page_size})
    if page < 1:
        fail(400, "List.InvalidType", "page must be 1 or more")
    rows = list(items)
    search = request.param("search")
    if search:
        fields = [f.strip() for f in (request.param("searchOn") or ",".join(searchable)).split(",") if f.strip()]
        for field in fields:
            if field not in searchable:
                fail(400, "List.InvalidSearchProperty", f"{field} is not searchable", {"Property": field})
        needle = search.lower()
        rows = [row for row in rows if any(needle in _as_text(_lookup(row, f) or "").lower() for f in fields)]
    if dated is not None:
        rows = _within_dates(rows, dated, request.param("from"), request.param("to"))
    known = set(filterable)
    for key, expression in request.query:
        if key in _RESERVED_PARAMS:
            continue
        if key.split(".")[0] not in known:
            fail(400, "List.InvalidProperty", f"{key} is not a valid filter property", {"Property": key})
        _check_filter(key, expression)
        rows = [row for row in rows if _matches(row, key, expression)]
    sort_fields = [f.strip() for f in (request.param("sortBy") or "ID").split(",") if f.strip()]
    for field in reversed(sort_fields):
        descending = field.startswith("!")
        name = field.lstrip("!")
        if name not in sortable:
            fail(400, "List.InvalidSortProperty", f"{name} is not sortable", {"Property": name})
        rows.sort(key=_sort_key(name), reverse=descending)
    total = len(rows)
    total_pages = (total + page_size - 1) // page_size
    start = (page - 1) * page_size
    chunk = rows[start : start + page_size]
    item_range = [start + 1, start + len(chunk)] if chunk else [0, 0]
    return {
        "Items": [render(row) for row in chunk],
        "Meta": {
            "Page": page,
            "PageSize": page_size,
            "TotalCount": total,
            "TotalPages": total_pages,
            "ItemRange": item_range,
            "NextPageKey": None,
        },
    }
