"""The applicant's fields are declared once (ApplicantCreate); every other list derives from it."""

from __future__ import annotations

from sqlalchemy import Table

from bench import data
from service.applicants import repository
from service.applicants.schemas import (
    CONTACT_FIELDS,
    IDENTITY_FIELDS,
    REGISTRATION_FIELDS,
    STORED_FIELDS,
    ApplicantCreate,
    ApplicantUpdate,
)
from service.models import Applicant
from service.models.base import utcnow

applicants: Table = Applicant.__table__  # type: ignore[assignment]


def test_every_stored_registration_field_is_a_column_of_the_same_name() -> None:
    assert tuple(ApplicantCreate.model_fields) == REGISTRATION_FIELDS
    assert set(STORED_FIELDS) == set(REGISTRATION_FIELDS) - {"consent"}
    assert set(STORED_FIELDS) <= set(applicants.c.keys())
    assert set(CONTACT_FIELDS) | set(IDENTITY_FIELDS) == set(REGISTRATION_FIELDS)
    assert not set(CONTACT_FIELDS) & set(IDENTITY_FIELDS)


def test_patch_names_every_registration_field_and_changes_only_contacts() -> None:
    assert set(ApplicantUpdate.model_fields) == set(REGISTRATION_FIELDS)


def test_a_new_row_fills_every_column() -> None:
    body = ApplicantCreate.model_validate(data.applicant_fields(3))
    row = repository.new_row(body, key_id=None, now=utcnow())
    assert set(row) == set(applicants.c.keys())
    assert row["gender"] == body.gender.value
    assert isinstance(row["gender"], str)


def test_bench_data_follows_the_declaration() -> None:
    assert set(data.applicant_fields(0)) == set(REGISTRATION_FIELDS)
    for n in range(20):
        ApplicantCreate.model_validate(data.applicant_fields(n))  # a valid POST body
    assert set(data.APPLICANT_COLUMNS) <= set(applicants.c.keys())
    required = {
        c.name for c in applicants.c if not c.nullable and c.default is None and not c.primary_key
    }
    assert required <= set(data.APPLICANT_COLUMNS)
    [row] = data.applicant_rows(5, 1)
    assert dict(zip(data.APPLICANT_COLUMNS, row, strict=True))["cnic"] == data.cnic(5)
