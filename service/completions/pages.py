"""The certificate verification page: HTML for a browser, printable, no token."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from babel.dates import format_date
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from service.completions import certificates
from service.core.db import SessionDep
from service.core.i18n import Language, Msg

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# Every page shows English and Urdu side by side (docs/api.md "Languages").
PAGE_LANGUAGES: tuple[Language, ...] = ("en", "ur")


def _text(language: Language, code: str, template: str, /, **params: Any) -> str:
    """A page text in ``language``, from the catalogue (extracted as ``t:2c,3``)."""
    message = Msg(code, template, **params)
    return message.render(language) or str(message)


def _dir(language: Language) -> str:
    return "rtl" if language == "ur" else "ltr"


def _dates(day: date) -> dict[str, str]:
    """ISO, and as each language writes it (CLDR, through Babel): 2 December 2026, 2 دسمبر 2026."""
    written: dict[str, str] = {"iso": day.isoformat()}
    for lang in PAGE_LANGUAGES:
        written[lang] = format_date(day, "d MMMM y", locale=lang)
    return written


_templates.globals.update(t=_text, dir=_dir)


def wants_html(accept: str | None) -> bool:
    """True when the client prefers HTML to JSON (a browser); */* alone means JSON."""
    if not accept:
        return False
    html_q = json_q = 0.0
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        if media in ("text/html", "application/xhtml+xml"):
            html_q = max(html_q, q)
        elif media in ("application/json", "application/problem+json"):
            json_q = max(json_q, q)
    return html_q > 0 and html_q >= json_q


def _html(template: str, status: int, **context: Any) -> HTMLResponse:
    body = _templates.get_template(template).render(**context)
    headers = {**SECURITY_HEADERS, "Content-Language": ", ".join(PAGE_LANGUAGES)}
    return HTMLResponse(body, status_code=status, headers=headers)


async def verification_page(session: SessionDep, code: str) -> HTMLResponse:
    try:
        record = await certificates.lookup(session, code)
    except certificates.CertificateNotFound:
        return _html("not_found.html", 404)
    cert = record.certificate
    if cert.revoked_at is not None:
        return _html(
            "revoked.html",
            410,
            code=cert.code,
            reason=cert.revoked_reason or "",
            revoked_on=_dates(cert.revoked_at.date()),
        )
    facts = certificates.verification(record)
    return _html(
        "certificate.html",
        200,
        c=facts,
        completed_on=_dates((facts.completed_at or facts.issued_at).date()),
    )
