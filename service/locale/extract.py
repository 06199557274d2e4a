"""The Babel extractor of this service's messages (``babel.cfg``; ``make messages-extract``).

It yields what Babel's own Python extractor finds (``msg("id", "English")`` calls, the id
as gettext context) and, beside them, every problem class's title: a class body that sets
``slug`` and ``title`` (``status, title, slug = 409, "Conflict", "conflict"``) declares
the message ``title.<slug>`` (:class:`service.core.errors.ServiceError` derives it).
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import IO, Any

from babel.messages.extract import extract_from_dir, extract_python
from babel.messages.frontend import parse_mapping_cfg

# As in the Makefile's `pybabel extract -k msg:1c,2 -k t:2c,3`: the id is the context.
KEYWORDS: dict[str, Any] = {"msg": ((1, "c"), 2), "t": ((2, "c"), 3)}
MAPPING_FILE = Path(__file__).resolve().parents[2] / "babel.cfg"

# (line, function name, message or (context, message), comments), as Babel's extractors yield.
Extracted = tuple[Any, ...]


def extract(
    fileobj: IO[bytes],
    keywords: Any,
    comment_tags: Collection[str],
    options: Any,
) -> Iterator[Extracted]:
    source = fileobj.read()
    fileobj.seek(0)
    for lineno, funcname, messages, comments in extract_python(
        fileobj, keywords, comment_tags, options
    ):
        # A message whose id is not a literal cannot be extracted (tests name it).
        if isinstance(messages, tuple) and messages and messages[0] is None:
            continue
        yield lineno, funcname, messages, comments
    yield from _titles(ast.parse(source))


def _constants(node: ast.stmt) -> Iterator[tuple[str, object]]:
    if not isinstance(node, ast.Assign) and not isinstance(node, ast.AnnAssign):
        return
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    value = node.value
    for target in targets:
        if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
            yield target.id, value.value
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            for name, item in zip(target.elts, value.elts, strict=False):
                if isinstance(name, ast.Name) and isinstance(item, ast.Constant):
                    yield name.id, item.value


def _titles(tree: ast.Module) -> Iterator[Extracted]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        found = dict(pair for stmt in node.body for pair in _constants(stmt))
        title, slug = found.get("title"), found.get("slug")
        if isinstance(title, str) and isinstance(slug, str):
            template = title.replace("{", "{{").replace("}", "}}")
            yield node.lineno, "msg", (f"title.{slug}", template), []


def messages(root: str) -> dict[tuple[str, str], list[str]]:
    """Every (id, English template) under ``root``, with where it is written."""
    with MAPPING_FILE.open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)  # type: ignore[no-untyped-call]
    found: dict[tuple[str, str], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        root, method_map, options_map, keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True
    ):
        if context and isinstance(message, str):
            found.setdefault((context, message), []).append(f"{filename}:{lineno}")
    return found
