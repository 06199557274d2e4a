from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, IdMixin, TimestampMixin, enum_check
from service.models.enums import Province, values


class Centre(IdMixin, TimestampMixin, Base):
    __tablename__ = "centres"
    __table_args__ = (
        CheckConstraint(
            f"province IS NULL OR {enum_check('province', values(Province))}", name="province"
        ),
    )

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    # NULL for the online centre, which is in no province.
    province: Mapped[str | None] = mapped_column(String(16))
