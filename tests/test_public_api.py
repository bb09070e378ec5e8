"""The public surface: a sorted ``__all__`` of importable names, and a cheap, lazy ``import ordercloud_tracking``."""

from __future__ import annotations

import ast
import doctest
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import ordercloud_tracking

# DESIGN §2: these names are part of the contract.
CONTRACT = {
    "OrderCloud",
    "AsyncOrderCloud",
    "ClientCredentials",
    "PasswordGrant",
    "AnonymousGrant",
    "StaticToken",
    "decode_token",
    "DecodedToken",
    "TrackingEvent",
    "TrackingEventType",
    "DeliveryConfig",
    "DeliveryTargets",
    "ListPage",
    "Meta",
    "OrderCloudError",
    "APIError",
    "ErrorDetail",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "TokenError",
    "SignatureVerificationError",
}


def test_all_is_sorted_and_unique() -> None:
    names = ordercloud_tracking.__all__
    assert names == sorted(names)
    assert len(names) == len(set(names))


def test_all_contains_the_contract() -> None:
    assert set(ordercloud_tracking.__all__) >= CONTRACT


@pytest.mark.parametrize("name", ordercloud_tracking.__all__)
def test_every_public_name_is_importable(name: str) -> None:
    value = getattr(ordercloud_tracking, name)
    assert value is not None
    # What ``from ordercloud_tracking import <name>`` does:
    module = __import__("ordercloud_tracking", fromlist=[name])
    assert getattr(module, name) is value


def test_error_classes_share_one_root() -> None:
    for name in ordercloud_tracking.__all__:
        value = getattr(ordercloud_tracking, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, ordercloud_tracking.OrderCloudError), name


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="NoSuchThing"):
        _ = ordercloud_tracking.NoSuchThing


def test_dir_lists_the_public_names() -> None:
    assert set(ordercloud_tracking.__all__) <= set(dir(ordercloud_tracking))


def _modules_after(code: str) -> list[str]:
    script = textwrap.dedent(code) + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run(  # noqa: S603 - runs this interpreter on a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    modules: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return modules


def _heavy(modules: list[str]) -> list[str]:
    heavy_roots = ("httpx", "pydantic", "pydantic_core", "httpcore")
    lazy_parts = ("ordercloud_tracking.testing", "ordercloud_tracking.cli", "ordercloud_tracking.sitecore")
    return [
        name
        for name in modules
        if name.split(".")[0] in heavy_roots or any(name == p or name.startswith(p + ".") for p in lazy_parts)
    ]


def test_import_is_cheap() -> None:
    modules = _modules_after("import ordercloud_tracking")
    assert "ordercloud_tracking" in modules
    assert _heavy(modules) == []


def test_using_the_client_does_not_import_the_fake_cli_sitecore_or_resources() -> None:
    modules = _modules_after(
        """
        from ordercloud_tracking import OrderCloud, TrackingEvent, DeliveryConfig, decode_token
        client = OrderCloud("client-id", "client-secret")
        """
    )
    assert "httpx" in modules  # the client itself needs it
    for forbidden in ("ordercloud_tracking.testing", "ordercloud_tracking.cli", "ordercloud_tracking.sitecore"):
        assert not any(name == forbidden or name.startswith(forbidden + ".") for name in modules), forbidden
    # Resources attach on first use.
    assert "ordercloud_tracking.resources.tracking_events" not in modules
    assert "ordercloud_tracking.resources.delivery_configs" not in modules


def test_models_are_importable_from_the_models_package_lazily() -> None:
    from ordercloud_tracking import models
    from ordercloud_tracking.models import commerce, delivery, tracking

    names = sorted({*commerce.__all__, *delivery.__all__, *tracking.__all__})
    assert models.__all__ == names
    for name in names:
        home = next(m for m in (commerce, delivery, tracking) if name in m.__all__)
        assert getattr(models, name) is getattr(home, name), name
    from ordercloud_tracking.models import HttpConfig, LineItem, Order

    assert (LineItem, Order, HttpConfig) == (commerce.LineItem, commerce.Order, delivery.HttpConfig)
    with pytest.raises(AttributeError, match="NoSuchModel"):
        _ = models.NoSuchModel
    assert doctest.testmod(models) == (0, 2)  # the docstring's example runs
    # Importing the package loads no model module until a name is used.
    modules = _modules_after("import ordercloud_tracking.models")
    assert not any(name.startswith("ordercloud_tracking.models.") for name in modules)
    assert "pydantic" not in modules


# ------------------------------------------------------------------------------------ import graph

SRC = Path(ordercloud_tracking.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(
    tree: ast.Module, module: str, is_package: bool, *, type_checking: bool = False
) -> Iterator[tuple[str, list[str]]]:
    """(imported module, names) for every import in a module, functions included; those under
    ``if TYPE_CHECKING`` only when ``type_checking`` is true."""
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> Iterator[tuple[str, list[str]]]:
        if isinstance(node, ast.If) and _is_type_checking(node.test) and not type_checking:
            for statement in node.orelse:
                yield from visit(statement)
            return
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = f"{base}.{node.module}" if node.level and node.module else base if node.level else node.module
            assert target is not None
            yield target, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        for child in ast.iter_child_nodes(node):
            yield from visit(child)

    yield from visit(tree)


def _import_graph(*, type_checking: bool = False) -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for target, names in _imports(tree, name, path.name == "__init__.py", type_checking=type_checking):
            for candidate in [f"{target}.{n}" for n in names] + [target]:
                if candidate in modules and candidate != name:
                    graph[name].add(candidate)
                    break
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def _package_edges_only(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    # A package's __init__ importing its own submodules (and them importing siblings) is not a circle
    # between modules: drop edges from a submodule up to its own package.
    return {node: {t for t in targets if not node.startswith(t + ".")} for node, targets in graph.items()}


def test_no_import_cycle_inside_the_package() -> None:
    graph = _package_edges_only(_import_graph())
    assert graph["ordercloud_tracking._client"] >= {"ordercloud_tracking._base_client"}
    assert (
        "ordercloud_tracking.resources._base"
        in {m for m, targets in graph.items() if "ordercloud_tracking.models._base" in targets}
        or graph["ordercloud_tracking.resources._base"]
    )
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    tree = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import hidden\nfrom .x import y\n"
    )
    assert [t for t, _ in _imports(tree, "pkg.mod", False)] == ["typing", "pkg.x"]
    assert [t for t, _ in _imports(tree, "pkg.mod", False, type_checking=True)] == ["typing", "pkg", "pkg.x"]


def test_resources_import_the_base_client_not_the_client() -> None:
    for path in (SRC / "resources").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "from .._client import" not in text, path.name


MODULES = sorted(str(path.relative_to(SRC).with_suffix("")) for path in SRC.rglob("*.py"))


@pytest.mark.parametrize("relative", MODULES)
def test_no_module_imports_an_underscore_name_from_another_module(relative: str) -> None:
    # Shared internals have plain names in private modules; a private module itself may be imported.
    path = SRC / f"{relative}.py"
    name = _module_name(path)
    modules = {_module_name(other) for other in SRC.rglob("*.py")}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = [
        f"{target}.{imported}"
        for target, names in _imports(tree, name, path.name == "__init__.py", type_checking=True)
        if target.startswith("ordercloud_tracking")
        for imported in names
        if imported.startswith("_") and not imported.startswith("__") and f"{target}.{imported}" not in modules
    ]
    assert private == []
