"""Request specs: one API call described as data, before it is bound to a client.

Nothing here performs I/O. Resources build :class:`RequestSpec` values; the executors in
``_base_client`` turn them into ``httpx`` requests and send them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs
import httpx

from ._redact import redact_params

__all__ = ["NOT_GIVEN", "NotGiven", "RequestSpec", "Timeout", "check_keywords", "json_body", "strip_bom"]

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_BOM: Final = b"\xef\xbb\xbf"


class NotGiven:
    """Sentinel for "argument not given" where ``None`` has a meaning (``timeout=None`` = no timeout)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()

Timeout = float | httpx.Timeout | None


def _repr_params(params: Sequence[tuple[str, str]] | None) -> str:
    # Credential query parameters (``anonUserToken`` …) are not shown: specs end up in tracebacks' locals.
    if not params:
        return repr(params)
    return repr(redact_params(params))


@attrs.frozen
class RequestSpec:
    """One API call, before it is bound to a client."""

    method: str
    path: str  # relative to ``{base}/v1/``
    params: Sequence[tuple[str, str]] | None = attrs.field(default=None, repr=_repr_params)
    body: bytes | None = attrs.field(default=None, repr=False)
    idempotent: bool | None = None  # None: decided by the HTTP method
    timeout: Timeout | NotGiven = NOT_GIVEN
    access_token: str | None = attrs.field(default=None, repr=False)
    #: (ObjectType, ObjectID) named in a 404 message when OrderCloud's body does not say it.
    subject: tuple[str, str] | None = None
    #: The SDK call this request serves, as ``resource.operation`` (``tracking_events.get``): the span name.
    operation: str | None = None
    #: ``path`` with its IDs as placeholders (``orders/{direction}/{orderID}``); ``None``: ``path`` has no IDs.
    template: str | None = None

    @property
    def path_template(self) -> str:
        """``path`` with its IDs as placeholders: what telemetry reports instead of the raw path."""
        return self.template if self.template is not None else self.path

    @property
    def is_idempotent(self) -> bool:
        return self.idempotent if self.idempotent is not None else self.method in IDEMPOTENT_METHODS


def check_keywords(given: Mapping[str, object], keywords: Any, call: str) -> None:
    """Raise the ``TypeError`` Python raises for an unknown or a missing keyword; ``keywords`` is a TypedDict."""
    for key in given:
        if key not in keywords.__optional_keys__ and key not in keywords.__required_keys__:
            raise TypeError(f"{call}() got an unexpected keyword argument {key!r}")
    for key in sorted(keywords.__required_keys__ - given.keys()):
        raise TypeError(f"{call}() missing required keyword argument {key!r}")


def strip_bom(content: bytes) -> bytes:
    return content[3:] if content.startswith(_BOM) else content


def json_body(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
