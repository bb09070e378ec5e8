"""Public homes: exported classes report them as ``__module__`` (as httpx does), and packages load their
names from the defining modules lazily.

Tracebacks then show ``ordercloud_tracking.NotFoundError`` rather than a private module, and pickle looks
classes up where users import them (the package loads them lazily). Methods move with their class so
that documentation tools and doctest still find them together.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["load_lazily", "set_public_home"]


def set_public_home(classes: Iterable[type], home: str = "ordercloud_tracking") -> None:
    """Set ``__module__`` of each class, and of the functions written in its body, to ``home``."""
    for cls in classes:
        defined_in = cls.__module__
        cls.__module__ = home
        for member in vars(cls).values():
            function = getattr(member, "__func__", None) or getattr(member, "fget", None) or member
            if callable(function) and getattr(function, "__module__", None) == defined_in:
                try:
                    function.__module__ = home
                except (AttributeError, TypeError):  # a builtin or slot wrapper
                    continue


def load_lazily(package: str, homes: Mapping[str, str], name: str) -> Any:
    """A package's ``__getattr__``: import ``name`` from its home module (relative to ``package``), once."""
    module_name = homes.get(name)
    if module_name is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, package), name)
    setattr(sys.modules[package], name, value)
    return value
