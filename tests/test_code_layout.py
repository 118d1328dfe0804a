"""The layout rules of docs/architecture.md, checked on the source so they stay true.

* The engine (``detectors``) never imports Home Assistant or the integration, and the
  integration never imports the engine: they meet only at the documented API, whose
  contract test is tests/detectors/protocol/.
* No class grows past about 300 lines (issue 16): a class that large owns more than one
  concern, and the change map can no longer name "the one file" for a change.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "detectors"
INTEGRATION = ROOT / "custom_components" / "school_guard"
MAX_CLASS_LINES = 310
""""About 300": the largest class today is 302 lines."""


def _modules(package: Path) -> list[Path]:
    return sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)


def _imported(path: Path) -> set[str]:
    """Top-level package of every import in the module (relative imports left out)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [(ENGINE, {"homeassistant", "custom_components"}), (INTEGRATION, {"detectors"})],
    ids=["engine", "integration"],
)
def test_the_engine_and_the_integration_never_import_each_other(
    package: Path, forbidden: set[str]
) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported(path) & forbidden)
        for path in _modules(package)
        if _imported(path) & forbidden
    }
    assert offenders == {}


def test_no_class_is_over_about_300_lines() -> None:
    sizes = {
        f"{path.relative_to(ROOT)}:{node.name}": (node.end_lineno or node.lineno) - node.lineno + 1
        for package in (ENGINE, INTEGRATION)
        for path in _modules(package)
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.ClassDef)
    }
    assert sizes, "no classes found: the paths are wrong"
    assert {name: n for name, n in sizes.items() if n > MAX_CLASS_LINES} == {}
