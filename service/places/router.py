from typing import Annotated

from fastapi import APIRouter, Query

from service.core.auth import AdminActor, AnyActor
from service.core.db import SessionDep
from service.core.errors import problem_responses
from service.core.idempotency import IdempotencyDep
from service.core.pagination import Page, PageDep
from service.core.routing import CheckedRoute
from service.models.enums import Province
from service.places import service
from service.places.schemas import DistrictCreate, DistrictRead, DistrictUpdate

router = APIRouter(prefix="/api/v1", tags=["places"], route_class=CheckedRoute)


@router.get("/districts", responses=problem_responses(401, 422))
async def list_districts(
    session: SessionDep,
    _actor: AnyActor,
    page: PageDep,
    province: Annotated[Province | None, Query(description="Only this province's.")] = None,
) -> Page[DistrictRead]:
    """List Pakistan's districts with their Urdu names and accepted spellings."""
    items, cursor = await service.list_districts(
        session,
        province=province.value if province else None,
        limit=page.limit,
        cursor=page.cursor,
    )
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/districts",
    status_code=201,
    response_model=DistrictRead,
    responses=problem_responses(401, 403, 409, 413, 422),
)
async def create_district(
    body: DistrictCreate, session: SessionDep, _actor: AdminActor, idem: IdempotencyDep
) -> object:
    """Add a district (admin)."""
    return await idem.respond(201, await service.create(session, body))


@router.patch(
    "/districts/{district_code}",
    response_model=DistrictRead,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
async def add_district_aliases(
    district_code: str, body: DistrictUpdate, session: SessionDep, _actor: AdminActor
) -> DistrictRead:
    """Add spellings to a district (admin)."""
    return await service.add_aliases(session, district_code, body)
