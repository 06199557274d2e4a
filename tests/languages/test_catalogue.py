"""Every message has an id and an Urdu translation; no problem is raised with bare text.

When one of these fails, it names what is missing: add the message as CONTRIBUTING.md
("Messages in English and Urdu") says, then `make messages-update` and translate.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

from babel.messages.pofile import read_po

import service.main
from service.core import i18n
from service.core.errors import ServiceError
from service.core.i18n import Msg
from service.locale.extract import messages

SERVICE = Path(service.main.__file__).resolve().parent
REQUIRED_CODES = {"cnic.invalid", "phone.not_mobile", "age.out_of_range"}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _urdu_catalogue() -> dict[tuple[str | None, str], tuple[str, bool]]:
    with i18n.catalogue_path("ur").open("rb") as po:
        catalog = read_po(po, locale="ur")
    return {
        (m.context, m.id): (m.string, m.fuzzy)
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str)
    }


def test_every_message_id_has_an_urdu_translation() -> None:
    found = messages(str(SERVICE))
    assert {code for code, _ in found} >= REQUIRED_CODES
    urdu = _urdu_catalogue()
    problems = []
    for (code, template), where in sorted(found.items()):
        text, fuzzy = urdu.get((code, template), ("", False))
        if not text or fuzzy:
            state = "fuzzy" if fuzzy else "missing"
            problems.append(f"{code} ({state}): {template!r} at {where[0]}")
        elif not _fields(text) <= _fields(template):
            problems.append(f"{code}: the Urdu uses fields {_fields(text) - _fields(template)}")
    assert not problems, "messages without an Urdu translation (make messages-update):\n" + (
        "\n".join(problems)
    )


def test_every_translation_is_urdu_with_ltr_runs_isolated() -> None:
    for (code, template), (text, _) in _urdu_catalogue().items():
        if code is None or not text:
            continue
        params = dict.fromkeys(_fields(template), "X-1 a@b.pk")
        rendered = Msg(code, template, **params).render("ur")
        assert rendered is not None, code
        assert re.search("[\u0600-\u06ff]", rendered), f"{code}: not Urdu: {rendered!r}"
        assert not re.search("[A-Za-z0-9]", i18n.outside_isolates(rendered)), (code, rendered)


def _problem_classes() -> list[type[ServiceError]]:
    seen: list[type[ServiceError]] = [ServiceError]
    for cls in seen:
        seen.extend(c for c in cls.__subclasses__() if c not in seen)
    return seen


def test_every_problem_title_has_an_id_and_a_translation() -> None:
    missing = [
        f"{cls.__module__}.{cls.__qualname__}: title {cls.title!r} (id title.{cls.slug})"
        for cls in _problem_classes()
        if not isinstance(cls.title, Msg) or cls.title.render("ur") is None
    ]
    assert not missing, "problem titles without an Urdu translation:\n" + "\n".join(missing)


# --- problems raised with bare text -----------------------------------------------------

_PROBLEM_NAMES = {cls.__name__ for cls in _problem_classes()} | {"InvalidTransition"}
# Pydantic validators: a ValueError's text would reach the client with no id.
_VALIDATOR_FILES = ("schemas.py", "normalise.py", "fields.py")


def _bare(node: ast.expr | None) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _bare_texts(tree: ast.AST, path: Path) -> list[str]:
    out = []
    for node in ast.walk(tree):
        # errors["field"] = "..." (a dict of field errors built up before raising)
        if isinstance(node, ast.Assign) and _bare(node.value):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and _name(target.value) == "errors":
                    out.append(f"{path.relative_to(SERVICE.parent)}:{node.lineno}: bare text")
        if not isinstance(node, ast.Call):
            continue
        name, where = _name(node.func), f"{path.relative_to(SERVICE.parent)}:{node.lineno}"
        if name in _PROBLEM_NAMES:
            texts = [*node.args[:1], *(k.value for k in node.keywords if k.arg == "detail")]
            values = [v for a in node.args[:1] if isinstance(a, ast.Dict) for v in a.values]
            if any(_bare(t) for t in [*texts, *values]):
                out.append(f"{where}: {name}(...) with bare text")
        if name == "FieldError" and any(
            k.arg == "message" and _bare(k.value) for k in node.keywords
        ):
            out.append(f"{where}: FieldError(message=...) with bare text")
        if name == "ValueError" and path.name in _VALIDATOR_FILES:
            out.append(f"{where}: a validator raises ValueError; raise MessageError(msg(...))")
    return out


def test_no_problem_is_raised_without_a_message_id() -> None:
    found = []
    for path in sorted(SERVICE.rglob("*.py")):
        found += _bare_texts(ast.parse(path.read_text(), str(path)), path)
    assert not found, "problems with text but no message id (wrap it in msg(...)):\n" + (
        "\n".join(found)
    )


def test_every_code_is_documented() -> None:
    documented = (SERVICE.parent / "docs" / "api.md").read_text()
    undocumented = sorted(
        {
            code
            for code, _ in messages(str(SERVICE))
            if not code.startswith(("title.", "page.", "word.", "words."))
            and f"| `{code}` |" not in documented
        }
    )
    assert not undocumented, "codes missing from the table in docs/api.md (Languages):\n" + (
        "\n".join(undocumented)
    )
