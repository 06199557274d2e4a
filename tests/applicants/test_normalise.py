"""Property tests for the CNIC and phone normalisers."""

from __future__ import annotations

import re
import string
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.applicants.normalise import age_on, normalise_cnic, normalise_phone

CANONICAL_CNIC = re.compile(r"^\d{5}-\d{7}-\d$")
digits13 = st.text(alphabet=string.digits, min_size=13, max_size=13)
separators = st.sampled_from(["", "-", " ", "  ", " - "])


@given(digits13, separators, separators)
def test_cnic_spelling_normalises_to_canonical(digits: str, sep1: str, sep2: str) -> None:
    spelled = f"{digits[:5]}{sep1}{digits[5:12]}{sep2}{digits[12]}"
    result = normalise_cnic(spelled)
    assert CANONICAL_CNIC.match(result)
    assert result.replace("-", "") == digits
    assert normalise_cnic(result) == result  # idempotent


@given(st.text(alphabet=string.digits + "- ", max_size=30))
def test_cnic_accepts_exactly_thirteen_digits(text: str) -> None:
    digits = [c for c in text if c.isdigit()]
    if len(digits) == 13:
        assert normalise_cnic(text).replace("-", "") == "".join(digits)
    else:
        with pytest.raises(ValueError, match="13 digits"):
            normalise_cnic(text)


@given(st.text(max_size=20).filter(lambda t: any(c not in string.digits + "- \t\u00a0" for c in t)))
def test_cnic_refuses_other_characters(text: str) -> None:
    if all(c.isdecimal() or c in "- \t\u00a0" for c in text.strip()):
        return  # other scripts' digits are accepted
    with pytest.raises(ValueError, match="13 digits"):
        normalise_cnic(text)


# Operator prefixes phonenumbers knows as mobile (Jazz, Zong, Telenor, Ufone, SCO).
operators = st.sampled_from(["300", "301", "311", "321", "331", "345", "355", "364"])
subscriber = st.text(alphabet=string.digits, min_size=7, max_size=7)


@given(
    operators,
    subscriber,
    st.sampled_from(
        ["0{o}{s}", "0{o} {s}", "0{o}-{s}", "+92 {o} {s}", "92{o}{s}", "+92-{o}-{s}", "0092{o}{s}"]
    ),
)
def test_phone_spellings_normalise_to_e164(op: str, sub: str, form: str) -> None:
    spelled = form.format(o=op, s=sub)
    result = normalise_phone(spelled)
    assert result == f"+92{op}{sub}"
    assert normalise_phone(result) == result  # idempotent


@given(st.text(max_size=20))
def test_phone_result_is_always_pakistani_mobile_or_error(text: str) -> None:
    try:
        result = normalise_phone(text)
    except ValueError:
        return
    assert re.fullmatch(r"\+923\d{9}", result)


@given(st.dates(max_value=date(2100, 1, 1)), st.integers(min_value=0, max_value=100))
def test_age_on_birthdays(born: date, years: int) -> None:
    try:
        birthday = born.replace(year=born.year + years)
    except ValueError:  # 29 February: the birthday is on 1 March
        birthday = date(born.year + years, 3, 1)
    assert age_on(born, birthday) == years
    if years:
        assert age_on(born, birthday - timedelta(days=1)) == years - 1
