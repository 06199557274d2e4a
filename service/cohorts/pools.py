"""Reserved-seat pools as cohorts receive and show them: the ``reserved`` list checked
(codes, seats against capacity, rule values with districts made canonical) and
``pools[]`` of the representation. The seat rules are ``service.seats.pools``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.cohorts.schemas import PoolIn, PoolRead
from service.core.errors import ValidationFailed
from service.core.i18n import msg
from service.core.validation_messages import FieldError
from service.models import Cohort
from service.places.service import resolve
from service.seats.pools import PoolSpec, views_of

# Reports name open seats with this key (``dimension=pool``).
OPEN_KEY = "open"


async def specs(
    session: AsyncSession, reserved: Sequence[PoolIn], capacity: int, *, field: str = "reserved"
) -> list[PoolSpec]:
    """The ``reserved`` list as pool specs: 422 naming the field for a repeated code,
    seats totalling more than ``capacity`` (naming ``field``), or a district that
    names no district (``reserved[0].rule.district[1]``, with suggestions)."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    out: list[PoolSpec] = []
    for i, pool in enumerate(reserved):
        if pool.code in seen:
            errors.append(
                FieldError(
                    field=f"reserved[{i}].code",
                    message=msg("pool.code_repeated", "Each pool needs its own code."),
                )
            )
        if pool.code == OPEN_KEY:
            errors.append(
                FieldError(
                    field=f"reserved[{i}].code",
                    message=msg(
                        "pool.code_open", "'open' names open seats in reports; pick another code."
                    ),
                )
            )
        seen.add(pool.code)
        rule: dict[str, list[str]] = {}
        if pool.rule.gender:
            rule["gender"] = sorted({g.value for g in pool.rule.gender})
        if pool.rule.province:
            rule["province"] = sorted({p.value for p in pool.rule.province})
        if pool.rule.district:
            names: set[str] = set()
            for j, text in enumerate(pool.rule.district):
                try:
                    names.add(await resolve(session, district=text, province=None))
                except ValidationFailed as exc:
                    errors.extend(
                        FieldError(field=f"reserved[{i}].rule.district[{j}]", message=e.text)
                        for e in exc.errors
                        if e.field == "district"
                    )
            rule["district"] = sorted(names)
        out.append(PoolSpec(pool.code, pool.seats, rule, pool.release_on))
    total = sum(p.seats for p in reserved)
    if total > capacity:
        errors.append(
            FieldError(
                field=field,
                message=msg(
                    "reserved.above_capacity",
                    "The pools reserve {total} seats; the capacity is {capacity}.",
                    total=total,
                    capacity=capacity,
                ),
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return out


async def reads(
    session: AsyncSession, cohorts: Sequence[Cohort], now: datetime
) -> dict[str, list[PoolRead]]:
    """``pools[]`` of each cohort (by id), exact at ``now`` (releases and expired offers)."""
    found = await views_of(session, cohorts, now)
    return {
        c.id: [
            PoolRead(
                code=v.code,
                seats=v.seats,
                taken=v.taken,
                available=v.available,
                released=v.released,
            )
            for v in found.get(c.id, [])
        ]
        for c in cohorts
    }
