"""Certificate codes: unguessable, easy to read aloud, forgiving to type.

A code is a three-letter partner prefix and 16 Crockford base32 characters
(80 bits from ``secrets``) in groups of four: ``ZTE-7K3M-9QXA-2WPD-H4TR``.
Crockford's alphabet has no I, L, O or U, so a code read off paper survives
the usual confusions: on input, O is read as 0 and I/L as 1, case, dashes
and spaces don't matter.
"""

from __future__ import annotations

import re
import secrets

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_CHARS = 16  # 16 x 5 bits = 80 bits of randomness
GROUP = 4
PREFIXES = {"zte-ict": "ZTE", "alibaba-ecommerce": "ALI"}

# The canonical stored form of a generated code.
CODE_PATTERN = re.compile(r"[A-Z]{3}(?:-[0-9A-HJKMNP-TV-Z]{4}){4}")

_SEPARATORS = re.compile(r"[\s\-]+")
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_MAX_INPUT = 64


def prefix_for(programme_code: str) -> str:
    """ZTE for zte-ict, ALI for alibaba-ecommerce, else the code's first three letters."""
    known = PREFIXES.get(programme_code)
    if known:
        return known
    letters = "".join(c for c in programme_code.upper() if "A" <= c <= "Z")
    return (letters + "XXX")[:3]


def group(chars: str) -> str:
    return "-".join(chars[i : i + GROUP] for i in range(0, len(chars), GROUP))


def generate(programme_code: str) -> str:
    """A fresh code in canonical form."""
    body = "".join(secrets.choice(CROCKFORD) for _ in range(RANDOM_CHARS))
    return f"{prefix_for(programme_code)}-{group(body)}"


def candidates(raw: str) -> list[str]:
    """The stored forms ``raw`` may denote (empty when it cannot be a code).

    The first candidate is the canonical form of a generated code; the others
    cover codes stored in another grouping (imported or legacy codes).
    """
    if len(raw) > _MAX_INPUT:
        return []
    compact = _SEPARATORS.sub("", raw).upper()
    if len(compact) < 4 or not compact.isascii() or not compact.isalnum():
        return []
    prefix, body = compact[:3], compact[3:].translate(_CONFUSABLE)
    if not prefix.isalpha():
        return []
    found: list[str] = []
    if all(c in CROCKFORD for c in body):
        found.append(f"{prefix}-{group(body)}")
        found.append(f"{prefix}-{body}")
    exact = raw.strip().upper()
    if exact not in found:
        found.append(exact)
    return found


def canonical(raw: str) -> str | None:
    """The canonical form of a well-formed generated code, else None."""
    found = candidates(raw)
    if found and CODE_PATTERN.fullmatch(found[0]):
        return found[0]
    return None
