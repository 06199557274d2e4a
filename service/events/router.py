from typing import Annotated

from fastapi import APIRouter, Query

from service.core.auth import AnyActor
from service.core.db import SessionDep
from service.core.errors import problem_responses
from service.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from service.core.routing import CheckedRoute
from service.events import service
from service.events.schemas import EventFeed

router = APIRouter(prefix="/api/v1/events", tags=["events"], route_class=CheckedRoute)


@router.get("", responses=problem_responses(401, 422))
async def events_feed(
    session: SessionDep,
    actor: AnyActor,
    after: Annotated[
        str | None, Query(max_length=64, description="next_cursor of the previous poll.")
    ] = None,
    types: Annotated[
        str | None,
        Query(max_length=2000, description="Comma-separated types or patterns: enrollment.*"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")] = DEFAULT_LIMIT,
) -> EventFeed:
    """Events this key may see, oldest first; poll again with next_cursor (never null)."""
    return await service.feed(session, actor, after=after, types=types, limit=limit)
