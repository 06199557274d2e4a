"""How two spellings of a district are compared: the matching key.

``key("  D.G. Khan District ")`` == ``key("dg khan")`` == ``"dgkhan"``. The key
ignores letter case, accents and Urdu diacritics, punctuation, spacing and a
leading or trailing "District" / "Distt." / "ضلع"; Arabic-script letters that
Urdu writers type interchangeably (Arabic ي/ى and Urdu ی, ك and ک, ه and ہ, ة
and ۃ) are folded to one. Everything else must match exactly: deciding that
two *different* texts are one district is the fuzzy search's job, and it only
suggests.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Words that say "district" around a name, in the spellings partner files use.
_DISTRICT_WORDS = ("district", "distt", "dist", "dt", "zila", "zilla", "ضلع")
_EDGE = re.compile(rf"^(?:{'|'.join(_DISTRICT_WORDS)})\s+|\s+(?:{'|'.join(_DISTRICT_WORDS)})$")
_NOT_WORD = re.compile(r"[^\w]+|_")
_FOLD = str.maketrans(
    {
        "ي": "ی",  # Arabic yeh → Farsi/Urdu yeh
        "ى": "ی",  # alef maksura
        "ك": "ک",  # Arabic kaf → keheh
        "ه": "ہ",  # heh → heh goal
        "ة": "ہ",  # teh marbuta
        "ۃ": "ہ",
        "ۀ": "ہ",
        "ە": "ہ",
        "\u200c": None,  # zero-width non-joiner
        "\u200d": None,  # zero-width joiner
        "ـ": None,  # tatweel
    }
)


def words(text: str) -> str:
    """``text`` as lower-case words separated by single spaces, "District" removed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_FOLD)
    spaced = " ".join(_NOT_WORD.sub(" ", bare).split())
    while True:
        trimmed = _EDGE.sub("", spaced)
        if trimmed == spaced or not trimmed:
            return spaced
        spaced = trimmed


# Partner apps send the same few spellings over and over: each is normalised once.
@functools.lru_cache(maxsize=8192)
def key(text: str) -> str:
    """The matching key: :func:`words` without the spaces ("Pak Pattan" is "Pakpattan")."""
    return words(text).replace(" ", "")
