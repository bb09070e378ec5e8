"""Every public wire model keeps its contract: field names and order, JSON names, types, defaults, JSON schema.

``data/wire_models.json`` is a snapshot; a difference is a change of what users send and receive. After
an intended change of a model, rewrite it with ``python -m tests.models.test_wire_snapshot`` and review
its diff.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import pytest

from ordercloud_tracking.models._base import OCModel

SNAPSHOT = Path(__file__).parent / "data" / "wire_models.json"
MODULES = (
    "ordercloud_tracking.models.commerce",
    "ordercloud_tracking.models.delivery",
    "ordercloud_tracking.models.tracking",
    "ordercloud_tracking.messages",
    "ordercloud_tracking._pagination",
)


def _models() -> dict[str, type[OCModel]]:
    for module in MODULES:
        importlib.import_module(module)
    found: dict[str, type[OCModel]] = {}
    pending: list[type[OCModel]] = [OCModel]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "[" not in cls.__name__ and not cls.__name__.startswith("_") and cls.__module__ in MODULES:
            found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


def _text(value: Any) -> str | None:
    # A repr without memory addresses (validators and serializers are functions).
    return None if value is None else re.sub(r" at 0x[0-9a-f]+", "", repr(value))


def _contract(cls: type[OCModel]) -> dict[str, Any]:
    fields = {
        name: {
            "alias": field.alias,
            "validation_alias": _text(field.validation_alias),
            "serialization_alias": field.serialization_alias,
            "annotation": _text(field.annotation),
            "metadata": [_text(item) for item in field.metadata],
            "required": field.is_required(),
            "default": None if field.is_required() else _text(field.get_default(call_default_factory=True)),
            "description": field.description,
            "json_schema_extra": _text(field.json_schema_extra),
        }
        for name, field in cls.model_fields.items()
    }
    validation, serialization = _own_schema(cls, "validation"), _own_schema(cls, "serialization")
    return {
        "fields": fields,
        "field_order": list(fields),
        "read_only_fields": sorted(getattr(cls, "read_only_fields", ())),
        "schema_validation": validation,
        "schema_serialization": None if serialization == validation else serialization,  # None: the same
    }


def _own_schema(cls: type[OCModel], mode: Literal["validation", "serialization"]) -> dict[str, Any]:
    # Nested models are checked in their own entries: their definitions are left out here.
    schema = cls.model_json_schema(mode=mode)
    schema.pop("$defs", None)
    return schema


def _snapshot() -> dict[str, Any]:
    return {name: _contract(cls) for name, cls in sorted(_models().items())}


def test_snapshot_covers_the_wire_models() -> None:
    assert {"ordercloud_tracking.models.commerce.LineItem", "ordercloud_tracking.messages.OrderSubmitted"} <= set(
        _models()
    )


def _expected() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return loaded


def test_the_same_models_as_the_snapshot() -> None:
    assert set(_models()) == set(_expected())


@pytest.mark.parametrize("name", sorted(_models()))
def test_wire_model_contract_unchanged(name: str) -> None:
    # Through JSON, so that tuples and lists compare as the snapshot stores them.
    assert json.loads(json.dumps(_contract(_models()[name]))) == _expected()[name]


def _dumps(snapshot: dict[str, Any]) -> str:
    """JSON with one line per field and per schema, so that a change shows as a short diff."""
    models = []
    for name, entry in snapshot.items():
        fields = ",\n".join(f"   {json.dumps(field)}: {json.dumps(value)}" for field, value in entry["fields"].items())
        parts = [f'  "fields": {{\n{fields}\n  }}']
        parts += [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in entry.items() if key != "fields"]
        models.append(f" {json.dumps(name)}: {{\n" + ",\n".join(parts) + "\n }")
    return "{\n" + ",\n".join(models) + "\n}\n"


if __name__ == "__main__":
    SNAPSHOT.write_text(_dumps(_snapshot()), encoding="utf-8")
