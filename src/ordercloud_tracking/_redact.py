"""Keeping credentials out of URLs, log records and request parameters: the one home of redaction.

OrderCloud puts the anonymous shopper's token in a query string (``PUT /v1/me/orders?anonUserToken=…``),
so every place a URL or a query can be shown — error messages, request specs in tracebacks, the SDK's
DEBUG log and httpx's own INFO log — goes through the functions here.

httpx logs every request URL at INFO ("HTTP Request: PUT https://…/v1/me/orders?anonUserToken=…"). The
first client created installs a filter on the ``httpx`` logger that redacts credential query parameters
in those records; it changes nothing else and is installed once per process.

>>> redact_url("https://api.ordercloud.io/v1/me/orders?anonUserToken=eyJ.abc.def&page=2")
'https://api.ordercloud.io/v1/me/orders?anonUserToken=[REDACTED]&page=2'
>>> redact_params([("anonUserToken", "eyJ.abc.def"), ("page", "2")])
[('anonUserToken', '[REDACTED]'), ('page', '2')]
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "REDACTED",
    "SENSITIVE_QUERY_PARAMS",
    "install_redaction_filter",
    "redact_params",
    "redact_text",
    "redact_url",
]

#: Query parameters whose values are credentials (compared case-insensitively).
SENSITIVE_QUERY_PARAMS: Final = frozenset(
    {"anonusertoken", "access_token", "token", "refresh_token", "client_secret", "password", "apikey"}
)
REDACTED: Final = "[REDACTED]"
_SENSITIVE_PARAM_RE: Final = re.compile(
    r"(?i)([?&](?:" + "|".join(sorted(SENSITIVE_QUERY_PARAMS)) + r")=)[^&#\s\"'<>]*"
)


def redact_text(text: str) -> str:
    """Redact credential query parameters anywhere in a piece of text (a log line, a URL)."""
    return _SENSITIVE_PARAM_RE.sub(lambda m: m.group(1) + REDACTED, text)


def redact_url(url: object) -> str:
    """Return ``url`` as a string with every credential query parameter value replaced."""
    text = str(url)
    parts = urlsplit(text)
    if not parts.query:
        return text
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(key.lower() in SENSITIVE_QUERY_PARAMS for key, _ in pairs):
        return text
    query = urlencode(
        [(key, REDACTED if key.lower() in SENSITIVE_QUERY_PARAMS else value) for key, value in pairs],
        safe="[]*!|<>",
    )
    return urlunsplit(parts._replace(query=query))


def redact_params(params: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Query pairs with the values of credential parameters replaced."""
    return [(key, REDACTED if key.lower() in SENSITIVE_QUERY_PARAMS else value) for key, value in params]


def _has_secret(text: str) -> bool:
    lowered = text.lower()
    return "?" in lowered and any(f"{name}=" in lowered for name in SENSITIVE_QUERY_PARAMS)


class _RedactCredentials(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args:
            # httpx passes the URL as an ``httpx.URL``; anything that is not a plain string is shown by str().
            record.args = tuple(
                redact_text(str(a)) if _is_url(a) or (isinstance(a, str) and _has_secret(a)) else a for a in args
            )
        elif isinstance(record.msg, str) and _has_secret(record.msg):
            record.msg = redact_text(record.msg)
        return True


def _is_url(value: object) -> bool:
    cls = type(value)
    return cls.__name__ == "URL" and cls.__module__.startswith("httpx")


_installed = False
_lock = threading.Lock()


def install_redaction_filter() -> None:
    """Install the redaction filter on the ``httpx`` logger (idempotent)."""
    global _installed
    if _installed:
        return
    with _lock:
        if not _installed:
            logging.getLogger("httpx").addFilter(_RedactCredentials())
            _installed = True
