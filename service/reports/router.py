from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from service.core.auth import ReportActor
from service.core.db import ReportingDatabaseDep, ReportingSessionDep
from service.core.errors import problem_responses
from service.core.fields import IsoDate
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from service.core.routing import CheckedRoute
from service.models.enums import FollowUp
from service.reports import service
from service.reports.schemas import (
    Breakdown,
    Dimension,
    Feed,
    Metric,
    OutcomeDimension,
    OutcomeReport,
    Progress,
)

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], route_class=CheckedRoute)

READ_ERRORS = problem_responses(401, 403, 422)


@router.get("/progress", responses=READ_ERRORS)
async def get_progress(session: ReportingSessionDep, _actor: ReportActor) -> Progress:
    """Progress against every target, and enrollment counts per programme."""
    return await service.progress(session)


@router.get("/breakdown", responses=READ_ERRORS)
async def get_breakdown(
    session: ReportingSessionDep,
    actor: ReportActor,
    dimension: Annotated[Dimension, Query(description="What to group by.")],
    metric: Annotated[Metric, Query(description="What to count.")] = "completions",
    programme: Annotated[
        str | None, Query(max_length=64, description="Programme code; all when absent.")
    ] = None,
    date_from: Annotated[
        IsoDate | None, Query(alias="from", description="First day (completion or enrollment).")
    ] = None,
    date_to: Annotated[
        IsoDate | None, Query(alias="to", description="Last day, inclusive.")
    ] = None,
) -> Breakdown:
    """Counts grouped by one dimension; counts under 5 read "<5" for reporters."""
    return await service.breakdown(
        session,
        actor,
        dimension=dimension,
        metric=metric,
        programme=programme,
        date_from=date_from,
        date_to=date_to,
    )


@router.get("/outcomes", responses=READ_ERRORS)
async def get_outcomes(
    session: ReportingSessionDep,
    actor: ReportActor,
    follow_up: Annotated[FollowUp, Query(description="Which follow-up.")] = FollowUp.m6,
    dimension: Annotated[OutcomeDimension, Query(description="What to group by.")] = "programme",
    programme: Annotated[
        str | None, Query(max_length=64, description="Programme code; all when absent.")
    ] = None,
) -> OutcomeReport:
    """Response and employment rates after training; counts under 5 read "<5" for reporters."""
    return await service.outcomes(
        session, actor, follow_up=follow_up.value, dimension=dimension, programme=programme
    )


@router.get("/completions", responses=READ_ERRORS)
async def get_completions_feed(
    session: ReportingSessionDep,
    actor: ReportActor,
    after: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous poll.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT,
) -> Feed:
    """Completions and revocations in commit order; poll with next_cursor."""
    return await service.feed(session, actor, after=after, limit=limit)


@router.get(
    "/completions.csv",
    responses={
        **READ_ERRORS,
        200: {"content": {"text/csv": {}}, "description": "One row per live completion."},
    },
    response_class=StreamingResponse,
)
async def get_completions_csv(
    reporting_db: ReportingDatabaseDep,
    actor: ReportActor,
    fields: Annotated[
        Literal["standard", "full"],
        Query(description="`full` adds full CNIC and contact details (staff, admin)."),
    ] = "standard",
) -> StreamingResponse:
    """Every live completion as streamed CSV (as the feed shows it to the key)."""
    rows = await service.completions_csv(reporting_db, actor, full=fields == "full")
    return StreamingResponse(
        rows,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="completions.csv"'},
    )
