from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedMixin, IdMixin


class DashboardSession(IdMixin, CreatedMixin, Base):
    """One signed-in browser. The signed cookie names this row; signing out deletes it."""

    __tablename__ = "dashboard_sessions"
    __table_args__ = (Index(None, "expires_at"),)

    api_key_id: Mapped[str] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime]
