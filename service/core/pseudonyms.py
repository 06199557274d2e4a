"""Per-key pseudonyms for the ids a reporter key receives.

The contract ("What a reporter can link"): a reporter sees an enrollment's or
an applicant's id only as a pseudonym that is stable for its key (a job can
count distinct trainees and match a revocation to its completion), different
for every key, and not derivable from the real id.

A pseudonym is ``HMAC-SHA256(key secret, "<kind>:<real id>")``, its first 16
bytes written as a UUID. The key secret is ``HMAC-SHA256(server secret, key
id)``; the server secret is 32 random bytes a migration made once for this
database (table ``server_secrets``): never shown, the same in every process
and across restarts. Without it, a real id cannot be turned into a pseudonym
or back. The same value is computed in Python (the feed, the SQLite export)
and by PostgreSQL (the ``COPY`` export, with the built-in ``sha256()``), so
every path agrees.

Everything that hands a reporter an id (the completions feed and CSV; later
the events feed) goes through :class:`Pseudonyms`.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import LargeBinary, String, Uuid, cast, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from service.models import ServerSecret

IdKind = Literal["enrollment", "applicant"]

_BLOCK = 64  # SHA-256's block size: HMAC pads its key to it


@dataclass(frozen=True, slots=True, repr=False)
class Pseudonyms:
    """The pseudonyms of one key."""

    secret: bytes

    def __repr__(self) -> str:  # never print the secret
        return "Pseudonyms(<secret>)"

    def of(self, kind: IdKind, real_id: str) -> str:
        message = f"{kind}:{real_id}".encode()
        digest = hmac.new(self.secret, message, hashlib.sha256).digest()
        return str(uuid.UUID(bytes=digest[:16]))

    def sql(self, kind: IdKind, real_id: ColumnElement[Any]) -> ColumnElement[str]:
        """:meth:`of` as a PostgreSQL expression (HMAC written out over ``sha256``).

        HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)), K' the key padded
        with zeros to the block size; both padded keys are bytea literals.
        """
        key = self.secret.ljust(_BLOCK, b"\0")
        inner = bytes(b ^ 0x36 for b in key) + f"{kind}:".encode()
        outer = bytes(b ^ 0x5C for b in key)
        message = func.convert_to(real_id, "UTF8", type_=LargeBinary)
        inner_hash = func.sha256(_bytea(inner).op("||")(message), type_=LargeBinary)
        digest = func.sha256(_bytea(outer).op("||")(inner_hash), type_=LargeBinary)
        first16 = func.substring(digest, 1, 16, type_=LargeBinary)
        return cast(cast(func.encode(first16, "hex"), Uuid()), String())


def _bytea(value: bytes) -> ColumnElement[bytes]:
    # Hex digits only: safe to write into the statement.
    return literal_column(f"'\\x{value.hex()}'::bytea", type_=LargeBinary)


SECRET_NAME = "pseudonyms"  # noqa: S105 - the row's name, not a secret


class MissingSecret(RuntimeError):
    """The database has no pseudonym secret: it was not made by the migrations."""


async def server_secret(session: AsyncSession) -> bytes:
    """This database's pseudonym secret (see the module's docstring)."""
    server = await session.scalar(
        select(ServerSecret.value).where(ServerSecret.name == SECRET_NAME)
    )
    if server is None:
        raise MissingSecret("server_secrets has no 'pseudonyms' row; run the migrations")
    return bytes.fromhex(server)


def for_key(server: bytes, key_id: str) -> Pseudonyms:
    """The pseudonyms of the API key ``key_id``, given the server secret."""
    return Pseudonyms(hmac.new(server, key_id.encode(), hashlib.sha256).digest())


async def pseudonyms_for(session: AsyncSession, key_id: str) -> Pseudonyms:
    """The pseudonyms of the API key ``key_id``."""
    return for_key(await server_secret(session), key_id)
