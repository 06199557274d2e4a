from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, BigIntPK, StrEnumType, enum_check, utcnow
from service.models.enums import values


class ApplicantEventType(StrEnum):
    linked = "applicant.linked"
    identity_corrected = "applicant.identity_corrected"


class ApplicantEvent(Base):
    """Append-only audit trail of who an applicant is and which clients may see it.

    Event-shaped (a ``type`` named as the contract's events, the time, the
    actor, thin data) so that the events outbox can take these rows over as
    they are. It never holds a CNIC, a name or a date of birth: an identity
    correction keeps a keyed fingerprint of the old values instead.
    """

    __tablename__ = "applicant_events"
    __table_args__ = (
        CheckConstraint(enum_check("type", values(ApplicantEventType)), name="type"),
        Index(None, "applicant_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    applicant_id: Mapped[str] = mapped_column(ForeignKey("applicants.id"))
    type: Mapped[ApplicantEventType] = mapped_column(StrEnumType(ApplicantEventType, 40))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The API key that made the change, and its name at the time.
    key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
    actor: Mapped[str] = mapped_column(String(100))
    # applicant.linked: when the linked client's user consented (the client is ``key_id``).
    consent_at: Mapped[datetime | None]
    # applicant.identity_corrected: the admin's reason, the fields changed
    # (comma-separated) and the keyed fingerprint of their old values.
    reason: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[str | None] = mapped_column(String(100))
    old_fingerprint: Mapped[str | None] = mapped_column(String(100))
