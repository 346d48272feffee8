"""``renkou review export|import``: the analyst decides the clerical pairs (docs/report.md,
"Analyst review"). Output is counts and file names, never a name or an ID number."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from linkage.cli._common import EXIT_MISTAKE, open_store, operator_account

review_app = typer.Typer(
    no_args_is_help=True,
    help="The clerical band: pairs the model could not decide, for an analyst (match / "
    "non-match / skip).",
)


@review_app.command("export")
def export_cmd(
    out: Annotated[
        Path,
        typer.Option(help="FILE.html (an offline page) or FILE.xlsx (an Excel workbook)."),
    ],
    source: Annotated[str | None, typer.Option(help="Only the pairs of this source.")] = None,
) -> None:
    """Write the undecided clerical pairs side by side with their waterfalls, IDs masked,
    those whose decision changes the findings most first."""
    from linkage.catalog import LINK_SOURCES
    from linkage.review.export import export_review

    if source is not None and source not in LINK_SOURCES:
        raise typer.BadParameter(
            f"{source!r}. Fix: one of {', '.join(LINK_SOURCES)}", param_hint="--source"
        )
    with open_store("review.export") as store:
        result = export_review(store, out, operator=operator_account(), source=source)
    total = sum(result.pairs.values())
    typer.echo(f"review {result.export_id}: {total} pairs → {out}")
    for name, n in result.pairs.items():
        typer.echo(f"  {name:<20} {n:>6}")


@review_app.command("import")
def import_cmd(
    file: Annotated[
        Path,
        typer.Argument(
            help="The workbook renkou review export wrote, filled in, or the "
            "review-decisions.csv its page saved.",
            exists=True,
            dir_okay=False,
        ),
    ],
) -> None:
    """Record the analyst's decisions (match / non-match / skip) with the operator and time;
    the next night applies them. Refused rows are named with the fix (exit code 2); the good
    ones are kept."""
    from linkage.review.imports import import_review

    with open_store("review.import") as store:
        result = import_review(store, file, operator=operator_account())
    for problem in result.problems:
        typer.secho(problem.describe(), fg="red", err=True)
    accepted = ", ".join(f"{k} {v}" for k, v in sorted(result.accepted.items())) or "none"
    typer.echo(
        f"{result.file}: {result.rows_read} rows read; accepted: {accepted}; "
        f"refused: {result.refused}. The next night (renkou run, or renkou link) applies them"
    )
    if result.problems:
        raise typer.Exit(EXIT_MISTAKE)
