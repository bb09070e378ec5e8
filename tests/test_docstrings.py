"""The docstring rules: every public name is documented, examples only where a reader starts, and every example runs.

- Every public class and function (the ``__all__`` of the modules the API reference renders), and every public
  method, property or classmethod written on a public class, has a docstring.
- The names where a reader starts (:data:`READER_STARTS`) carry a runnable ``>>>`` example.
- No example is skipped: no ``+SKIP`` anywhere in ``src/``; an example runs (doctest or docs page) or goes.
- The examples of core modules do not boot the fake: ``FakeOrderCloud`` appears in doctests only inside
  ``testing/`` and in the examples of the reader-start names, where it is the way to run them offline.
- The doctests of every module of the package run.
"""

from __future__ import annotations

import dataclasses
import doctest
import functools
import importlib
import inspect
import pkgutil
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import pytest

import ordercloud_tracking

SRC = Path(ordercloud_tracking.__file__).resolve().parent

PUBLIC_MODULES = [
    "ordercloud_tracking",
    "ordercloud_tracking.models.tracking",
    "ordercloud_tracking.models.delivery",
    "ordercloud_tracking.models.commerce",
    "ordercloud_tracking.messages",
    "ordercloud_tracking.receiver",
    "ordercloud_tracking.sitecore",
    "ordercloud_tracking.stores",
    "ordercloud_tracking.identity",
    "ordercloud_tracking.provisioning",
    "ordercloud_tracking.testing",
]

READER_STARTS = [
    "ordercloud_tracking.OrderCloud",
    "ordercloud_tracking.AsyncOrderCloud",
    "ordercloud_tracking.receiver.Receiver",
    "ordercloud_tracking.receiver.asgi_app",
    "ordercloud_tracking.receiver.wsgi_app",
    "ordercloud_tracking.messages.parse_message",
    "ordercloud_tracking.provisioning.ensure_tracking",
    "ordercloud_tracking.provisioning.doctor",
    "ordercloud_tracking.identity.ShopperSession",
    "ordercloud_tracking.testing.FakeOrderCloud",
]

# Modules other work is rewriting while the diet lands: their examples are put on the diet after that
# work merges. test_pending_modules_still_need_the_diet fails once an entry is no longer needed.
PENDING: set[str] = set()


def _module(name: str) -> ModuleType:
    """The module with every name of its ``__all__`` loaded.

    Lazily exported names join the module's namespace on first use, and a class with a public home reports
    that module (``ordercloud_tracking.NotFoundError``): loading them all makes the doctests found in a
    module the same whatever ran before.
    """
    module = importlib.import_module(name)
    for exported in getattr(module, "__all__", ()):
        getattr(module, exported)
    return module


def _all_modules() -> list[str]:
    """Every module of the package (the ``__main__`` entry point excepted: importing it runs the CLI)."""
    found = ["ordercloud_tracking"]
    for info in pkgutil.walk_packages([str(SRC)], prefix="ordercloud_tracking."):
        if not info.name.endswith("__main__"):
            found.append(info.name)
    return sorted(found)


def _own_class_doc(cls: type) -> str | None:
    """The docstring written on ``cls`` itself: not inherited, not the one ``@dataclass`` generates."""
    doc = vars(cls).get("__doc__")
    if not isinstance(doc, str) or not doc.strip():
        return None
    if dataclasses.is_dataclass(cls) and doc.startswith(f"{cls.__name__}(") and "\n" not in doc:
        return None  # dataclasses fill a missing docstring with the class signature
    return doc


def _function(member: object) -> object:
    """The function behind a class member (a method, property, classmethod, staticmethod or cached property)."""
    if isinstance(member, (staticmethod, classmethod)):
        return member.__func__
    if isinstance(member, property):
        return member.fget
    if isinstance(member, functools.cached_property):
        return member.func
    return member


def _doc(obj: object) -> str | None:
    """The docstring of a function or class member as written (``None`` when there is none)."""
    doc = getattr(_function(obj), "__doc__", None)
    return doc if isinstance(doc, str) and doc.strip() else None


def _members(cls: type) -> list[tuple[str, object]]:
    """The public methods, properties and class/static methods written in the body of ``cls``."""
    found = []
    for name, member in vars(cls).items():
        function = _function(member)
        if name.startswith("_") or not inspect.isfunction(function):
            continue
        if function.__qualname__ != f"{cls.__qualname__}.{function.__name__}":
            continue  # put on the class by a decorator or a metaclass, not written in its body
        found.append((name, member))
    return found


def _public_objects() -> dict[str, object]:
    """Each public class and function once, by the name of the first module that exports it."""
    objects: dict[str, object] = {}
    seen: set[int] = set()
    for module_name in PUBLIC_MODULES:
        module = _module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)) or id(obj) in seen:
                continue
            seen.add(id(obj))
            objects[f"{module_name}.{name}"] = obj
    return objects


def _has_runnable_example(doc: str) -> bool:
    """A ``>>>`` example that doctest runs (one marked ``+SKIP`` does not count)."""
    return any(not example.options.get(doctest.SKIP) for example in doctest.DocTestParser().get_examples(doc))


def offenders(objects: Mapping[str, object], reader_starts: list[str]) -> list[str]:
    """Every object (or member of one) missing a docstring, and every reader start missing a runnable example."""
    problems = []
    for path, obj in objects.items():
        doc = _own_class_doc(obj) if inspect.isclass(obj) else _doc(obj)
        if doc is None:
            problems.append(f"{path}: no docstring")
        elif path in reader_starts and not _has_runnable_example(doc):
            problems.append(f"{path}: a reader starts here, but the docstring has no runnable example")
        if inspect.isclass(obj):
            problems.extend(f"{path}.{name}: no docstring" for name, member in _members(obj) if _doc(member) is None)
    return problems


def test_public_names_have_docstrings_and_reader_starts_have_examples() -> None:
    objects = _public_objects()
    problems = offenders(objects, [name for name in READER_STARTS if name.rsplit(".", 1)[0] not in PENDING])
    assert not problems, "missing documentation:\n" + "\n".join(problems)


def test_the_reader_starts_are_public_names() -> None:
    objects = _public_objects()
    assert [name for name in READER_STARTS if name not in objects] == []
    assert len(objects) > 50
    assert "ordercloud_tracking.NotFoundError" in objects
    assert "ordercloud_tracking.testing.FakeServer" in objects


def test_the_checker_finds_what_is_missing() -> None:
    @dataclasses.dataclass
    class Generated:  # @dataclass writes "Generated(size: int)" as the docstring
        size: int

    class Documented:
        """Documented, without an example."""

        @property
        def shown(self) -> int:
            """A documented property."""
            return 1

        @classmethod
        def build(cls) -> Documented:
            return cls()

        def _private(self) -> None:
            return None

    def literal_only() -> None:
        """Documented with a literal block, which does not run::

        literal_only()
        """

    def skipped() -> None:
        """Documented with an example that does not run.

        >>> skipped()  # doctest: +SKIP
        """

    def runs() -> None:
        """Documented with an example.

        >>> runs()
        """

    objects = {
        "Generated": Generated,
        "Documented": Documented,
        "literal_only": literal_only,
        "skipped": skipped,
        "runs": runs,
    }
    assert offenders(objects, ["literal_only", "skipped", "runs"]) == [
        "Generated: no docstring",
        "Documented.build: no docstring",
        "literal_only: a reader starts here, but the docstring has no runnable example",
        "skipped: a reader starts here, but the docstring has no runnable example",
    ]


def _doctests(module_name: str) -> list[doctest.DocTest]:
    """The doctests written in ``module_name`` itself (not in the names it imports)."""
    return [test for test in doctest.DocTestFinder().find(_module(module_name)) if test.examples]


def _skips(text: str) -> bool:
    return "+SKIP" in text


def _boots_the_fake(test: doctest.DocTest) -> bool:
    return any("FakeOrderCloud" in example.source for example in test.examples)


def _core(module_name: str) -> bool:
    return not module_name.startswith("ordercloud_tracking.testing")


def _rule_breakers(module_name: str) -> list[str]:
    """What in ``module_name`` breaks the no-``+SKIP`` or the no-fake-in-core-examples rule."""
    problems = []
    path = Path(str(_module(module_name).__file__))
    if _skips(path.read_text(encoding="utf-8")):
        problems.append(f"{module_name}: a +SKIP example (an example runs or goes)")
    if _core(module_name):
        problems.extend(
            f"{test.name}: the example boots FakeOrderCloud (a core module; move it to a docs page)"
            for test in _doctests(module_name)
            if _boots_the_fake(test) and test.name not in READER_STARTS
        )
    return problems


@pytest.mark.parametrize("module_name", [name for name in _all_modules() if name not in PENDING])
def test_no_skipped_examples_and_core_examples_do_not_boot_the_fake(module_name: str) -> None:
    assert _rule_breakers(module_name) == []


def test_pending_modules_still_need_the_diet() -> None:
    """Each ``PENDING`` exemption is still needed (else: drop it from the set)."""
    assert [name for name in sorted(PENDING) if not _rule_breakers(name)] == []


def test_the_rules_see_skips_and_the_fake() -> None:
    finder = doctest.DocTestFinder()

    def booting() -> None:
        """>>> from ordercloud_tracking.testing import FakeOrderCloud"""

    (test,) = finder.find(booting, "booting", globs={})
    assert _boots_the_fake(test)
    assert _skips(">>> 1  # doctest: " + "+SKIP")
    assert _core("ordercloud_tracking.provisioning")
    assert not _core("ordercloud_tracking.testing.fake")


@pytest.mark.parametrize("module_name", _all_modules())
def test_module_doctests(module_name: str) -> None:
    result = doctest.testmod(_module(module_name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} example(s) of {module_name} failed"
