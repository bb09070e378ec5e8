"""Deprecated alias of :mod:`ordercloud_tracking._requests` (kept until every importer has moved)."""

from __future__ import annotations

from ._requests import NOT_GIVEN, NotGiven, RequestSpec, Timeout, json_body, strip_bom

__all__ = ["NOT_GIVEN", "NotGiven", "RequestSpec", "Timeout", "json_body", "strip_bom"]
