from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base


class ReportApplicantProgramme(Base):
    """Trigger-maintained: how many enrollments an applicant has in a programme.

    A row going from 0 to 1 (or back) moves the programme's distinct
    ``applicants`` count.
    """

    __tablename__ = "report_applicant_programmes"

    applicant_id: Mapped[str] = mapped_column(ForeignKey("applicants.id"), primary_key=True)
    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)
