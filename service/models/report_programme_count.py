from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base


class ReportProgrammeCount(Base):
    """Trigger-maintained counter: one metric of one programme, split in shards.

    ``metric`` is an enrollment status (rows in that status), ``certified``
    (completed with a live certificate) or ``applicants`` (distinct applicants
    with an enrollment in the programme). ``shard`` is the last hex digit of
    the cohort id that caused the change, so writers in different cohorts
    rarely touch the same row; the value is the sum over shards.
    """

    __tablename__ = "report_programme_counts"

    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    shard: Mapped[str] = mapped_column(String(1), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
