"""The fake's request, response and error types: what goes into the front door and what comes out."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NoReturn, TypeVar

import attrs

__all__ = [
    "ID_RE",
    "JSON",
    "ApiError",
    "FakeRequest",
    "FakeResponse",
    "dumps",
    "error_body",
    "fail",
    "found",
    "json_default",
    "not_found",
    "require_id",
]

JSON = dict[str, Any]

ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")

T = TypeVar("T")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


@attrs.frozen
class FakeRequest:
    """A request as the fake sees it: method, decoded path, query pairs, lower-case headers and the body."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    body: bytes = attrs.field(default=b"", repr=False)

    def param(self, name: str) -> str | None:
        """The first value of the query parameter ``name`` (``None`` when absent)."""
        for key, value in self.query:
            if key == name:
                return value
        return None

    def json(self) -> Any:
        """The body as JSON (``None`` when empty); invalid, non-finite or too deeply nested JSON answers 400."""
        if not self.body:
            return None
        try:
            return json.loads(self.body.decode("utf-8-sig"), parse_float=_finite_float, parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            fail(400, "Request.InvalidRequestBody", "The request body is not valid JSON.")


@attrs.frozen
class FakeResponse:
    """The fake's answer: a status, a JSON-able body (``None`` for none) and extra headers."""

    status: int
    body: Any = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    encoded: bytes | None = attrs.field(default=None, repr=False, eq=False)  # the body, once serialised

    @property
    def has_body(self) -> bool:
        """Whether the answer carries a body and its headers (a ``204 No Content`` carries neither)."""
        return self.status != 204

    def content(self) -> bytes:
        """The body as compact UTF-8 JSON (empty without a body)."""
        if self.encoded is not None:
            return self.encoded
        if self.body is None:
            return b""
        return dumps(self.body)


class ApiError(Exception):
    """Raised by a route handler to answer with an OrderCloud error (``status`` and ``body``)."""

    def __init__(self, status: int, body: JSON) -> None:
        super().__init__(status)
        self.status = status
        self.body = body

    def response(self) -> FakeResponse:
        return FakeResponse(self.status, self.body)


def error_body(code: str, message: str, data: Any = None) -> JSON:
    """OrderCloud's error body: ``{"Errors": [{"ErrorCode", "Message", "Data"}]}``."""
    return {"Errors": [{"ErrorCode": code, "Message": message, "Data": data}]}


def fail(status: int, code: str, message: str, data: Any = None, **oauth: str) -> NoReturn:
    """Answer with an OrderCloud error (``oauth`` adds OAuth's ``error`` / ``error_description``)."""
    raise ApiError(status, {**oauth, **error_body(code, message, data)})


def not_found(object_type: str, object_id: str) -> NoReturn:
    fail(404, "NotFound", f"{object_type} {object_id} not found", {"ObjectType": object_type, "ObjectID": object_id})


def found(store: Mapping[str, T], object_type: str, object_id: str) -> T:
    """``store[object_id]``, else OrderCloud's 404 for that object."""
    obj = store.get(object_id)
    if obj is None:
        not_found(object_type, object_id)
    return obj


def require_id(value: Any) -> str:
    """``value`` if it is a valid OrderCloud object ID, else a 400."""
    if not isinstance(value, str) or not ID_RE.match(value):
        fail(400, "ValidationFailure", "ID may contain only letters, digits, - and _ (at most 100)", {"Property": "ID"})
    return value


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    return json.dumps(value, default=json_default, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
