from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, IdMixin, StrEnumType, TimestampMixin, enum_check
from service.models.enums import EducationLevel, Gender, Province, values


class Applicant(IdMixin, TimestampMixin, Base):
    """One person, identified by CNIC. Belongs to no centre."""

    __tablename__ = "applicants"
    __table_args__ = (
        CheckConstraint(enum_check("gender", values(Gender)), name="gender"),
        CheckConstraint(enum_check("province", values(Province)), name="province"),
        CheckConstraint(
            enum_check("education_level", values(EducationLevel)), name="education_level"
        ),
    )

    # Normalised as #####-#######-#.
    cnic: Mapped[str] = mapped_column(String(15), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    date_of_birth: Mapped[date]
    gender: Mapped[Gender] = mapped_column(StrEnumType(Gender))
    email: Mapped[str] = mapped_column(String(254))
    # E.164, +923XXXXXXXXX.
    phone: Mapped[str] = mapped_column(String(16))
    province: Mapped[Province] = mapped_column(StrEnumType(Province))
    district: Mapped[str] = mapped_column(String(80))
    education_level: Mapped[EducationLevel] = mapped_column(StrEnumType(EducationLevel))
    consent_at: Mapped[datetime]
    # The key that registered the applicant (clients see only their own);
    # NULL when imported from the CLI.
    created_by_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"), index=True)
    updated_by_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
