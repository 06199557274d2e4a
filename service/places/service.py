"""Districts: the rule every writer of ``district`` calls, and the admin changes to the list."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from service.core.errors import Conflict, NotFound, ValidationFailed
from service.core.i18n import msg
from service.core.pagination import CURSOR_INVALID
from service.models import District
from service.models.base import new_id, utcnow
from service.places import cache, repository
from service.places.matcher import Index, Place, Unmatched
from service.places.schemas import DistrictCreate, DistrictRead, DistrictUpdate

_CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


class SpellingTaken(Conflict):
    title, slug = "Spelling names another district", "spelling-taken"


class CodeTaken(Conflict):
    title, slug = "Code already in use", "code-taken"


# --- the rule: any spelling of one district → its canonical name -------------------


async def resolve(session: AsyncSession, *, district: str, province: str | None) -> str:
    """The canonical name of the one district ``district`` names (in ``province`` if given).

    422 naming ``district`` (with up to three close names) when it names none,
    and naming ``district`` and ``province`` when it names a district of
    another province. A hit costs a dict lookup; only a miss reads the database.
    """
    found = (await cache.current(session)).match(district, province)
    if isinstance(found, Unmatched):
        found = (await cache.refreshed(session)).match(district, province)
    if isinstance(found, Unmatched):
        raise ValidationFailed(found.errors)
    return found.name


class PlaceRow(Protocol):
    """A record with a district and a province (a CSV row, a stored applicant)."""

    district: str

    @property
    def province(self) -> str: ...


class StoredPlace(Protocol):
    @property
    def district(self) -> str: ...

    @property
    def province(self) -> str: ...


async def resolve_update(
    session: AsyncSession, sent: dict[str, Any], *, stored: StoredPlace
) -> dict[str, Any]:
    """``sent`` (a PATCH's fields) with ``district`` canonical when district or province is sent.

    The pair is checked with the stored value of the one not sent: a new
    province must contain the stored district, a new district must lie in the
    stored province.
    """
    if "district" not in sent and "province" not in sent:
        return sent
    district = await resolve(
        session,
        district=sent.get("district", stored.district),
        province=sent.get("province", stored.province),
    )
    return {**sent, "district": district}


RowT = TypeVar("RowT", bound=PlaceRow)


async def resolve_rows(
    session: AsyncSession,
    rows: Sequence[tuple[int, RowT]],
    add_error: Callable[[int, str, str], None],
) -> list[tuple[int, RowT]]:
    """:func:`resolve` for a batch of CSV rows (line, row).

    Returns the rows whose district matched, each with ``district`` set to the
    canonical name; every other row is reported with ``add_error(line, field,
    message)``. One index for the batch: the version row is read at most once,
    and only when some row missed.
    """
    index: Index = await cache.current(session)
    matched: list[tuple[int, RowT]] = []
    missed: list[tuple[int, RowT]] = []
    for line, row in rows:
        found = index.match(row.district, row.province)
        if isinstance(found, Place):
            row.district = found.name
            matched.append((line, row))
        else:
            missed.append((line, row))
    if missed:
        index = await cache.refreshed(session)
        for line, row in missed:
            found = index.match(row.district, row.province)
            if isinstance(found, Place):
                row.district = found.name
                matched.append((line, row))
            else:
                for error in found.errors:
                    add_error(line, error.field, error.message)
        matched.sort(key=lambda m: m[0])
    return matched


# --- reading and extending the list -----------------------------------------------


def _encode(code: str) -> str:
    return base64.urlsafe_b64encode(code.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        value = ""
    if not _CODE.fullmatch(value):
        raise ValidationFailed({"cursor": CURSOR_INVALID})
    return value


def _read(district: District, aliases: list[str]) -> DistrictRead:
    return DistrictRead(
        code=district.code,
        name=district.name,
        name_ur=district.name_ur,
        province=district.province,
        aliases=aliases,
    )


async def list_districts(
    session: AsyncSession, *, province: str | None, limit: int, cursor: str | None
) -> tuple[list[DistrictRead], str | None]:
    after = _decode(cursor) if cursor is not None else None
    rows = list(await repository.page(session, province=province, after=after, limit=limit + 1))
    next_cursor = _encode(rows[limit - 1].code) if len(rows) > limit else None
    rows = rows[:limit]
    aliases = await repository.aliases_of(session, [d.code for d in rows])
    return [_read(d, aliases[d.code]) for d in rows], next_cursor


async def _claim(session: AsyncSession) -> Index:
    """Serialise list changes, and the list as it is now (never the shared cache)."""
    await repository.bump_version(session, new_id(), utcnow())
    return Index.build(await repository.all_places(session))


def _district_not_found(code: str) -> NotFound:
    return NotFound(msg("district.not_found", "No district with code '{code}'.", code=code))


def _taken(index: Index, spellings: dict[str, str], code: str) -> None:
    """409 when a spelling (field → text) already names a district other than ``code``."""
    for field, text in spellings.items():
        others = [p for p in index.lookup(text) if p.code != code]
        if others:
            raise SpellingTaken(
                msg(
                    "district.spelling_taken",
                    "The {field} '{text}' already names the district {district} ({code}).",
                    field=field,
                    text=text,
                    district=others[0].name,
                    code=others[0].code,
                ),
                extra={"field": field, "district": others[0].code},
            )


async def create(session: AsyncSession, data: DistrictCreate) -> DistrictRead:
    index = await _claim(session)
    if data.code in index.places:
        raise CodeTaken(
            msg("district.code_taken", "A district with code '{code}' exists.", code=data.code)
        )
    spellings = {"name": data.name, "name_ur": data.name_ur, "code": data.code}
    spellings |= {f"aliases[{i}]": a for i, a in enumerate(data.aliases)}
    _taken(index, spellings, data.code)
    district = District(
        code=data.code, name=data.name, name_ur=data.name_ur, province=data.province.value
    )
    aliases = list(dict.fromkeys(data.aliases))
    await repository.add(session, district, aliases)
    return _read(district, aliases)


async def add_aliases(session: AsyncSession, code: str, data: DistrictUpdate) -> DistrictRead:
    """Add spellings to a district; ones it already has are ignored (a repeat is harmless)."""
    index = await _claim(session)
    place = index.places.get(code)
    district = await repository.get(session, code)
    if place is None or district is None:
        raise _district_not_found(code)
    _taken(index, {f"aliases[{i}]": a for i, a in enumerate(data.aliases)}, code)
    known = {a.casefold() for a in place.aliases}
    new = [a for a in dict.fromkeys(data.aliases) if a.casefold() not in known]
    await repository.add_aliases(session, code, new)
    return _read(district, [*place.aliases, *new])


# --- applicants registered before the rule ----------------------------------------


async def unmatched(session: AsyncSession) -> list[tuple[str, int]]:
    return await repository.unmatched(session)


@dataclass(frozen=True)
class Mapped:
    district: DistrictRead
    mapped: int
    other_provinces: dict[str, int]


async def map_text(session: AsyncSession, text: str, code: str) -> Mapped:
    """Store district ``code``'s name for every applicant of its province with this text."""
    district = await repository.get(session, code)
    if district is None:
        raise _district_not_found(code)
    counts = await repository.count_with_text(session, text)
    mapped = 0
    if text != district.name:
        mapped = await repository.rename_district_text(
            session, text=text, province=district.province, name=district.name, now=utcnow()
        )
    others = {p: n for p, n in counts.items() if p != district.province}
    aliases = await repository.aliases_of(session, [code])
    return Mapped(_read(district, aliases[code]), mapped, others)
