from fastapi import APIRouter, Request

from service.applicants import identity, importer, service
from service.applicants.schemas import (
    ApplicantCreate,
    ApplicantList,
    ApplicantLookup,
    ApplicantRead,
    ApplicantRegistered,
    ApplicantUpdate,
    IdentityCorrection,
    ImportReport,
)
from service.core.auth import AdminActor, RegistrarActor, StaffActor
from service.core.csvimport import CsvUpload, DryRun
from service.core.db import SessionDep
from service.core.errors import problem_responses
from service.core.idempotency import IdempotencyDep
from service.core.ratelimit import rate_limit
from service.core.routing import CheckedRoute

router = APIRouter(prefix="/api/v1/applicants", tags=["applicants"], route_class=CheckedRoute)


@router.post(
    "",
    status_code=201,
    response_model=ApplicantRegistered,
    responses={
        200: {
            "model": ApplicantRegistered,
            "description": "Linked: another app registered this person (same CNIC, full name "
            "and date of birth); `linked` is true and the contact fields sent were not applied.",
        },
        **problem_responses(401, 403, 409, 413, 422, 429),
    },
    dependencies=[rate_limit("register")],
)
async def register_applicant(
    body: ApplicantCreate, session: SessionDep, actor: RegistrarActor, idem: IdempotencyDep
) -> object:
    """Register an applicant (one per CNIC; a second app for the same person is linked)."""
    registered = await service.register(session, actor, body)
    return await idem.respond(200 if registered.linked else 201, registered)


@router.post(
    "/lookup", response_model=ApplicantList, responses=problem_responses(401, 403, 413, 422)
)
async def lookup_applicant(
    body: ApplicantLookup, session: SessionDep, actor: RegistrarActor
) -> ApplicantList:
    """Find an applicant by CNIC (sent in the body, never in the URL)."""
    found = await service.lookup(session, actor, body.cnic)
    return ApplicantList(items=[ApplicantRead.model_validate(a) for a in found])


@router.post(
    "/import",
    response_model=ImportReport,
    responses=problem_responses(400, 401, 403, 413, 422),
)
async def import_applicants(
    session: SessionDep,
    actor: StaffActor,
    file: CsvUpload,
    dry_run: DryRun = False,
) -> ImportReport:
    """Register or update applicants from a CSV file (staff, admin)."""
    return await importer.import_csv(session, file.file, key_id=actor.key_id, dry_run=dry_run)


@router.get(
    "/{applicant_id}", response_model=ApplicantRead, responses=problem_responses(401, 403, 404)
)
async def get_applicant(
    applicant_id: str, session: SessionDep, actor: RegistrarActor
) -> ApplicantRead:
    """Read one applicant."""
    return ApplicantRead.model_validate(await service.get(session, actor, applicant_id))


@router.patch(
    "/{applicant_id}",
    response_model=ApplicantRead,
    responses=problem_responses(401, 403, 404, 413, 422),
)
async def update_applicant(
    applicant_id: str, body: ApplicantUpdate, session: SessionDep, actor: RegistrarActor
) -> ApplicantRead:
    """Change an applicant's contact fields (email, phone, district, province, education)."""
    applicant = await service.update_contact(session, actor, applicant_id, body)
    return ApplicantRead.model_validate(applicant)


@router.post(
    "/{applicant_id}/identity",
    response_model=ApplicantRead,
    responses=problem_responses(401, 403, 404, 413, 422),
)
async def correct_identity(
    applicant_id: str,
    body: IdentityCorrection,
    request: Request,
    session: SessionDep,
    actor: AdminActor,
) -> ApplicantRead:
    """Correct an applicant's full name, date of birth or gender (admin; audited)."""
    secret: str = request.app.state.settings.secret_key
    applicant = await identity.correct(session, actor, applicant_id, body, secret=secret)
    return ApplicantRead.model_validate(applicant)
