"""Matching a spelling to one district, in memory (no database)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.places.matcher import Index, Place, Unmatched
from service.places.normalise import key
from service.places.seed import load_seed

INDEX = Index.build(load_seed())


def name_of(text: str, province: str | None = None) -> str:
    found = INDEX.match(text, province)
    assert isinstance(found, Place), found
    return found.name


def problems(text: str, province: str | None = None) -> dict[str, str]:
    found = INDEX.match(text, province)
    assert isinstance(found, Unmatched), found
    return {e.field: e.message for e in found.errors}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Lahore", "Lahore"),
        ("lahore", "Lahore"),
        ("  LAHORE  ", "Lahore"),
        ("Lahore District", "Lahore"),
        ("District Lahore", "Lahore"),
        ("Distt. Lahore", "Lahore"),
        ("LHR District", "Lahore"),
        ("lhr", "Lahore"),
        ("pb-lahore", "Lahore"),
        ("لاہور", "Lahore"),
        ("ضلع لاہور", "Lahore"),
        ("لاهور", "Lahore"),  # Arabic heh for Urdu heh goal
        ("DG Khan", "Dera Ghazi Khan"),
        ("D.G. Khan", "Dera Ghazi Khan"),
        ("d g khan", "Dera Ghazi Khan"),
        ("Dera-Ghazi-Khan", "Dera Ghazi Khan"),
        ("Pindi", "Rawalpindi"),
        ("Rawal Pindi", "Rawalpindi"),
        ("Nawabshah", "Shaheed Benazirabad"),
        ("D.I. Khan", "Dera Ismail Khan"),
        ("Pak Pattan", "Pakpattan"),
        ("Mirpurkhas", "Mirpur Khas"),
        ("Mirpur", "Mirpur"),
        ("Kech (Turbat)", "Kech"),
        ("اسلام آباد", "Islamabad"),
        ("Islamabad Capital Territory", "Islamabad"),
        ("South Waziristan Lower", "Lower South Waziristan"),
    ],
)
def test_any_spelling_of_one_district_is_its_canonical_name(text: str, name: str) -> None:
    assert name_of(text) == name
    place = INDEX.match(text, None)
    assert isinstance(place, Place)
    assert name_of(text, place.province) == name


def test_district_of_another_province_names_both_fields() -> None:
    errors = problems("Lahore", "sindh")
    assert set(errors) == {"district", "province"}
    assert "punjab" in errors["district"]
    assert "sindh" in errors["district"]
    assert "Lahore" in errors["province"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lahoor", ["Lahore"]),
        ("Rawlpindi", ["Rawalpindi"]),
        ("Faislabad", ["Faisalabad"]),
        ("Karachi", ["Karachi Central", "Karachi East", "Karachi South"]),
        ("Chitral", ["Lower Chitral", "Upper Chitral"]),
    ],
)
def test_unknown_district_offers_close_names(text: str, expected: list[str]) -> None:
    suggestions = INDEX.suggest(text)
    assert suggestions[: len(expected)] == expected
    assert len(suggestions) <= 3
    message = problems(text)["district"]
    assert message.startswith("Not a known district name. Did you mean: ")
    assert expected[0] in message


def test_nothing_close_offers_the_list_instead() -> None:
    assert INDEX.suggest("qqqqqqqqqq") == []
    assert problems("qqqqqqqqqq") == {
        "district": "Not a known district name; GET /api/v1/districts lists them."
    }


def test_suggestions_prefer_the_province_sent_on_a_tie() -> None:
    # Both Upper and Lower Kohistan (kp) score alike; Kolai-Palas too: all in kp.
    assert set(INDEX.suggest("Kohistan", "kp")) <= {
        "Lower Kohistan",
        "Upper Kohistan",
        "Kolai-Palas",
    }


def test_spelling_shared_by_two_districts_is_resolved_by_province() -> None:
    index = Index.build(
        [
            Place("aa-x", "Newtown", "نیو ٹاؤن", "punjab", ("Twin",)),
            Place("bb-x", "Oldtown", "اولڈ ٹاؤن", "sindh", ("Twin",)),
        ]
    )
    found = index.match("twin", "sindh")
    assert isinstance(found, Place)
    assert found.name == "Oldtown"
    several = index.match("twin", None)
    assert isinstance(several, Unmatched)
    assert several.errors[0].message == "Names several districts: Newtown, Oldtown."


@given(st.sampled_from(load_seed()), st.sampled_from(["", " ", "  "]), st.booleans())
def test_key_ignores_case_spacing_and_district_word(place: Place, pad: str, upper: bool) -> None:
    text = f"{pad}{place.name.upper() if upper else place.name.lower()} district{pad}"
    assert key(text) == key(place.name)
    assert name_of(text, place.province) == place.name
