"""The fake's layout stays navigable (issue 11 §1): small modules, no reaching into another module's privates,
and adapters (the loopback server, the pytest plugin) that use only the fake's public API."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ordercloud_tracking.testing

PACKAGE = Path(ordercloud_tracking.testing.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))


def private_imports(source: str) -> list[str]:
    """``from x import _name`` in ``source`` (``from . import _module`` imports a sibling module: allowed)."""
    return [
        f"{node.module}.{alias.name}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom)
        if node.module is not None
        for alias in node.names
        if alias.name.startswith("_")
    ]


def private_accesses(source: str) -> list[str]:
    """``thing._name`` in ``source``, for anything but ``self`` (dunders allowed)."""
    return [
        ast.unparse(node)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id == "self")
    ]


@pytest.mark.parametrize("path", MODULES, ids=[path.name for path in MODULES])
def test_no_module_of_the_fake_is_over_500_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500


@pytest.mark.parametrize("path", MODULES, ids=[path.name for path in MODULES])
def test_no_module_imports_another_modules_private_names(path: Path) -> None:
    assert private_imports(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("name", ["server.py", "plugin.py"])
def test_the_adapters_touch_nothing_private(name: str) -> None:
    assert private_accesses((PACKAGE / name).read_text(encoding="utf-8")) == []


def test_the_checks_see_private_access() -> None:
    sample = "from ._api import _fail, dumps\nfrom . import _oauth\nfake._journal(request)\nself._send(response)\nfake.__class__\n"
    assert private_imports(sample) == ["_api._fail"]
    assert private_accesses(sample) == ["fake._journal"]
