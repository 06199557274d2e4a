"""`python -m service report progress [--json]` (registered by ``service/cli.py``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from service.core.runner import run_with_session
from service.reports.service import progress

report_app = typer.Typer(help="Reports.", no_args_is_help=True)


@report_app.command("progress")
def progress_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Progress against every target, and enrollment counts per programme."""
    report = run_with_session(progress)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    console = Console()
    targets = Table(title="Targets")
    for column in (
        "target",
        "metric",
        "achieved",
        "goal",
        "%",
        "in training",
        "waitlisted",
        "last 30 days",
        "per day",
        "projected",
        "needed per day",
    ):
        targets.add_column(column, justify="left" if column in ("target", "metric") else "right")
    for t in report.targets:
        targets.add_row(
            t.code,
            t.metric,
            f"{t.achieved:,}",
            f"{t.goal:,}",
            f"{t.percent:.2f}",
            f"{t.in_training:,}",
            f"{t.waitlisted:,}",
            f"{t.completions_last_30_days:,}",
            f"{t.daily_rate:.2f}",
            str(t.projected_date or "-"),
            "-" if t.required_daily_rate is None else f"{t.required_daily_rate:.2f}",
        )
    console.print(targets)
    programmes = Table(title="Programmes")
    columns = (
        "applicants",
        "enrolled",
        "waitlisted",
        "completed",
        "failed",
        "dropped",
        "withdrawn",
        "offered",
        "declined",
        "expired",
        "no_show",
    )
    programmes.add_column("programme")
    for column in columns:
        programmes.add_column(column, justify="right")
    for p in report.programmes:
        programmes.add_row(p.code, *(f"{getattr(p, c):,}" for c in columns))
    console.print(programmes)
