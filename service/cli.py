"""`python -m service` / `enroll`: serve, migrate, seed and manage API keys."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncSession

from service.applicants.cli import import_app
from service.core.config import get_settings
from service.core.runner import run_with_session
from service.places.cli import places_app
from service.reports.cli import report_app

app = typer.Typer(
    help="Enrollment service for the ZTE ICT and Alibaba programmes.", no_args_is_help=True
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(import_app, name="import")
app.add_typer(report_app, name="report")
app.add_typer(places_app, name="places")

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str | None = None) -> Config:
    ini = PROJECT_ROOT / "alembic.ini"
    cfg = Config(str(ini)) if ini.exists() else Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url or get_settings().database_url)
    return cfg


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate the database up to REVISION (default: head)."""
    command.upgrade(alembic_config(), revision)


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "-1",
) -> None:
    """Migrate the database down to REVISION (default: one step; 'base' for all)."""
    command.downgrade(alembic_config(), revision)


@app.command("seed")
def seed_command() -> None:
    """Create the programmes, centres and the 100,000 target if missing."""
    from service.seed import seed

    result = run_with_session(seed)
    typer.echo(str(result))


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin, staff, client or reporter")],
    name: Annotated[str, typer.Option(help="A unique name, shown in audit trails.")],
    centre: Annotated[
        list[str] | None, typer.Option(help="Limit a staff key to this centre (repeatable).")
    ] = None,
) -> None:
    """Create an API key; the token is printed once, alone on the last line."""
    from service.keys import KeyError_, create_key

    try:
        token = run_with_session(
            lambda s: create_key(s, role=role, name=name, centres=centre or [])
        )
    except KeyError_ as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"created {role} key '{name}'. Store this token now; it is not shown again:")
    typer.echo(token)


@keys_app.command("revoke")
def keys_revoke(name: str) -> None:
    """Revoke the API key called NAME; it stops working at once."""
    from service.keys import KeyError_, revoke_key

    try:
        run_with_session(lambda s: revoke_key(s, name=name))
    except KeyError_ as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"revoked key '{name}'")


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port.")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes.")] = 1,
) -> None:
    """Migrate to head, seed if empty, and serve HTTP."""
    from service.seed import is_empty, seed
    from service.server import run_server

    settings = get_settings()
    db_upgrade("head")

    async def seed_if_empty(session: AsyncSession) -> None:
        if await is_empty(session):
            await seed(session)

    run_with_session(seed_if_empty)
    run_server(
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level,
    )


@app.command("worker")
def worker() -> None:
    """A standalone webhook dispatcher (any number may run at once); stops on SIGTERM."""
    import asyncio

    from service.core.db import Database
    from service.webhooks.runner import run_worker

    async def main() -> None:
        db = Database.from_url(get_settings().database_url)
        try:
            await run_worker(db)
        finally:
            await db.dispose()

    try:  # the event loop `serve` gets from uvicorn too, when installed
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency
        asyncio.run(main())
    else:
        uvloop.run(main())


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
