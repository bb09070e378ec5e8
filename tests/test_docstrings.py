"""Every public name is documented with an example, and the examples of every public module run.

The public names are the ``__all__`` of the modules the API reference renders. A public class or function
needs its own docstring with an example (``>>>`` doctest lines or a ``::`` literal block); each public
method, property or classmethod defined on a public class needs a docstring (an example is welcome there,
not required).
"""

from __future__ import annotations

import dataclasses
import doctest
import functools
import importlib
import inspect
from collections.abc import Mapping
from types import ModuleType

import pytest

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


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def _own_class_doc(cls: type) -> str | None:
    """The docstring written on ``cls`` itself: not inherited, not the one ``@dataclass`` generates."""
    doc = vars(cls).get("__doc__")
    if not isinstance(doc, str) or not doc.strip():
        return None
    if dataclasses.is_dataclass(cls) and doc.startswith(f"{cls.__name__}(") and "\n" not in doc:
        return None  # dataclasses fill a missing docstring with the class signature
    return doc


def _has_example(doc: str) -> bool:
    lines = doc.splitlines()
    return any(line.lstrip().startswith(">>>") for line in lines) or any(line.rstrip().endswith("::") for line in lines)


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


def offenders(objects: Mapping[str, object]) -> list[str]:
    """Every object (or member of one) missing a docstring or, for classes and functions, an example."""
    problems = []
    for path, obj in objects.items():
        doc = _own_class_doc(obj) if inspect.isclass(obj) else _doc(obj)
        if doc is None:
            problems.append(f"{path}: no docstring")
        elif not _has_example(doc):
            problems.append(f"{path}: docstring has no example")
        if inspect.isclass(obj):
            problems.extend(f"{path}.{name}: no docstring" for name, member in _members(obj) if _doc(member) is None)
    return problems


def test_public_names_have_docstrings_with_examples() -> None:
    problems = offenders(_public_objects())
    assert not problems, "missing documentation:\n" + "\n".join(problems)


def test_the_checker_sees_the_public_names() -> None:
    objects = _public_objects()
    assert len(objects) > 50
    assert "ordercloud_tracking.NotFoundError" in objects
    assert "ordercloud_tracking.provisioning.Plan" in objects
    assert "ordercloud_tracking.testing.FakeServer" in objects


def test_the_checker_finds_what_is_missing() -> None:
    @dataclasses.dataclass
    class Generated:  # @dataclass writes "Generated(size: int)" as the docstring
        size: int

    class Documented:
        """Documented, with an example.

        >>> Documented().shown
        1
        """

        @property
        def shown(self) -> int:
            """A documented property."""
            return 1

        @classmethod
        def build(cls) -> Documented:
            return cls()

        def _private(self) -> None:
            return None

    def no_example() -> None:
        """Documented, but without an example."""

    assert offenders({"Generated": Generated, "Documented": Documented, "no_example": no_example}) == [
        "Generated: no docstring",
        "Documented.build: no docstring",
        "no_example: docstring has no example",
    ]


def _doctest_modules() -> list[str]:
    """The public modules and the modules that define their names.

    ``doctest.testmod`` only collects the examples of objects defined in the module it is given, so the
    examples of a name re-exported by ``ordercloud_tracking`` (defined in ``_errors``, ``_auth`` …) run
    with its defining module.
    """
    defining = {str(getattr(obj, "__module__", "")) for obj in _public_objects().values()}
    return PUBLIC_MODULES + sorted(
        name for name in defining - set(PUBLIC_MODULES) if name.startswith("ordercloud_tracking.")
    )


@pytest.mark.parametrize("module_name", _doctest_modules())
def test_module_doctests(module_name: str) -> None:
    result = doctest.testmod(_module(module_name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} example(s) of {module_name} failed"
