"""Validation contexts shared by the clients and the wire models (no third-party imports here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["API_CONTEXT"]

#: Validation context for bodies that came from the API (lenient about absent write-only fields).
API_CONTEXT: Final[Mapping[str, Any]] = {"from_api": True}
