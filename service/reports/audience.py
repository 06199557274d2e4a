"""What one reader of the completions feed and CSV may see (contract: Reports).

- reporter: the CNIC masked to its last digit, no certificate code, and
  enrollment and applicant ids as pseudonyms of its key (so nothing it
  receives can be turned into a name through certificate verification);
- staff: everything, for its centres only when the key is scoped;
- admin: everything.

Each rule is written here once for Python (the feed, the SQLite export) and
once for SQL (the PostgreSQL ``COPY`` export), side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, func, null
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from service.core.auth import Actor
from service.core.errors import Forbidden
from service.core.i18n import msg
from service.core.pseudonyms import Pseudonyms, pseudonyms_for
from service.models.enums import Role

CNIC_MASK = "*****-*******-"


def mask_cnic(cnic: str) -> str:
    """``12345-1234567-3`` → ``*****-*******-3``: the last digit only."""
    return CNIC_MASK + cnic[-1:]


def mask_cnic_sql(cnic: ColumnElement[str]) -> ColumnElement[str]:
    return CNIC_MASK + func.right(cnic, 1)


def check_export_fields(actor: Actor, *, full: bool) -> None:
    """Only staff and admin keys may export contact details (``fields=full``)."""
    if full and not actor.is_staff_or_admin:
        raise Forbidden(
            msg("contacts.forbidden", "Only staff and admin keys may export contact details.")
        )


@dataclass(frozen=True, slots=True)
class Audience:
    """How completion rows are shown to one key."""

    # Set for a reporter: its ids are pseudonyms, its CNICs masked, no codes.
    pseudonyms: Pseudonyms | None
    # Centre ids a scoped staff key is limited to; None means every centre.
    centre_ids: frozenset[str] | None

    # --- Python ---

    def enrollment_id(self, real: str) -> str:
        return real if self.pseudonyms is None else self.pseudonyms.of("enrollment", real)

    def applicant_id(self, real: str) -> str:
        return real if self.pseudonyms is None else self.pseudonyms.of("applicant", real)

    def cnic(self, cnic: str) -> str:
        return cnic if self.pseudonyms is None else mask_cnic(cnic)

    def certificate_code(self, code: str) -> str | None:
        return code if self.pseudonyms is None else None

    # --- SQL (PostgreSQL) ---

    def enrollment_id_sql(self, real: ColumnElement[Any]) -> ColumnElement[Any]:
        return real if self.pseudonyms is None else self.pseudonyms.sql("enrollment", real)

    def applicant_id_sql(self, real: ColumnElement[Any]) -> ColumnElement[Any]:
        return real if self.pseudonyms is None else self.pseudonyms.sql("applicant", real)

    def cnic_sql(self, cnic: ColumnElement[Any]) -> ColumnElement[Any]:
        return cnic if self.pseudonyms is None else mask_cnic_sql(cnic)

    def certificate_code_sql(self, code: ColumnElement[Any]) -> ColumnElement[Any]:
        return code if self.pseudonyms is None else null().cast(String())


async def audience_for(session: AsyncSession, actor: Actor) -> Audience:
    """The audience of a report key: anything but staff and admin sees what a reporter sees."""
    if not actor.is_staff_or_admin:
        return Audience(pseudonyms=await pseudonyms_for(session, actor.key_id), centre_ids=None)
    scope = actor.centre_ids if actor.role is Role.staff else None
    return Audience(pseudonyms=None, centre_ids=scope)
