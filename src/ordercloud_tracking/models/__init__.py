"""Pydantic wire models: tracking events, delivery configurations and commerce objects.

Every model is importable from here (loaded on first use)::

    >>> from ordercloud_tracking.models import HttpConfig, LineItem, Order
    >>> LineItem(product_id="SKU-MUG", quantity=2).to_request()
    {'ProductID': 'SKU-MUG', 'Quantity': 2}
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers see; at run time ``__getattr__`` loads a submodule on first use
    from .commerce import *  # noqa: F403
    from .delivery import *  # noqa: F403
    from .tracking import *  # noqa: F403

# Each submodule's ``__all__`` is the list of its models; this package exports their union.
_SUBMODULES = (".tracking", ".delivery", ".commerce")


def __getattr__(name: str) -> Any:
    if name == "__all__":  # ``from ordercloud_tracking.models import *``, ``dir()``: every submodule is loaded
        modules = [importlib.import_module(submodule, __name__) for submodule in _SUBMODULES]
        value: Any = sorted({exported for module in modules for exported in module.__all__})
        globals()[name] = value
        return value
    if not name.startswith("_"):  # the first submodule that exports it, loaded now
        for submodule in _SUBMODULES:
            module = importlib.import_module(submodule, __name__)
            if name in module.__all__:
                value = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__getattr__("__all__")))
