from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base


class ReportTargetCount(Base):
    """Trigger-maintained trainee count of a target, split in shards (sum them)."""

    __tablename__ = "report_target_counts"

    target_id: Mapped[str] = mapped_column(primary_key=True)
    shard: Mapped[str] = mapped_column(String(1), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
