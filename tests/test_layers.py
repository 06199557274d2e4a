"""Imports between domain folders: no cycles; seats sit below the domains that use them."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SERVICE = Path(__file__).resolve().parent.parent / "service"


def folder_imports() -> dict[str, set[str]]:
    """For each folder of ``service/``, the other folders its modules import."""
    folders = {p.name for p in SERVICE.iterdir() if (p / "__init__.py").exists()}
    graph: dict[str, set[str]] = defaultdict(set)
    for path in SERVICE.rglob("*.py"):
        source = path.relative_to(SERVICE).parts[0]
        if source not in folders:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                inner = len(parts) > 1 and parts[0] == "service" and parts[1] in folders
                if inner and parts[1] != source:
                    graph[source].add(parts[1])
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle between folders, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for target in sorted(graph.get(node, ())):
            found = visit(target, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


def test_no_import_cycle_between_domain_folders() -> None:
    assert cycle(folder_imports()) is None


def test_the_cycle_finder_finds_one() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_seats_sit_below_the_domains_that_move_them() -> None:
    graph = folder_imports()
    assert graph["seats"] <= {"core", "models"}
    for domain in ("cohorts", "enrollments", "completions"):
        assert "seats" in graph[domain]
    assert "enrollments" not in graph["cohorts"]
    assert "cohorts" not in graph["enrollments"]
