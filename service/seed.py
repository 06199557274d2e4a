"""Reference data every installation starts with. Safe to run any number of times."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Centre, Programme, Target

PROGRAMMES: list[dict[str, str]] = [
    {
        "code": "zte-ict",
        "name": "ZTE Global ICT Training Centre",
        "partner": "ZTE",
        "description": "Digital and ICT skills for Pakistani youth, Islamabad.",
    },
    {
        "code": "alibaba-ecommerce",
        "name": "Alibaba e-commerce training",
        "partner": "Alibaba",
        "description": "E-commerce skills for young entrepreneurs growing B2B exports.",
    },
]
CENTRES: list[dict[str, str | None]] = [
    {
        "code": "isb-gitc",
        "name": "Global ICT Training Centre, Islamabad",
        "city": "Islamabad",
        "province": "ict",
    },
    {"code": "online", "name": "Online", "city": None, "province": None},
]


@dataclass(frozen=True)
class SeedTarget:
    code: str
    name: str
    goal: int
    metric: str
    programmes: tuple[str, ...]


TARGETS = [
    SeedTarget(
        code="zte-100k",
        name="Train 100,000 young people in digital technologies",
        goal=100_000,
        metric="trainees",
        programmes=("zte-ict",),
    ),
]


@dataclass
class SeedResult:
    created: int = 0

    def __str__(self) -> str:
        return f"seeded: {self.created} created"


async def seed(session: AsyncSession) -> SeedResult:
    """Create whatever of the reference data is missing; change nothing that exists."""
    result = SeedResult()
    programmes = {p.code: p for p in await session.scalars(select(Programme))}
    for data in PROGRAMMES:
        if data["code"] not in programmes:
            programme = Programme(**data)
            session.add(programme)
            programmes[programme.code] = programme
            result.created += 1
    centres = set(await session.scalars(select(Centre.code)))
    for centre in CENTRES:
        if centre["code"] not in centres:
            session.add(Centre(**centre))
            result.created += 1
    targets = set(await session.scalars(select(Target.code)))
    for target in TARGETS:
        if target.code not in targets:
            session.add(
                Target(
                    code=target.code,
                    name=target.name,
                    goal=target.goal,
                    metric=target.metric,
                    programmes=[programmes[c] for c in target.programmes],
                )
            )
            result.created += 1
    await session.flush()
    return result


async def is_empty(session: AsyncSession) -> bool:
    return await session.scalar(select(Programme.id).limit(1)) is None
