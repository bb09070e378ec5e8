"""The streams package, the stores placeholder and the Kafka test cluster follow the docstring rules of the SDK.

(``testing.kafka``'s examples already run with the ``testing`` package in tests/test_docstrings.py.)
"""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

from tests.test_docstrings import offenders

MODULES = ["ordercloud_tracking.streams", "ordercloud_tracking.stores", "ordercloud_tracking.testing.kafka"]
DEFINING = [
    "ordercloud_tracking.streams._settings",
    "ordercloud_tracking.streams._core",
    "ordercloud_tracking.streams._base",
    "ordercloud_tracking.streams._sync",
    "ordercloud_tracking.streams._async",
    "ordercloud_tracking.streams._forwarder",
]


def test_public_names_have_docstrings_with_examples() -> None:
    objects: dict[str, object] = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for public in module.__all__:
            obj = getattr(module, public)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                objects[f"{name}.{public}"] = obj
    assert len(objects) >= 15
    problems = offenders(objects, ["ordercloud_tracking.streams.TrackingConsumer"])
    assert not problems, "missing documentation:\n" + "\n".join(problems)


@pytest.mark.parametrize("module_name", ["ordercloud_tracking.streams", "ordercloud_tracking.stores", *DEFINING])
def test_module_doctests(module_name: str) -> None:
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} example(s) of {module_name} failed"
