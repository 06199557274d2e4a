"""A change committed by another server process is seen at once by a process's index."""

from service.core.db import Database
from service.core.errors import ValidationFailed
from service.places import cache, resolve
from service.places.schemas import DistrictCreate, DistrictUpdate
from service.places.service import add_aliases, create


async def _resolve(db: Database, text: str, province: str) -> str | list[str]:
    async with db.sessionmaker() as session:
        try:
            return await resolve(session, district=text, province=province)
        except ValidationFailed as exc:
            return [e.message for e in exc.errors]


async def test_alias_and_district_added_elsewhere_are_accepted_at_once(
    fresh_database_url: str,
) -> None:
    here = Database.from_url(fresh_database_url)
    elsewhere = Database.from_url(fresh_database_url)
    try:
        assert await _resolve(here, "Lahore", "punjab") == "Lahore"  # index now in memory
        unknown = await _resolve(here, "Data Nagar", "punjab")
        assert isinstance(unknown, list)
        assert unknown[0].startswith("Not a known district name")

        # Another server process's admin request: its own connection, committed;
        # it never touches this process's index.
        async with elsewhere.sessionmaker() as session:
            await add_aliases(session, "pb-lahore", DistrictUpdate(aliases=["Data Nagar"]))
            await create(
                session,
                DistrictCreate(
                    code="pb-kot-momin",
                    name="Kot Momin",
                    name_ur="کوٹ مومن",
                    province="punjab",  # type: ignore[arg-type]
                ),
            )
            if here.dialect == "postgresql":  # (SQLite: one writer blocks other transactions)
                # Not committed yet: no other transaction may see it.
                assert await _resolve(here, "Data Nagar", "punjab") != "Lahore"
            await session.commit()

        assert await _resolve(here, "data nagar", "punjab") == "Lahore"
        assert await _resolve(here, "کوٹ مومن", "punjab") == "Kot Momin"
        assert await _resolve(here, "Kot Momin", "sindh") == [
            "Kot Momin is a district of punjab, not of sindh.",
            "Does not contain the district Kot Momin (it is in punjab).",
        ]
    finally:
        cache.forget()
        await here.dispose()
        await elsewhere.dispose()
