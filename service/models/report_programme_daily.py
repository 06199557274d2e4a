from datetime import date

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base


class ReportProgrammeDaily(Base):
    """Trigger-maintained daily counts per programme, for the 30-day window.

    ``completions``: live completions by the day they were completed;
    ``enrollments``: seat-holding enrollments by the day they were created.
    Sharded like ``ReportProgrammeCount``.
    """

    __tablename__ = "report_programme_daily"

    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    shard: Mapped[str] = mapped_column(String(1), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
