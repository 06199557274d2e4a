from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, enum_check


class ReportFeedEntry(Base):
    """Append-only feed of completions and revocations, in commit order.

    Filled by triggers on ``certificates``; ``position`` comes from
    ``ReportFeedCounter``, whose row lock is held until commit, so a
    later-committing transaction always gets a higher position.
    """

    __tablename__ = "report_feed"
    __table_args__ = (
        CheckConstraint(enum_check("kind", ("completion", "revocation")), name="kind"),
    )

    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    enrollment_id: Mapped[str] = mapped_column(String(36))
    certificate_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[datetime]
