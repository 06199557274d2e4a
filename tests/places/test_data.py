"""The shipped reference list: counts per province, well-formed rows, one district per spelling."""

import re
import unicodedata
from collections import Counter

from service.models.enums import Province
from service.places.matcher import Index
from service.places.normalise import key
from service.places.seed import SEED_FILE, load_seed

# Per province as of 2023; service/places/data/README.md says where each count comes from.
EXPECTED = {
    "punjab": 41,
    "sindh": 30,
    "kp": 37,
    "balochistan": 37,
    "ict": 1,
    "gb": 14,
    "ajk": 10,
}
PREFIX = {"punjab": "pb", "sindh": "sd", "kp": "kp", "balochistan": "bl"}


def test_counts_per_province() -> None:
    places = load_seed()
    assert Counter(p.province for p in places) == EXPECTED
    assert len(places) == 170
    assert set(EXPECTED) == {p.value for p in Province}


def test_rows_are_well_formed() -> None:
    places = load_seed()
    assert len({p.code for p in places}) == len(places)
    assert len({p.name for p in places}) == len(places)
    for p in places:
        assert re.fullmatch(r"[a-z]+-[a-z0-9-]+", p.code), p.code
        assert p.code.startswith(PREFIX.get(p.province, p.province) + "-"), p.code
        assert 0 < len(p.name) <= 80
        assert p.name == p.name.strip()
        # Urdu in Arabic script: letters of the Arabic blocks and spaces only.
        assert p.name_ur, p.code
        assert all(c == " " or "ARABIC" in unicodedata.name(c) for c in p.name_ur), p.code
        assert all(0 < len(a) <= 80 for a in p.aliases), p.code


def test_no_spelling_names_two_districts() -> None:
    index = Index.build(load_seed())
    assert {k: v for k, v in index.by_key.items() if len(v) > 1} == {}


def test_spellings_of_split_districts_are_not_aliases() -> None:
    """Chitral, Kohistan, Dir, South Waziristan and Karachi are several districts now."""
    index = Index.build(load_seed())
    for old in ("Chitral", "Kohistan", "Dir", "South Waziristan", "Karachi"):
        assert index.lookup(old) == [], old
        assert key(old) not in index.by_key


def test_file_cites_its_sources() -> None:
    readme = (SEED_FILE.parent / "README.md").read_text(encoding="utf-8")
    assert "2023" in readme
    assert "Wikipedia" in readme
    assert "Bureau of Statistics" in readme
