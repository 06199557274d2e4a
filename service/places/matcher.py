"""The in-memory district index: a spelling's key → the districts it names.

Built from the database rows (or the seed file); answers exactly from a dict,
and runs the fuzzy search (``rapidfuzz``) only to word the refusal of a
spelling it does not know.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from service.core.errors import FieldError
from service.core.i18n import msg
from service.places.normalise import key, words

MAX_SUGGESTIONS = 3
# Below this WRatio score (0-100) a name is not offered as a suggestion.
SUGGESTION_CUTOFF = 60.0
SUGGESTION_SPREAD = 15.0


@dataclass(frozen=True)
class Place:
    """One district as the matcher knows it."""

    code: str
    name: str
    name_ur: str
    province: str
    aliases: tuple[str, ...] = ()

    def spellings(self) -> tuple[str, ...]:
        return (self.name, self.code, self.name_ur, *self.aliases)


@dataclass(frozen=True)
class Unmatched:
    """Why a spelling is refused, as the 422's field errors."""

    errors: list[FieldError]


@dataclass
class Index:
    places: dict[str, Place] = field(default_factory=dict)
    by_key: dict[str, set[str]] = field(default_factory=dict)
    # Spellings exactly as listed ("Lahore") → by_key's entry: most requests send one
    # of these, and skip normalising.
    exact: dict[str, set[str]] = field(default_factory=dict)
    # Spellings as words, for the fuzzy search: words → district codes.
    choices: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, places: Iterable[Place]) -> Index:
        index = cls()
        for place in places:
            index.places[place.code] = place
            for spelling in place.spellings():
                k = key(spelling)
                if k:
                    index.by_key.setdefault(k, set()).add(place.code)
                    index.choices.setdefault(words(spelling), set()).add(place.code)
        for place in index.places.values():
            for spelling in place.spellings():
                if key(spelling):
                    index.exact[spelling] = index.by_key[key(spelling)]
        return index

    def lookup(self, text: str) -> list[Place]:
        """Every district ``text`` names exactly (normally zero or one)."""
        codes = self.exact.get(text)
        if codes is None:
            codes = self.by_key.get(key(text), set())
        return [self.places[c] for c in sorted(codes)]

    def match(self, text: str, province: str | None) -> Place | Unmatched:
        """The one district ``text`` names (in ``province`` when given), or why not."""
        found = self.lookup(text)
        if province is not None:
            inside = [p for p in found if p.province == province]
            if len(inside) == 1:
                return inside[0]
            if not inside and found:
                return _mismatch(found, province)
            found = inside
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            return Unmatched(
                [
                    FieldError(
                        field="district",
                        message=msg(
                            "district.ambiguous", "Names several districts: {names}.", names=names
                        ),
                    )
                ]
            )
        return Unmatched(
            [FieldError(field="district", message=self.unknown_message(text, province))]
        )

    def unknown_message(self, text: str, province: str | None = None) -> str:
        close = self.suggest(text, province)
        if close:
            return msg(
                "district.unknown_suggest",
                "Not a known district name. Did you mean: {names}?",
                names=", ".join(close),
            )
        return msg(
            "district.unknown", "Not a known district name; GET /api/v1/districts lists them."
        )

    def suggest(self, text: str, province: str | None = None) -> list[str]:
        """Up to three canonical names close to ``text`` (a miss only: this is the slow path)."""
        query = words(text)
        if not query:
            return []
        hits = process.extract(
            query,
            self.choices.keys(),
            scorer=fuzz.WRatio,
            limit=MAX_SUGGESTIONS * 4,
            score_cutoff=SUGGESTION_CUTOFF,
        )
        best: dict[str, float] = {}
        for choice, score, _ in hits:
            for code in self.choices[choice]:
                best[code] = max(best.get(code, 0.0), score)
        if not best:
            return []
        # Offer only names about as close as the closest: "Lahoor" is Lahore, not Kasur.
        floor = max(best.values()) - SUGGESTION_SPREAD
        ranked = sorted(
            (c for c in best if best[c] >= floor),
            key=lambda c: (-best[c], self.places[c].province != province, self.places[c].name),
        )
        return [self.places[c].name for c in ranked[:MAX_SUGGESTIONS]]


def _mismatch(found: list[Place], province: str) -> Unmatched:
    place = found[0]
    where = " and ".join(sorted({p.province for p in found}))
    return Unmatched(
        [
            FieldError(
                field="district",
                message=msg(
                    "district.other_province",
                    "{district} is a district of {where}, not of {province}.",
                    district=place.name,
                    where=where,
                    province=province,
                ),
            ),
            FieldError(
                field="province",
                message=msg(
                    "province.other_district",
                    "Does not contain the district {district} (it is in {where}).",
                    district=place.name,
                    where=where,
                ),
            ),
        ]
    )
