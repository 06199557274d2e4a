from datetime import date

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, IdMixin, StrEnumType, TimestampMixin, enum_check
from service.models.enums import TargetMetric, values
from service.models.programme import Programme

target_programmes = Table(
    "target_programmes",
    Base.metadata,
    Column("target_id", ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True),
    Column("programme_id", ForeignKey("programmes.id"), primary_key=True, index=True),
)


class Target(IdMixin, TimestampMixin, Base):
    __tablename__ = "targets"
    __table_args__ = (
        CheckConstraint("goal > 0", name="goal_positive"),
        CheckConstraint(enum_check("metric", values(TargetMetric)), name="metric"),
    )

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    goal: Mapped[int]
    metric: Mapped[TargetMetric] = mapped_column(StrEnumType(TargetMetric))
    deadline: Mapped[date | None]

    programmes: Mapped[list[Programme]] = relationship(
        secondary=target_programmes, lazy="raise", order_by=Programme.code
    )
