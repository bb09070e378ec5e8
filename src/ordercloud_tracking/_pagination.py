"""List pages, list query parameters and the page walker behind ``iter_all``."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, Generic, TypeVar
from urllib.parse import quote

import attrs
from pydantic import Field

from ._errors import PaginationError
from .models._base import OCModel

__all__ = ["ListPage", "ListQuery", "Meta", "PageWalker", "flatten_filters", "path_id"]

T = TypeVar("T")

MAX_PAGE_SIZE: Final = 100
LAST_ID_AFTER_PAGE: Final = 30  # OrderCloud: past page 30, page by LastID instead of page number

FilterValue = Any  # str | int | float | bool | Decimal | datetime | Enum | Sequence[...] | Mapping[str, ...]


class Meta(OCModel):
    """Paging information of a list answer."""

    page: int | None = Field(None, alias="Page")
    page_size: int | None = Field(None, alias="PageSize")
    total_count: int | None = Field(None, alias="TotalCount")
    total_pages: int | None = Field(None, alias="TotalPages")
    item_range: list[int] | None = Field(None, alias="ItemRange")
    next_page_key: str | None = Field(None, alias="NextPageKey")


class ListPage(OCModel, Generic[T]):
    """One page of a list: ``Items`` and ``Meta``. Iterating a page yields its items."""

    items: list[T] = Field(default_factory=list, alias="Items")
    meta: Meta = Field(default_factory=Meta, alias="Meta")

    def __iter__(self) -> Iterator[T]:  # type: ignore[override]
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]

    @property
    def has_next_page(self) -> bool:
        """Whether ``Meta`` says another page follows."""
        meta = self.meta
        if meta.page is not None and meta.total_pages is not None:
            return meta.page < meta.total_pages
        return False


def path_id(value: str, name: str = "id") -> str:
    """Percent-encode an object ID for a URL path; empty, ``/``-containing, ``.`` and ``..`` IDs are refused."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if not value or not value.strip():
        raise ValueError(f"{name} must not be empty")
    if "/" in value:
        raise ValueError(f"{name} must not contain '/': {value!r}")
    if value in (".", ".."):
        raise ValueError(f"{name} must not be {value!r}")
    return quote(value, safe="")


def _format_value(key: str, value: Any) -> str | None:
    if value is None:
        raise ValueError(f"Filter {key!r} is None; OrderCloud has no null filter — use '!*' for 'absent'")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, str):
        return value or None  # empty strings are dropped
    raise TypeError(f"Filter {key!r} has an unsupported value type {type(value).__name__}")


def flatten_filters(filters: Mapping[str, FilterValue] | None, prefix: str = "") -> list[tuple[str, str]]:
    """Flatten OrderCloud filters into query pairs."""
    pairs: list[tuple[str, str]] = []
    if not filters:
        return pairs
    for raw_key, value in filters.items():
        key = f"{prefix}{raw_key}"
        if isinstance(value, Mapping):
            pairs.extend(flatten_filters(value, prefix=f"{key}."))
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                text = _format_value(key, item)
                if text is not None:
                    pairs.append((key, text))
        else:
            text = _format_value(key, value)
            if text is not None:
                pairs.append((key, text))
    return pairs


def _comma(value: str | Sequence[str] | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    joined = ",".join(str(v.value) if isinstance(v, enum.Enum) else str(v) for v in value)
    return joined or None


@attrs.frozen
class ListQuery:
    """The standard list parameters of every OrderCloud list endpoint."""

    search: str | None = None
    search_on: str | Sequence[str] | None = None
    sort_by: str | Sequence[str] | None = None
    page: int | None = None
    page_size: int | None = None
    filters: Mapping[str, FilterValue] | None = None
    extra: Sequence[tuple[str, str]] = ()

    def __attrs_post_init__(self) -> None:
        if self.page_size is not None and not (1 <= self.page_size <= MAX_PAGE_SIZE):
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {self.page_size}")
        if self.page is not None and self.page < 1:
            raise ValueError(f"page must be 1 or more, got {self.page}")

    @property
    def sort_fields(self) -> list[str]:
        text = _comma(self.sort_by)
        return [part.strip() for part in text.split(",")] if text else []

    def params(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = list(self.extra)
        if self.search:
            pairs.append(("search", self.search))
        search_on = _comma(self.search_on)
        if search_on:
            pairs.append(("searchOn", search_on))
        sort_by = _comma(self.sort_by)
        if sort_by:
            pairs.append(("sortBy", sort_by))
        if self.page is not None:
            pairs.append(("page", str(self.page)))
        if self.page_size is not None:
            pairs.append(("pageSize", str(self.page_size)))
        pairs.extend(flatten_filters(self.filters))
        return pairs


class PageWalker:
    """Decides which page to ask for next while walking a whole list."""

    def __init__(self, query: ListQuery, *, path: str = "the list") -> None:
        self.path = path
        if query.sort_by is None:
            query = attrs.evolve(query, sort_by="ID")
        if query.page_size is None:
            query = attrs.evolve(query, page_size=MAX_PAGE_SIZE)
        self.query = attrs.evolve(query, page=query.page or 1)
        sort = self.query.sort_fields
        self._id_order: str | None = {"ID": ">", "!ID": "<"}.get(sort[0]) if len(sort) == 1 else None
        self._last_id: str | None = None

    def first(self) -> list[tuple[str, str]]:
        return self.query.params()

    def check(self, page: ListPage[Any]) -> None:
        """Refuse a LastID page that did not move past the last ID (before any of its items is yielded)."""
        last_id = self._last_id
        if last_id is not None and any(getattr(item, "id", None) == last_id for item in page.items):
            raise PaginationError(self.path, last_id=last_id)

    def next(self, page: ListPage[Any]) -> list[tuple[str, str]] | None:
        """Parameters of the next request, or ``None`` when the walk is over."""
        items = page.items
        size = self.query.page_size or MAX_PAGE_SIZE
        if not items:
            return None
        current = self.query.page or 1
        if self._last_id is None and not page.has_next_page:
            return None
        if self._last_id is not None or (current >= LAST_ID_AFTER_PAGE and self._id_order is not None):
            if len(items) < size:
                return None
            last = getattr(items[-1], "id", None)
            if not isinstance(last, str) or not last:
                return None
            self._last_id = last
            query = attrs.evolve(self.query, page=1)
            return [*query.params(), ("ID", f"{self._id_order}{last}")]
        self.query = attrs.evolve(self.query, page=current + 1)
        return self.query.params()
