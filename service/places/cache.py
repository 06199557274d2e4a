"""The district index each server process keeps in memory, and when it is read again.

Registration must not pay a query for the district rule, yet a district or
alias an admin adds through any server process must be accepted everywhere at
once. Both hold because the list only ever *grows*: a district's code, name,
Urdu name and province never change, and aliases are added, never edited or
removed (``service.places.service``). So every spelling an older copy of the
index accepts, the current list accepts too, as the same district: a hit is
answered from memory with no query and is never stale. Only a miss can be
stale (an alias added since the copy was read): before answering 422 the
caller asks :func:`refreshed`, which reads the one-row ``places_version`` (one
primary-key SELECT) and reloads the list when its token changed. A miss is
the rare path (a typo, an unknown place), and its answer is then as fresh as
the request's own snapshot of the database.

The index is read in the caller's transaction, so it reflects committed rows
(and the transaction's own, which only admin endpoints write; they never fill
this cache). It is kept per database URL, so one process serving two databases
(the test suite) never mixes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from service.places import repository
from service.places.matcher import Index


@dataclass(frozen=True)
class _Snapshot:
    token: str | None
    index: Index


_indexes: dict[str, _Snapshot] = {}


def _source(session: AsyncSession) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=True)


async def _load(session: AsyncSession, source: str) -> Index:
    token = await repository.version_token(session)
    snapshot = _Snapshot(token, Index.build(await repository.all_places(session)))
    _indexes[source] = snapshot
    return snapshot.index


async def current(session: AsyncSession) -> Index:
    """The index in memory (read once per process): answer hits from it."""
    source = _source(session)
    snapshot = _indexes.get(source)
    if snapshot is None:
        return await _load(session, source)
    return snapshot.index


async def refreshed(session: AsyncSession) -> Index:
    """The index as of the caller's snapshot: ask this before refusing a spelling."""
    source = _source(session)
    snapshot = _indexes.get(source)
    if snapshot is not None and snapshot.token == await repository.version_token(session):
        return snapshot.index
    return await _load(session, source)


def forget() -> None:
    """Drop every copy (tests roll back the rows an index may have been read from)."""
    _indexes.clear()
