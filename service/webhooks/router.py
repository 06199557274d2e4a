from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from service.core.auth import AnyActor
from service.core.db import SessionDep
from service.core.errors import problem_responses
from service.core.idempotency import IdempotencyDep
from service.core.pagination import Page, PageDep
from service.core.routing import CheckedRoute
from service.webhooks import service
from service.webhooks.config import WebhookSettings, get_webhook_settings
from service.webhooks.schemas import (
    DeliveryRead,
    DeliveryStatus,
    ReplayQueued,
    ReplayRequest,
    SecretRead,
    TestQueued,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], route_class=CheckedRoute)

Settings = Annotated[WebhookSettings, Depends(get_webhook_settings)]
ONE = problem_responses(401, 404)


@router.post(
    "",
    status_code=201,
    response_model=WebhookCreated,
    responses=problem_responses(401, 413, 422),
)
async def create_webhook(
    body: WebhookCreate,
    session: SessionDep,
    actor: AnyActor,
    idem: IdempotencyDep,
    settings: Settings,
) -> object:
    """Register an endpoint; its secret (whsec_…) is shown only in this answer."""
    created = await service.create(session, actor, body, settings)
    return await idem.respond(201, created)


@router.get("", responses=problem_responses(401, 422))
async def list_webhooks(session: SessionDep, actor: AnyActor, page: PageDep) -> Page[WebhookRead]:
    """This key's endpoints (an admin key: every endpoint)."""
    items, cursor = await service.list_webhooks(session, actor, page)
    return Page(items=items, next_cursor=cursor)


@router.get("/{webhook_id}", responses=ONE)
async def get_webhook(webhook_id: str, session: SessionDep, actor: AnyActor) -> WebhookRead:
    """One endpoint."""
    return service.to_read(await service.get(session, actor, webhook_id))


@router.patch("/{webhook_id}", responses=problem_responses(401, 404, 422))
async def update_webhook(
    webhook_id: str, body: WebhookUpdate, session: SessionDep, actor: AnyActor, settings: Settings
) -> WebhookRead:
    """Change the URL, the subscription or the description; enabled: true re-enables."""
    return await service.update(session, actor, webhook_id, body, settings)


@router.delete("/{webhook_id}", status_code=204, responses=ONE)
async def delete_webhook(webhook_id: str, session: SessionDep, actor: AnyActor) -> Response:
    """Remove the endpoint and its delivery log."""
    await service.delete(session, actor, webhook_id)
    return Response(status_code=204)


@router.post("/{webhook_id}/rotate-secret", responses=ONE)
async def rotate_secret(webhook_id: str, session: SessionDep, actor: AnyActor) -> SecretRead:
    """A new secret; the old one keeps signing beside it for 24 h."""
    return SecretRead(secret=await service.rotate_secret(session, actor, webhook_id))


@router.post("/{webhook_id}/test", status_code=202, responses=ONE)
async def send_test(webhook_id: str, session: SessionDep, actor: AnyActor) -> TestQueued:
    """Queue a webhook.test event to this endpoint, whatever it subscribes to."""
    return TestQueued(event_id=await service.send_test(session, actor, webhook_id))


@router.get("/{webhook_id}/deliveries", responses=problem_responses(401, 404, 422))
async def list_deliveries(
    webhook_id: str,
    session: SessionDep,
    actor: AnyActor,
    page: PageDep,
    status: Annotated[DeliveryStatus | None, Query()] = None,
) -> Page[DeliveryRead]:
    """The delivery log, oldest first."""
    items, cursor = await service.list_deliveries(session, actor, webhook_id, status, page)
    return Page(items=items, next_cursor=cursor)


@router.post("/{webhook_id}/replay", status_code=202, responses=problem_responses(401, 404, 422))
async def replay(
    webhook_id: str, body: ReplayRequest, session: SessionDep, actor: AnyActor
) -> ReplayQueued:
    """Queue again every event since an instant (inclusive) this endpoint would get."""
    return await service.replay(session, actor, webhook_id, body.since)
