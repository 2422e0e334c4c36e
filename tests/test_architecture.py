"""The import contract: layers import only downwards, and the core stays pure.

contract ← core ← io, settings ← (pipeline, launch, check, demo) ← flows ← cli (the front door runs the flow).
Every import is read from the source, those inside functions included, so a lazy import cannot slip past.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.imports import imported_modules

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ftap_pipeline"

#: Rank of each layer: a module may import its own layer and those of a lower rank only.
LAYERS = {"contract": 0, "core": 1, "io": 2, "settings": 2, "collector": 2, "pipeline": 3, "launch": 3, "check": 3, "demo": 3,
          "flows": 4, "cli": 5, "lean_imports": 5, "__main__": 5}
#: Third-party or standard modules that have no place in the pure layers.
IMPURE = ("prefect", "xlsxwriter", "openpyxl", "python_calamine", "smtplib", "subprocess", "multiprocessing",
          "concurrent", "socket", "zipfile", "shutil", "tempfile")


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0] == "__init__":
            continue
        yield parts[0], path
    for path in sorted((ROOT / "flows").rglob("*.py")):
        yield "flows", path


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "flows":
        return "flows"
    if parts[0] == "ftap_pipeline" and len(parts) > 1:
        return parts[1] if parts[1] in LAYERS else None
    return None


MODULES = list(_modules())


@pytest.mark.parametrize(("layer", "path"), MODULES, ids=[str(p.relative_to(ROOT)) for _, p in MODULES])
def test_no_layer_imports_upwards(layer: str, path: Path) -> None:
    upward = [m for m in imported_modules(path) if (target := _layer_of(m)) is not None and LAYERS[target] > LAYERS[layer]]
    assert upward == [], f"{path.relative_to(ROOT)} ({layer}) imports a higher layer: {upward}"


@pytest.mark.parametrize(("layer", "path"), [(lay, p) for lay, p in MODULES if lay in ("contract", "core")],
                         ids=[str(p.relative_to(ROOT)) for lay, p in MODULES if lay in ("contract", "core")])
def test_pure_layers_import_no_side_effect_library(layer: str, path: Path) -> None:
    impure = [m for m in imported_modules(path) if m.split(".")[0] in IMPURE]
    assert impure == [], f"{path.relative_to(ROOT)} ({layer}) imports {impure}"


def test_the_contract_imports_no_other_layer() -> None:
    for layer, path in MODULES:
        if layer == "contract":
            others = {_layer_of(m) for m in imported_modules(path)} - {None, "contract"}
            assert not others, f"{path.relative_to(ROOT)} imports {others}"


def test_the_contract_sees_every_module() -> None:
    """A new top-level module must be given a layer, or the rules above would not apply to it."""
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in PACKAGE.iterdir()
            if p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists())}
    assert tops - {"__init__"} <= set(LAYERS), tops - set(LAYERS)


def test_the_rules_catch_a_violation(tmp_path: Path) -> None:
    """The checker itself can fail: an upward import written in a core module is found."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f() -> None:\n    from ftap_pipeline.io import intake\n    import prefect\n")
    found = list(imported_modules(bad))
    assert "ftap_pipeline.io" in found
    assert "prefect" in found
    assert _layer_of("ftap_pipeline.io") == "io"
