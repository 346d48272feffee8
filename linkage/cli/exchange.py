"""``renkou exchange …``: cross-county 协查 query files and their status.

Mounted on the main app by ``linkage.cli``. Output is counts, county codes, cycles and file
names, never a name or an ID number (the query files themselves carry full IDs: they go from
authority to authority).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from linkage.cli._common import open_store
from linkage.cli.tasks import Operator, _day, _operator, _rate

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
    operator: Operator = None,
) -> None:
    """Write the open cross-county queries not yet sent, one file per county; mark them sent."""
    from linkage.exchange.outgoing import export_queries

    with open_store() as store:
        report = export_queries(store, out, operator=_operator(operator), sent_on=_day(sent_on))
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
    typer.echo(f"cycle {report.cycle}: {report.new} new queries, {len(report.files)} files")
    for f in report.files:
        typer.echo(f"  {f.to_county}  {f.new:>5} new  {f.queries:>5} in file  {f.path}")


@exchange_app.command("status")
def status_cmd(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Reference day; default today.")
    ] = None,
) -> None:
    """Per cycle and county: queries sent, answered, in time, overdue; the feedback rate."""
    from linkage.exchange.outgoing import query_status

    day = _day(as_of)
    with open_store() as store:
        target = store.settings.exchange.target_rate
        table = query_status(store, day)
    if table.is_empty():
        typer.echo("no queries sent yet")
        return
    typer.echo(f"as of {day.isoformat()}; feedback target {target:.0%} by the cycle's answer day")
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
