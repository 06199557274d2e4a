"""Request and response bodies for districts."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from service.core.i18n import msg
from service.core.validation_messages import MessageError
from service.models.enums import Province
from service.places.normalise import key

NAME_MAX = 80


def _spelling(value: Any) -> Any:
    """A name or alias: trimmed, and something the matcher can read."""
    if isinstance(value, str):
        value = " ".join(value.split())
        if value and not key(value):
            raise MessageError(msg("name.no_letters", "Must contain a letter or digit."))
    return value


ProvinceField = Annotated[
    Province, BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v)
]
Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9][a-z0-9-]{0,63}$"),
    Field(description="Stable id: lower-case letters, digits and dashes, e.g. pb-lahore."),
]
Spelling = Annotated[
    str,
    BeforeValidator(_spelling),
    StringConstraints(min_length=1, max_length=NAME_MAX),
]


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class DistrictRead(Schema):
    code: str
    name: str = Field(description="Canonical English name; what applicants' district stores.")
    name_ur: str = Field(description="The Urdu name.")
    province: Province
    aliases: list[str] = Field(description="Other spellings accepted for this district.")


class DistrictCreate(Schema):
    code: Code
    name: Spelling
    name_ur: Spelling
    province: ProvinceField
    aliases: list[Spelling] = Field(default_factory=list, max_length=50)


class DistrictUpdate(Schema):
    """Spellings to add; a district's code, name, Urdu name and province never change."""

    aliases: list[Spelling] = Field(min_length=1, max_length=50)
