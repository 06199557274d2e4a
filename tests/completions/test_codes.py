"""Certificate codes: format, entropy, and the spellings a reader may type."""

from __future__ import annotations

import pytest

from service.completions import codes
from tests.completions.helpers import CODE_RE


def test_generated_codes_have_the_format_and_differ() -> None:
    drawn = [codes.generate("zte-ict") for _ in range(2000)]
    assert all(CODE_RE.match(c) for c in drawn)
    assert all(c.startswith("ZTE-") for c in drawn)
    assert len(set(drawn)) == len(drawn)
    # 16 random Crockford characters = 80 bits; every symbol turns up.
    body = "".join(c[4:].replace("-", "") for c in drawn)
    assert set(body) == set(codes.CROCKFORD)
    assert codes.RANDOM_CHARS * 5 >= 64


@pytest.mark.parametrize(
    ("programme", "prefix"),
    [
        ("zte-ict", "ZTE"),
        ("alibaba-ecommerce", "ALI"),
        ("huawei-seeds", "HUA"),
        ("a1-b", "ABX"),
    ],
)
def test_prefix(programme: str, prefix: str) -> None:
    assert codes.prefix_for(programme) == prefix
    assert codes.generate(programme).startswith(prefix + "-")


@pytest.mark.parametrize(
    "spelling",
    [
        "ZTE-7K3M-9QXA-2WPD-H4TR",
        "zte-7k3m-9qxa-2wpd-h4tr",
        "ZTE7K3M9QXA2WPDH4TR",
        "  zte 7k3m 9qxa 2wpd h4tr ",
        "ZTE--7K3M--9QXA-2WPD-H4TR",
    ],
)
def test_canonical_accepts_every_spelling(spelling: str) -> None:
    assert codes.canonical(spelling) == "ZTE-7K3M-9QXA-2WPD-H4TR"


def test_confusable_letters_read_as_digits() -> None:
    assert codes.canonical("ali-oOiI-lL01-2345-6789") == "ALI-0011-1101-2345-6789"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "ZTE",
        "Z1E-7K3M-9QXA-2WPD-H4TR",
        "ZTE-7K3M-9QXA-2WPD-H4T",
        "ZTE-UUUU-9QXA-2WPD-H4TR",
        "ZTE-7K3M-9QXA-2WPD-H4TR/../x",
        "x" * 500,
        "ZTE-7K3M-9QXA-2WPD-H4TÜ",
    ],
)
def test_malformed_codes_are_not_canonical(bad: str) -> None:
    assert codes.canonical(bad) is None
