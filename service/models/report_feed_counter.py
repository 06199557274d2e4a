from sqlalchemy import BigInteger, CheckConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base


class ReportFeedCounter(Base):
    """The single row handing out ``ReportFeedEntry.position``."""

    __tablename__ = "report_feed_counter"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(BigInteger, default=0)
