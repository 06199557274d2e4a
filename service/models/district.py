from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, CreatedMixin, StrEnumType, enum_check
from service.models.enums import Province, values


class District(CreatedMixin, Base):
    """One district of the reference list (seeded from ``service/places/data``)."""

    __tablename__ = "districts"
    __table_args__ = (CheckConstraint(enum_check("province", values(Province)), name="province"),)

    # Stable, never reused: "pb-lahore".
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Canonical English name: what applicants' ``district`` stores.
    name: Mapped[str] = mapped_column(String(80), unique=True)
    name_ur: Mapped[str] = mapped_column(String(80))
    province: Mapped[Province] = mapped_column(StrEnumType(Province), index=True)


class DistrictAlias(CreatedMixin, Base):
    """Another spelling of a district ("LHR", "DG Khan"). Added, never changed."""

    __tablename__ = "district_aliases"

    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), primary_key=True)
    alias: Mapped[str] = mapped_column(String(80), primary_key=True)


class PlacesVersion(Base):
    """One row, changed by every change to the list: server processes compare it on a miss."""

    __tablename__ = "places_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(36))
    changed_at: Mapped[datetime]
