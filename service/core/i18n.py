"""Messages in English and Urdu: gettext catalogues (managed with Babel), Accept-Language, bidi.

A message is written once, in English, with its stable id as gettext context::

    raise NotFound(msg("applicant.not_found", "No applicant with this id."))
    ValidationFailed({"capacity": msg("capacity.below_seats", "Below {taken} seats.", taken=n)})

``msg`` returns a :class:`Msg`: a ``str`` (the English text, so every existing use of a
detail keeps working) that also carries its id, its template and its parameters. The
problem handler renders it in the language the client negotiated; the Urdu text comes
from ``service/locale/ur/LC_MESSAGES/messages.po`` (context = id, msgid = the English
template). Templates use ``str.format`` fields (``{name}``), always formatted, so a
literal brace is written ``{{``. A parameter that is itself a :class:`Msg` is translated
too. In Urdu every left-to-right run (numbers, CNICs, codes, e-mail addresses, field
names) is wrapped in Unicode isolates (LRI … PDI) so it displays left to right.
"""

from __future__ import annotations

import functools
import io
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

Language = Literal["en", "ur"]
LANGUAGES: tuple[Language, ...] = ("en", "ur")
DEFAULT_LANGUAGE: Language = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
logger = logging.getLogger(__name__)

LRI, FSI, PDI = "\u2066", "\u2068", "\u2069"
# Arabic-script letters and punctuation (Urdu), and the isolate controls themselves.
_RTL = "\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff"
_ISOLATED = re.compile(f"[{LRI}\u2067{FSI}][^{PDI}]*{PDI}")
# Brackets stay outside (neutral, they mirror in right-to-left text): "(⁦CNIC⁩)".
_TOKEN = f"[^\\s(){{}}\\[\\]{_RTL}{LRI}\u2067{FSI}{PDI}]+"
_LTR_RUN = re.compile(f"{_TOKEN}(?: {_TOKEN})*")
_STRONG_LTR = re.compile("[A-Za-z0-9]")
_EDGE_PUNCTUATION = ".,;:!? "


class Msg(str):
    """English text that knows its message id (``code``), template and parameters."""

    code: str
    template: str
    params: dict[str, Any]

    def __new__(cls, code: str, template: str, /, **params: Any) -> Msg:
        self = super().__new__(cls, template.format(**params))
        self.code = code
        self.template = template
        self.params = params
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.code, self.template, self.params))

    def render(self, language: Language) -> str | None:
        """The text in ``language``; ``None`` when the catalogue lacks a translation."""
        if language == "en":
            return str(self)
        translated = translation(language, self.code, self.template)
        if translated is None:
            return None
        params: dict[str, Any] = {}
        for name, value in self.params.items():
            if isinstance(value, Msg):
                value = value.render(language)
                if value is None:
                    return None
            params[name] = value
        return isolate_ltr(translated.format(**params))


def _rebuild(code: str, template: str, params: dict[str, Any]) -> Msg:
    return Msg(code, template, **params)


def msg(code: str, template: str, /, **params: Any) -> Msg:
    """A message with its stable id (``cnic.invalid``); extracted by ``make messages-extract``."""
    return Msg(code, template, **params)


def render(text: str, language: Language) -> str | None:
    """``text`` in ``language``: a plain ``str`` has no id, so it has no translation."""
    if isinstance(text, Msg):
        return text.render(language)
    return text if language == "en" else None


# --- catalogues ---------------------------------------------------------------------


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _translations(language: str) -> Translations:
    """The compiled catalogue: the ``.mo`` built by ``make messages-compile`` when it is
    current, else compiled in memory from the ``.po`` (a checkout or wheel without it)."""
    po = catalogue_path(language)
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as compiled:
            return Translations(compiled, domain=DOMAIN)
    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as msgfmt does
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def translation(language: str, code: str, template: str) -> str | None:
    """The catalogue's text for (id, English template), or ``None`` when it has none."""
    found = str(_translations(language).pgettext(code, template))
    return None if found == template else found


# --- Accept-Language ----------------------------------------------------------------


def negotiate(header: str | None) -> Language:
    """Urdu when ``ur`` (any region) ranks above ``en``, or is the only one of the two
    named with q > 0; English otherwise. Equal quality: the one listed first wins."""
    if not header:
        return DEFAULT_LANGUAGE
    best: dict[str, tuple[float, int]] = {}
    for position, part in enumerate(header.split(",")):
        tag, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        primary = tag.lower().split("-")[0]
        if primary not in ("en", "ur", "*"):
            continue
        rank = (q, -position)
        if primary not in best or rank > best[primary]:
            best[primary] = rank
    star = best.get("*")
    ur = best.get("ur", star)
    en = best.get("en", star)
    if ur is None or ur[0] <= 0:
        return DEFAULT_LANGUAGE
    if en is None or ur > en:
        return "ur"
    return DEFAULT_LANGUAGE


def scope_language(scope: Mapping[str, Any]) -> Language:
    """The language an ASGI request negotiates (for middleware that answers by itself)."""
    for name, value in scope.get("headers", ()):
        if name == b"accept-language":
            return negotiate(value.decode("latin-1"))
    return DEFAULT_LANGUAGE


# --- bidi ---------------------------------------------------------------------------


def _wrap(found: re.Match[str]) -> str:
    run = found.group(0)
    if not _STRONG_LTR.search(run):
        return run
    core = run.strip(_EDGE_PUNCTUATION)
    start = run.index(core)
    return f"{run[:start]}{LRI}{core}{PDI}{run[start + len(core) :]}"


def isolate_ltr(text: str) -> str:
    """Wrap every left-to-right run of ``text`` (outside existing isolates) in LRI … PDI."""
    out: list[str] = []
    last = 0
    for done in _ISOLATED.finditer(text):
        out.append(_LTR_RUN.sub(_wrap, text[last : done.start()]))
        out.append(done.group(0))
        last = done.end()
    out.append(_LTR_RUN.sub(_wrap, text[last:]))
    return "".join(out)


def outside_isolates(text: str) -> str:
    """``text`` without its isolated runs (tests: what remains must hold no LTR letter)."""
    return _ISOLATED.sub("", text)


# --- what has no id or no translation -----------------------------------------------

# Texts answered without a message id or a translation, as "where: text" (bounded).
# The test suite fails a test that produced one (tests/conftest.py); a server logs them.
MISSING: list[str] = []
_MISSING_LIMIT = 1000


def note_missing(text: str, *, status: int, slug: str | None) -> None:
    what = f"[{text.code}] " if isinstance(text, Msg) else "(no message id) "
    entry = f"{status} {slug or ''}: {what}{text!s}"
    if len(MISSING) < _MISSING_LIMIT and entry not in MISSING:
        MISSING.append(entry)
        logger.warning("problem text without a translation: %s", entry)


def either(values: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``: the alternatives, in the message's language."""
    if len(values) == 1:
        return values[0]
    return msg("words.or", "{first} or {last}", first=", ".join(values[:-1]), last=values[-1])
