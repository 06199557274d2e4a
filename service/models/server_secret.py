from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from service.models.base import Base


class ServerSecret(Base):
    """Random secrets made once per database by a migration; never shown or logged.

    ``pseudonyms``: keys the per-API-key pseudonyms a reporter receives instead
    of real ids (service/core/pseudonyms.py). Kept in the database, not the
    process environment, so every process and every restart agree.
    """

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
