from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, IdMixin, TimestampMixin


class Programme(IdMixin, TimestampMixin, Base):
    __tablename__ = "programmes"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    partner: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
