"""The ``ordercloud_tracking.models`` package: every model by name, each submodule loaded only when needed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from ordercloud_tracking import models
from ordercloud_tracking.models import commerce, delivery, tracking


def _loaded_model_modules(code: str) -> list[str]:
    script = textwrap.dedent(code) + textwrap.dedent(
        """
        import json, sys
        print(json.dumps(sorted(m for m in sys.modules if m.startswith("ordercloud_tracking.models."))))
        """
    )
    result = subprocess.run(  # noqa: S603 - runs this interpreter on a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_a_model_loads_only_its_submodule() -> None:
    loaded = _loaded_model_modules("from ordercloud_tracking.models import TrackingEvent")
    assert loaded == ["ordercloud_tracking.models._base", "ordercloud_tracking.models.tracking"]


def test_probing_a_private_or_unknown_name_loads_no_model() -> None:
    loaded = _loaded_model_modules(
        """
        from ordercloud_tracking import models
        assert not hasattr(models, "__wrapped__")
        assert not hasattr(models, "_private")
        """
    )
    assert loaded == []


def test_star_import_and_dir_give_every_model() -> None:
    names = sorted({*commerce.__all__, *delivery.__all__, *tracking.__all__})
    namespace: dict[str, object] = {}
    exec("from ordercloud_tracking.models import *", namespace)  # noqa: S102 - a fixed statement
    assert sorted(name for name in namespace if name != "__builtins__") == names
    assert set(names) <= set(dir(models))
