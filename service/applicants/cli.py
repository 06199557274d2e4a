"""``python -m service import applicants FILE.csv [--dry-run]``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from service.applicants.importer import import_csv
from service.applicants.schemas import ImportReport
from service.core.config import get_settings
from service.core.db import Database
from service.core.errors import ServiceError, ValidationFailed

import_app = typer.Typer(help="Bulk imports.", no_args_is_help=True)

# Errors listed on the terminal; the full list is in --json output.
SHOWN_ERRORS = 50


async def _run(path: Path, size: int, *, dry_run: bool, progress: Progress | None) -> ImportReport:
    db = Database.from_url(get_settings().database_url)
    task = progress.add_task("importing", total=size) if progress is not None else None

    def advance(done: int, rows: int) -> None:
        if progress is not None and task is not None:
            progress.update(task, completed=done, description=f"{rows:,} rows")

    try:
        async with db.sessionmaker() as session:
            with path.open("rb") as source:
                report = await import_csv(
                    session, source, key_id=None, dry_run=dry_run, progress=advance
                )
            await session.commit()
            return report
    finally:
        await db.dispose()


@import_app.command("applicants")
def import_applicants(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="UTF-8 CSV file.")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count only.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Register or update applicants from a CSV file (same rules as the API).

    Exit status: 0 all rows imported, 1 some rows had errors (the others were
    imported), 2 the file was refused and nothing was written.
    """
    err = Console(stderr=True)
    show_bar = err.is_terminal and not as_json
    size = file.stat().st_size
    try:
        if show_bar:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err,
            ) as progress:
                report = asyncio.run(_run(file, size, dry_run=dry_run, progress=progress))
        else:
            report = asyncio.run(_run(file, size, dry_run=dry_run, progress=None))
    except ServiceError as exc:
        err.print(f"error: {exc.detail}", markup=False, highlight=False)
        if isinstance(exc, ValidationFailed):
            for problem in exc.errors:
                err.print(f"  {problem.field}: {problem.message}", markup=False, highlight=False)
        raise typer.Exit(2) from None

    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json")))
    else:
        prefix = "dry run: would have " if dry_run else ""
        typer.echo(
            f"{prefix}created {report.created}, updated {report.updated}, "
            f"unchanged {report.unchanged}, errors {len(report.errors)}"
            + ("+" if report.errors_truncated else "")
        )
        for e in report.errors[:SHOWN_ERRORS]:
            typer.echo(f"row {e.row}: {e.field}: {e.message}")
        if len(report.errors) > SHOWN_ERRORS:
            typer.echo(f"... {len(report.errors) - SHOWN_ERRORS} more (use --json for all)")
    if report.errors:
        raise typer.Exit(1)
