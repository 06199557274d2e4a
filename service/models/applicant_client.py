from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base, utcnow


class ApplicantClient(Base):
    """A client key linked to an applicant that another key registered.

    A second partner app that registers the same person (same CNIC, name and
    date of birth) is linked here instead of being refused: it may then read,
    update and enrol the applicant like the app that registered it. The key
    that registered the applicant is ``applicants.created_by_key_id``, not a row
    here, so registration stays one INSERT.
    """

    __tablename__ = "applicant_clients"

    applicant_id: Mapped[str] = mapped_column(ForeignKey("applicants.id"), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"), primary_key=True, index=True)
    # When this client's user gave consent (the linking request's time).
    consent_at: Mapped[datetime]
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
