"""Accept-Language → en or ur; bidi isolates (pure functions, no database)."""

from __future__ import annotations

from service.core.i18n import LRI, PDI, isolate_ltr, negotiate, outside_isolates


def test_accept_language_with_quality_values() -> None:
    cases = {
        None: "en",
        "": "en",
        "ur": "ur",
        "ur-PK": "ur",
        "UR-pk": "ur",
        "en": "en",
        "fr": "en",
        "fr, ur;q=0.5": "ur",  # the only one of the two named
        "ur;q=0.5, en": "en",
        "en;q=0.4, ur-PK;q=0.8": "ur",
        "en-GB, ur;q=0.9": "en",
        "ur, en": "ur",  # equal quality: the first listed
        "en, ur": "en",
        "ur;q=0": "en",  # q=0: not acceptable
        "fr, ur;q=0, *;q=0.1": "en",
        "*": "en",
        "ur;q=bogus, en;q=0.1": "en",
        "ur-Arab-PK;q=0.9, en-US;q=0.8": "ur",
    }
    for header, language in cases.items():
        assert negotiate(header) == language, header


def test_ltr_runs_are_isolated() -> None:
    text = isolate_ltr("شناختی کارڈ نمبر (CNIC) 13 ہندسوں کا ہوتا ہے، a@b.pk لکھیں۔")
    assert f"({LRI}CNIC{PDI})" in text
    assert f"{LRI}13{PDI}" in text
    assert f"{LRI}a@b.pk{PDI}" in text
    assert isolate_ltr(text) == text  # idempotent
    assert outside_isolates(text).count("A") == 0
    # A run of several LTR words is one isolate; sentence punctuation stays outside.
    assert isolate_ltr("ہے: 03XX XXXXXXX.") == f"ہے: {LRI}03XX XXXXXXX{PDI}."
