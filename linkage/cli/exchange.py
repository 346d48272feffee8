"""``renkou exchange …``: cross-county 协查 files out and in, answers, and their status.

Mounted on the main app by ``linkage.cli``. Output is counts, county codes, cycles and file
names, never a name or an ID number (the query files themselves carry full IDs: they go from
authority to authority).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from linkage.cli._common import open_store, operator_account
from linkage.cli.tasks import (
    _day,
    _pad,
    _rate,
    _refresh_report,
    _say_problems,
)

if TYPE_CHECKING:
    import polars as pl

exchange_app = typer.Typer(
    no_args_is_help=True,
    help="Cross-county 协查: query files to the counties people are registered in, status.",
)


@exchange_app.command("export")
def export_cmd(
    out: Annotated[Path, typer.Option(help="Folder for the query files (one per county).")],
    sent_on: Annotated[
        str | None,
        typer.Option("--date", help="Day the queries are sent (cycle, 反馈期限); default today."),
    ] = None,
    resend: Annotated[
        list[str] | None,
        typer.Option(
            "--resend",
            help="A 协查编号 sent before to send again (the county asked for it); repeatable.",
        ),
    ] = None,
) -> None:
    """Write the open cross-county queries not yet sent, one file per county; mark them sent."""
    from linkage.exchange.files import NO_KEY_WARNING
    from linkage.exchange.outgoing import export_queries

    with open_store("exchange.export") as store:
        report = export_queries(
            store, out, operator=operator_account(), sent_on=_day(sent_on), resend=resend
        )
    if report.no_destination:
        typer.secho(
            f"{report.no_destination} queries wait for a county to send them to (no ID address "
            "code or address names one): see `renkou export findings`, cross_county_query rows "
            "with an empty destination",
            fg="yellow",
            err=True,
        )
    if not report.files:
        typer.echo("no new queries to send")
        return
    if not report.encrypted:
        typer.secho(f"warning: {NO_KEY_WARNING}", fg="yellow", err=True)
    again = f", {report.resent} sent again" if report.resent else ""
    typer.echo(f"cycle {report.cycle}: {report.new} new queries{again}, {len(report.files)} files")
    for f in report.files:
        typer.echo(f"  {f.to_county}  {f.new:>5} new  {f.queries:>5} in file  {f.path}")


@exchange_app.command("import")
def import_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Query or answer files (协查_… / 协查反馈_…).", exists=True, dir_okay=False
        ),
    ],
) -> None:
    """Read other counties' queries (answered from the base) and answers to ours."""
    from linkage.exchange.incoming import import_exchange

    with open_store("exchange.import") as store:
        report = import_exchange(store, list(files), operator=operator_account())
        refreshed = _refresh_report(store)
    _say_problems(report.problems)
    typer.echo(
        f"{'file':<44} {'kind':<7} {'status':<17} {'read':>6} {'accepted':>9} {'same':>6} "
        f"{'refused':>8}"
    )
    for f in report.files:
        typer.echo(
            f"{_pad(f.file, 44)} {f.kind:<7} {f.status:<17} {f.rows_read:>6} {f.accepted:>9} "
            f"{f.unchanged:>6} {f.refused:>8}"
        )
    if report.concluded:
        said = ", ".join(f"{k} {v}" for k, v in sorted(report.concluded.items()))
        typer.echo(f"queries received, concluded: {said}")
        if report.concluded.get("需入户核实"):
            typer.echo(
                "  需入户核实: tonight's findings stage makes them township tasks "
                "(incoming_query); their answers complete the reply"
            )
    if report.closed:
        said = ", ".join(f"{k} {v}" for k, v in sorted(report.closed.items()))
        typer.echo(f"answers to our queries: {said}")
    if refreshed:
        typer.echo(f"report refreshed: {refreshed}")
    if report.errors:
        raise typer.Exit(1)


@exchange_app.command("answers")
def answers_cmd(
    out: Annotated[Path, typer.Option(help="Folder for the answer files (one per county).")],
    answered_on: Annotated[
        str | None, typer.Option("--date", help="Day the answers are sent; default today.")
    ] = None,
) -> None:
    """Write the answers to other counties' queries, one file per county and cycle."""
    from linkage.exchange.files import NO_KEY_WARNING
    from linkage.exchange.incoming import export_answers

    with open_store("exchange.answers") as store:
        written = export_answers(
            store, out, operator=operator_account(), answered_on=_day(answered_on)
        )
    if not written:
        typer.echo("no new answers to send")
        return
    if any(f.path.suffix != ".zip" for f in written):
        typer.secho(f"warning: {NO_KEY_WARNING}", fg="yellow", err=True)
    typer.echo(f"{sum(f.new for f in written)} new answers, {len(written)} files")
    for f in written:
        typer.echo(f"  {f.to_county}  {f.new:>5} new  {f.answers:>5} in file  {f.path}")


@exchange_app.command("status")
def status_cmd(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Reference day; default today.")
    ] = None,
) -> None:
    """Per cycle and county: queries sent and received, answered, overdue; feedback rates."""
    from linkage.exchange.incoming import received_status
    from linkage.exchange.outgoing import query_status

    day = _day(as_of)
    with open_store("exchange.status") as store:
        target = store.settings.exchange.target_rate
        table, received = query_status(store, day), received_status(store, day)
    typer.echo(f"as of {day.isoformat()}; feedback target {target:.0%} by the cycle's answer day")
    _received(received)
    if table.is_empty():
        typer.echo("\nno queries sent yet")
        return
    typer.echo("\nqueries sent")
    typer.echo(
        f"{'cycle':<7} {'county':<7} {'sent':>6} {'answered':>9} {'in time':>8} "
        f"{'overdue':>8} {'waiting':>8} {'feedback':>9} {'target':>7}"
    )
    for r in table.iter_rows(named=True):
        typer.echo(
            f"{r['cycle']:<7} {r['to_county']:<7} {r['sent']:>6} {r['answered']:>9} "
            f"{r['in_time']:>8} {r['overdue']:>8} {r['waiting']:>8} "
            f"{_rate(r['feedback_rate']):>9} {'met' if r['meets_target'] else 'NOT met':>7}"
        )


def _received(table: pl.DataFrame) -> None:
    if table.is_empty():
        typer.echo("no queries received yet")
        return
    typer.echo("queries received")
    typer.echo(
        f"{'cycle':<7} {'county':<7} {'received':>9} {'answered':>9} {'visiting':>9} "
        f"{'waiting':>8} {'feedback':>9} {'target':>7}"
    )
    for r in table.iter_rows(named=True):
        typer.echo(
            f"{r['cycle']:<7} {r['from_county']:<7} {r['received']:>9} {r['answered']:>9} "
            f"{r['visiting']:>9} {r['waiting']:>8} {_rate(r['feedback_rate']):>9} "
            f"{'met' if r['meets_target'] else 'NOT met':>7}"
        )
