from datetime import date

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base


class ReportTargetDaily(Base):
    """Trigger-maintained new trainees of a target by the day they first completed."""

    __tablename__ = "report_target_daily"

    target_id: Mapped[str] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    shard: Mapped[str] = mapped_column(String(1), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
