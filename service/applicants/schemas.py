"""Request and response bodies for applicants.

Every rule is a field validator, so one request reports every bad field at once.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from functools import partial
from typing import Annotated, Any, ClassVar

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from service.applicants.normalise import (
    age_on,
    has_control_chars,
    normalise_cnic,
    normalise_phone,
)
from service.core.fields import parse_iso_date
from service.core.i18n import msg
from service.core.validation_messages import MessageError
from service.models.base import utcnow
from service.models.enums import EducationLevel, Gender, Province

MIN_AGE = 15
MAX_AGE = 120
NAME_MAX = 120
DISTRICT_MAX = 80
EMAIL_MAX = 254

# What a client can check before sending, for the OpenAPI document (the validators
# decide): the usual spellings; surrounding spaces are ignored.
CNIC_PATTERN = r"^\s*[ \t\u00a0-]*(?:[0-9\u0660-\u0669\u06f0-\u06f9][ \t\u00a0-]*){13}\s*$"
PHONE_PATTERN = r"^\s*(?:\+92|0092|0)[ -]?3(?:[0-247]\d|3[0-79]|55|64)[ -]?\d{7}\s*$"
_CONTROL = r"\u0000-\u001f\u007f-\u009f"
TEXT_PATTERN = rf"^[^{_CONTROL}]*[^\s{_CONTROL}][^{_CONTROL}]*$"

# The fields a PATCH (and a CSV row for a registered CNIC) may change. Every
# other list of applicant fields derives from ``ApplicantCreate`` below.
CONTACT_FIELDS: tuple[str, ...] = ("email", "phone", "district", "province", "education_level")


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


# --- single-field rules, shared by create, update and the CSV import ---


def check_text(value: Any, *, max_length: int, what: str) -> str:
    if not isinstance(value, str):
        raise MessageError(msg("text.not_text", "The {what} must be text.", what=what))
    text = value.strip()
    if not text:
        raise MessageError(msg("text.blank", "The {what} must not be empty.", what=what))
    if len(text) > max_length:
        raise MessageError(
            msg(
                "text.longer_than",
                "The {what} must be at most {max} characters.",
                what=what,
                max=max_length,
            )
        )
    if has_control_chars(text):
        raise MessageError(
            msg("text.control", "The {what} must not contain control characters.", what=what)
        )
    return text


def check_email(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MessageError(msg("email.missing", "Give an email address such as name@example.pk."))
    text = value.strip()
    if len(text) > EMAIL_MAX:
        raise MessageError(
            msg("email.too_long", "An email address is at most {max} characters.", max=EMAIL_MAX)
        )
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise MessageError(msg("email.invalid", "This is not a valid email address.")) from None
    return info.normalized.lower()


def check_date_of_birth(value: Any) -> date:
    """A real calendar date, ``YYYY-MM-DD``, at least 15 years before today."""
    born = parse_iso_date(value, msg("word.date_of_birth", "date of birth"))
    today = utcnow().date()
    if born >= today:
        raise MessageError(msg("date_of_birth.future", "The date of birth must be in the past."))
    age = age_on(born, today)
    if age < MIN_AGE:
        raise MessageError(
            msg("age.too_young", "Applicants must be at least {min} years old.", min=MIN_AGE)
        )
    if age > MAX_AGE:
        raise MessageError(
            msg("age.too_old", "The date of birth is more than {max} years ago.", max=MAX_AGE)
        )
    return born


def lower_stripped(value: Any) -> Any:
    """Enum values are matched ignoring case and surrounding spaces ('Punjab ' → 'punjab')."""
    return value.strip().lower() if isinstance(value, str) else value


def check_consent(value: Any) -> bool:
    if value is not True:
        raise MessageError(
            msg("consent.required", "Consent must be true: the applicant agrees to registration.")
        )
    return True


Cnic = Annotated[
    str,
    BeforeValidator(normalise_cnic),
    Field(
        description="13 digits, with or without dashes or spaces; stored #####-#######-#.",
        json_schema_extra={"pattern": CNIC_PATTERN, "examples": ["35202-1234567-1"]},
    ),
]
Phone = Annotated[
    str,
    BeforeValidator(normalise_phone),
    Field(
        description="A Pakistani mobile number in any usual spelling; stored +923XXXXXXXXX.",
        json_schema_extra={"pattern": PHONE_PATTERN, "examples": ["0300 1234567"]},
    ),
]
Email = Annotated[
    str,
    BeforeValidator(check_email),
    Field(
        description="Stored lower-cased.",
        json_schema_extra={"format": "email", "maxLength": EMAIL_MAX},
    ),
]
FullName = Annotated[
    str,
    BeforeValidator(
        partial(check_text, max_length=NAME_MAX, what=msg("word.full_name", "full name"))
    ),
    Field(
        description=f"1 to {NAME_MAX} characters, any script.",
        json_schema_extra={"minLength": 1, "maxLength": NAME_MAX, "pattern": TEXT_PATTERN},
    ),
]
District = Annotated[
    str,
    BeforeValidator(
        partial(check_text, max_length=DISTRICT_MAX, what=msg("word.district", "district"))
    ),
    Field(
        description=f"1 to {DISTRICT_MAX} characters.",
        json_schema_extra={"minLength": 1, "maxLength": DISTRICT_MAX, "pattern": TEXT_PATTERN},
    ),
]
DateOfBirth = Annotated[
    date,
    BeforeValidator(check_date_of_birth),
    Field(description=f"YYYY-MM-DD; at least {MIN_AGE} years before registration."),
]
Consent = Annotated[
    bool,
    BeforeValidator(check_consent),
    Field(description="Must be true.", json_schema_extra={"enum": [True]}),
]
GenderField = Annotated[Gender, BeforeValidator(lower_stripped)]
ProvinceField = Annotated[Province, BeforeValidator(lower_stripped)]
EducationField = Annotated[EducationLevel, BeforeValidator(lower_stripped)]


class ApplicantCreate(Schema):
    """The registration body (``POST /applicants`` and one CSV row)."""

    cnic: Cnic
    full_name: FullName
    date_of_birth: DateOfBirth
    gender: GenderField
    email: Email
    phone: Phone
    province: ProvinceField
    district: District
    education_level: EducationField
    consent: Consent

    def stored(self) -> dict[str, Any]:
        """The ``applicants`` column values of ``STORED_FIELDS`` (enums as their text)."""
        return {name: _column_value(getattr(self, name)) for name in STORED_FIELDS}


def _column_value(value: Any) -> Any:
    return value.value if isinstance(value, StrEnum) else value


# Derived from the one declaration (``ApplicantCreate``), in its order:
# the POST body's fields, which are also the CSV import's columns.
REGISTRATION_FIELDS: tuple[str, ...] = tuple(ApplicantCreate.model_fields)
# The registration fields stored as ``applicants`` columns of the same name
# (``consent`` is stored as the time it was given, ``consent_at``).
STORED_FIELDS: tuple[str, ...] = tuple(f for f in REGISTRATION_FIELDS if f != "consent")
# What identifies the person: fixed after registration (except by an admin's correction).
IDENTITY_FIELDS: tuple[str, ...] = tuple(f for f in REGISTRATION_FIELDS if f not in CONTACT_FIELDS)


def _refuse_change(value: Any, info: ValidationInfo) -> Any:
    allowed = ", ".join(CONTACT_FIELDS)
    raise MessageError(
        msg(
            "field.fixed",
            "The {field} cannot be changed; only {allowed} can.",
            field=info.field_name,
            allowed=allowed,
        )
    )


Fixed = SkipJsonSchema[Annotated[Any, BeforeValidator(_refuse_change)]]


class ApplicantUpdate(Schema):
    """``PATCH`` body: contact fields only; send just the fields to change."""

    email: Email | None = None
    phone: Phone | None = None
    district: District | None = None
    province: ProvinceField | None = None
    education_level: EducationField | None = None

    # Named so the 422 explains that identity fields are fixed, instead of
    # a bare "extra inputs are not permitted"; hidden from the OpenAPI schema.
    cnic: Fixed = None
    full_name: Fixed = None
    date_of_birth: Fixed = None
    gender: Fixed = None
    consent: Fixed = None

    @field_validator(*CONTACT_FIELDS)
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise MessageError(
                msg(
                    "field.not_removable",
                    "The {field} may be changed but not removed.",
                    field=info.field_name,
                )
            )
        return value

    def changes(self) -> dict[str, Any]:
        """The contact fields the caller sent, as stored values."""
        sent = self.model_dump(exclude_unset=True, include=set(CONTACT_FIELDS))
        return {k: _column_value(v) for k, v in sent.items()}


class ApplicantRead(Schema):
    model_config = ConfigDict(from_attributes=True)

    id: str
    cnic: str
    full_name: str
    date_of_birth: date
    gender: Gender
    email: str
    phone: str
    province: Province
    district: str
    education_level: EducationLevel
    consent_at: datetime
    created_at: datetime
    updated_at: datetime


class ApplicantRegistered(ApplicantRead):
    """The answer to ``POST /applicants``: 201 created, or 200 ``linked``."""

    linked: bool = Field(
        False,
        description="True (status 200) when the CNIC was registered by another app for the "
        "same person (same full name and date of birth): the applicant is now linked to this "
        "key too, and the contact fields sent were not applied.",
    )


REASON_MAX = 500


class IdentityCorrection(Schema):
    """``POST /applicants/{id}/identity`` (admin): the identity fields to correct, and why."""

    full_name: FullName | None = None
    date_of_birth: DateOfBirth | None = None
    gender: GenderField | None = None
    reason: Annotated[
        str,
        BeforeValidator(
            partial(check_text, max_length=REASON_MAX, what=msg("word.reason", "reason"))
        ),
        Field(description=f"Why the registration was wrong; 1 to {REASON_MAX} characters."),
    ]

    @field_validator("full_name", "date_of_birth", "gender")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise MessageError(
                msg(
                    "field.keep_by_omitting",
                    "Leave the {field} out to keep it; it cannot be removed.",
                    field=info.field_name,
                )
            )
        return value

    @model_validator(mode="after")
    def _something_to_correct(self) -> IdentityCorrection:
        if not self.changes():
            raise MessageError(
                msg("correction.empty", "Give full_name, date_of_birth and/or gender to correct.")
            )
        return self

    def changes(self) -> dict[str, Any]:
        """The identity fields sent, as stored values."""
        sent = self.model_dump(exclude_unset=True, exclude={"reason"})
        return {k: _column_value(v) for k, v in sent.items()}


class ApplicantLookup(Schema):
    cnic: Cnic


class ApplicantList(Schema):
    items: list[ApplicantRead]


class ImportRowError(Schema):
    row: int = Field(description="Line number in the file; the header is line 1.")
    field: str
    message: str


class ImportReport(Schema):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[ImportRowError] = Field(default_factory=list)
    errors_truncated: bool = Field(
        False, description="True when more errors were found than the report lists."
    )
    dry_run: bool = False

    MAX_ERRORS: ClassVar[int] = 1000

    def add_error(self, row: int, field: str, message: str) -> None:
        if len(self.errors) < self.MAX_ERRORS:
            self.errors.append(ImportRowError(row=row, field=field, message=message))
        else:
            self.errors_truncated = True
