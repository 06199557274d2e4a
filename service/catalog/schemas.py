from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from service.core.fields import IsoDate
from service.core.i18n import msg
from service.core.validation_messages import MessageError
from service.models.enums import Province, TargetMetric

Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9][a-z0-9-]{0,63}$"),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class ProgrammeCreate(Schema):
    code: Code = Field(description="Lower-case letters, digits and dashes.")
    name: Name
    partner: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    description: Annotated[str, StringConstraints(max_length=5000)] = ""


class ProgrammeRead(Schema):
    id: str
    code: str
    name: str
    partner: str
    description: str
    created_at: datetime


class CentreCreate(Schema):
    code: Code
    name: Name
    city: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    province: Province | None = None


class CentreRead(Schema):
    id: str
    code: str
    name: str
    city: str | None
    province: Province | None
    created_at: datetime


class TargetCreate(Schema):
    code: Code
    name: Name
    goal: int = Field(gt=0, le=100_000_000, strict=True)  # not `true`, not "10"
    metric: TargetMetric
    programmes: list[Code] = Field(min_length=1, max_length=50)
    deadline: IsoDate | None = None

    @field_validator("programmes")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise MessageError(msg("programmes.duplicate", "Each programme may be named once."))
        return value


class TargetRead(Schema):
    id: str
    code: str
    name: str
    goal: int
    metric: TargetMetric
    programmes: list[str]
    deadline: date | None
    created_at: datetime
