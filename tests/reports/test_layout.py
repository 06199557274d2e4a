"""The reports' layout: imports flow one way, one column list, modules by concept."""

from __future__ import annotations

import ast
from pathlib import Path

from service.reports.repository.export import SHAPED, SQL_CELLS, columns
from service.reports.service.export import CELLS

ROOT = Path(__file__).resolve().parents[2] / "service"


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, deferred (function-level) imports included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_reports_never_import_the_top_level_cli() -> None:
    for path in (ROOT / "reports").rglob("*.py"):
        assert "service.cli" not in imported_modules(path), path
    assert "service.reports.cli" in imported_modules(ROOT / "cli.py")


def test_modules_stay_small() -> None:
    for path in (ROOT / "reports").rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 400, path


def test_both_export_paths_format_the_same_columns() -> None:
    names = columns(full=True)
    assert len(set(names)) == len(names)
    assert set(CELLS) == set(SQL_CELLS) == set(names)
    assert set(names) > SHAPED
    assert not SHAPED & {"full_name", "email", "phone", "district", "track", "cohort", "cnic"}
    assert columns(full=False) == names[: len(names) - 3]
