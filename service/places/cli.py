"""``python -m service places unmatched`` / ``places map "TEXT" CODE``."""

from __future__ import annotations

from typing import Annotated

import typer

from service.core.errors import NotFound

places_app = typer.Typer(help="Districts: applicants' district text.", no_args_is_help=True)


@places_app.command("unmatched")
def unmatched_command() -> None:
    """List district texts that name no district of the applicant's province (text, count)."""
    from service.core.runner import run_with_session
    from service.places.service import unmatched

    rows = run_with_session(unmatched)
    for text, count in rows:
        typer.echo(f"{text}\t{count}")
    total = sum(n for _, n in rows)
    typer.echo(f"{len(rows)} texts, {total} applicants unmatched", err=True)


@places_app.command("map")
def map_command(
    text: Annotated[str, typer.Argument(help="The district text exactly as stored.")],
    code: Annotated[str, typer.Argument(help="The district's code, e.g. pb-lahore.")],
) -> None:
    """Store district CODE's name for every applicant of its province whose text is TEXT."""
    from service.core.runner import run_with_session
    from service.places.service import map_text

    try:
        result = run_with_session(lambda s: map_text(s, text, code))
    except NotFound as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    d = result.district
    typer.echo(f"mapped {result.mapped} applicants to {d.name} ({d.code}, {d.province.value})")
    if result.other_provinces:
        left = ", ".join(f"{n} in {p}" for p, n in sorted(result.other_provinces.items()))
        typer.echo(
            f"left unchanged: {left} (another province than {d.name}'s: fix their province "
            "first, or map them to a district of theirs)",
            err=True,
        )
        raise typer.Exit(1)
