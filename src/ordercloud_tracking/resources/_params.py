"""The keywords every resource call takes, defined once: per-call options and OrderCloud's list parameters.

The resource methods take them as ``**options: Unpack[RequestOptions]`` and ``**params: Unpack[ListParams]``:
mypy and pyright check the keywords (a misspelt one is a type error), and so does the call at run time (a
``TypeError``, as for any unknown keyword).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from typing_extensions import TypedDict

from .._pagination import ListQuery
from .._requests import check_keywords

if TYPE_CHECKING:
    from .._pagination import FilterValue
    from .._requests import NotGiven, Timeout

__all__ = ["IterAllParams", "ListParams", "RequestOptions", "split_list_params"]


class RequestOptions(TypedDict, total=False):
    """The keywords of every call: ``client.tracking_events.get("te-1", timeout=5.0)``."""

    timeout: Timeout | NotGiven
    """This call's timeout instead of the client's (``None``: no timeout)."""
    access_token: str | None
    """Act as another user for this call: the bearer token to send (the client's grant is not used)."""


class IterAllParams(RequestOptions, total=False):
    """The keywords of ``iter_all``: OrderCloud's list parameters but ``page`` (the walk chooses the pages)."""

    search: str | None
    """Full-text search in the ``search_on`` fields."""
    search_on: str | Sequence[str] | None
    """The fields ``search`` looks in (``"ID,Name"`` or a list of names)."""
    sort_by: str | Sequence[str] | None
    """The sort fields, ``!`` before a name for descending (``["!DateCreated", "ID"]``)."""
    page_size: int | None
    """Items per page, 1 to 100."""
    filters: Mapping[str, FilterValue] | None
    """OrderCloud filter expressions by field (``{"ClientID": "storefront", "ID": "te-*"}``): nested keys are
    dotted, lists repeat the parameter, ``None`` is refused (``"!*"`` means "absent")."""


class ListParams(IterAllParams, total=False):
    """The keywords of a one-page ``list`` call: the ``iter_all`` ones and ``page``."""

    page: int | None
    """The page number, from 1."""


def split_list_params(
    params: ListParams | IterAllParams, call: str, keywords: Any = ListParams
) -> tuple[ListQuery, RequestOptions]:
    """The list query and the per-call options in a list call's keywords, checked against ``keywords``."""
    check_keywords(params, keywords, call)
    given = cast("ListParams", params)
    query = ListQuery(
        search=given.get("search"),
        search_on=given.get("search_on"),
        sort_by=given.get("sort_by"),
        page=given.get("page"),
        page_size=given.get("page_size"),
        filters=given.get("filters"),
    )
    options = {key: value for key, value in params.items() if key in RequestOptions.__optional_keys__}
    return query, cast("RequestOptions", options)
