"""Keep credentials out of log records written by httpx.

httpx logs every request URL at INFO ("HTTP Request: PUT https://…/v1/me/orders?anonUserToken=…"), and
OrderCloud puts the anonymous token in that query string. The first client created installs a filter on
the ``httpx`` logger that redacts credential query parameters in those records. The filter changes
nothing else and is installed once per process.
"""

from __future__ import annotations

import logging
import threading

import httpx

from ._errors import SENSITIVE_QUERY_PARAMS, redact_text

__all__ = ["install_redaction_filter"]

_installed = False
_lock = threading.Lock()


class _RedactCredentials(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, (httpx.URL, str)) for a in args):
            record.args = tuple(
                redact_text(str(a)) if isinstance(a, httpx.URL) or (isinstance(a, str) and _has_secret(a)) else a
                for a in args
            )
        elif isinstance(record.msg, str) and _has_secret(record.msg):
            record.msg = redact_text(record.msg)
        return True


def _has_secret(text: str) -> bool:
    lowered = text.lower()
    return "?" in lowered and any(f"{name}=" in lowered for name in SENSITIVE_QUERY_PARAMS)


def install_redaction_filter() -> None:
    """Install the redaction filter on the ``httpx`` logger (idempotent)."""
    global _installed
    if _installed:
        return
    with _lock:
        if not _installed:
            logging.getLogger("httpx").addFilter(_RedactCredentials())
            _installed = True
