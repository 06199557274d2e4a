from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models.base import Base, CreatedMixin, IdMixin, StrEnumType, enum_check
from service.models.centre import Centre
from service.models.enums import Role, values

api_key_centres = Table(
    "api_key_centres",
    Base.metadata,
    Column("api_key_id", ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True),
    Column("centre_id", ForeignKey("centres.id"), primary_key=True, index=True),
)


class ApiKey(IdMixin, CreatedMixin, Base):
    """A bearer token's identity. Only the SHA-256 of the token is stored."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(enum_check("role", values(Role)), name="role"),)

    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, to tell keys apart in listings.
    token_prefix: Mapped[str] = mapped_column(String(16))
    revoked_at: Mapped[datetime | None]

    # Staff scope; empty means every centre.
    centres: Mapped[list[Centre]] = relationship(
        secondary=api_key_centres, lazy="raise", order_by=Centre.code
    )
