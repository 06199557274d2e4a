from datetime import date

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base


class ReportTargetMember(Base):
    """Trigger-maintained: an applicant counted as a trainee of a target.

    The row exists while the applicant has at least one live completion in the
    target's programmes; ``first_day`` is the day of the earliest one.
    """

    __tablename__ = "report_target_members"
    __table_args__ = (Index(None, "applicant_id"),)

    target_id: Mapped[str] = mapped_column(primary_key=True)
    applicant_id: Mapped[str] = mapped_column(ForeignKey("applicants.id"), primary_key=True)
    first_day: Mapped[date]
