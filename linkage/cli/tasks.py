"""``renkou tasks …`` and ``renkou audit …``: thin commands over the task and audit modules.

Mounted on the main app by ``linkage.cli``. Imports of the domain happen inside the commands
so that ``renkou --help`` stays fast. Output is counts, file names, task ids and townships —
never a name or an ID number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from linkage.cli._common import home, open_store

if TYPE_CHECKING:
    from linkage.store import Store
    from linkage.tasks.reader import Problem

tasks_app = typer.Typer(
    no_args_is_help=True,
    help="Township verification task lists "
    "(入户核实): export, import answers, progress, base change list.",
)
audit_app = typer.Typer(
    no_args_is_help=True, help="The hash-chained audit log of exports and imports."
)

Operator = Annotated[
    str | None,
    typer.Option(
        "--operator",
        envvar="RENKOU_OPERATOR",
        help="Who runs this (audit log); default $RENKOU_OPERATOR or the OS user.",
    ),
]


def _operator(value: str | None) -> str:
    from linkage.audit import default_operator

    return value or default_operator()


def _pad(value: object, width: int, *, right: bool = False) -> str:
    """Pad to a display width: a hanzi takes two columns of a terminal."""
    import unicodedata

    text = str(value)
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    fill = " " * max(width - shown, 0)
    return fill + text if right else text + fill


def _say_problems(problems: Iterable[Problem]) -> None:
    """Every problem of an import on stderr, errors red and warnings yellow."""
    for p in problems:
        typer.secho(p.describe(), fg="red" if p.severity == "error" else "yellow", err=True)


def _refresh_report(store: Store) -> Path | None:
    """The analyst's report written again after answers came in (when one exists); a report
    that cannot be written is said, and the answers stay imported."""
    from linkage.errors import RenkouError
    from linkage.report import refresh_latest

    try:
        return refresh_latest(store)
    except (RenkouError, OSError) as err:
        typer.secho(
            f"warning: the report was not refreshed ({type(err).__name__}); the answers are "
            "imported. Fix: renkou report, once the cause is mended",
            fg="yellow",
            err=True,
        )
        return None


def _rate(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.1%}"  # None or NaN: no base


def _day(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2025-10-09") from None


@tasks_app.command("export")
def export_cmd(
    out: Annotated[Path, typer.Option(help="Folder for the workbooks (one per township).")],
    township: Annotated[str | None, typer.Option(help="Only this township.")] = None,
    sent_on: Annotated[
        str | None,
        typer.Option(
            "--date", help="Day the lists are sent (deadlines count from it); default today."
        ),
    ] = None,
    operator: Operator = None,
) -> None:
    """Write the open findings not yet sent as Excel task lists; mark them sent."""
    from linkage.tasks.export import export_tasks

    with open_store() as store:
        report = export_tasks(
            store, out, operator=_operator(operator), sent_on=_day(sent_on), township=township
        )
    if not report.files:
        typer.echo("no open findings to send")
        return
    typer.echo(f"export {report.export_id}: {report.tasks} tasks, {len(report.files)} files")
    for f in report.files:
        typer.echo(f"  {_pad(f.township, 12)} {f.tasks:>6} tasks  {f.sheets:>3} sheets  {f.path}")


@tasks_app.command("import")
def import_cmd(
    files: Annotated[
        list[Path], typer.Argument(help="Returned workbooks.", exists=True, dir_okay=False)
    ],
    operator: Operator = None,
) -> None:
    """Read returned workbooks, report every problem row, apply the valid answers."""
    from linkage.tasks.returns import import_returns

    with open_store() as store:
        report = import_returns(store, list(files), operator=_operator(operator))
        refreshed = _refresh_report(store)
    _say_problems(report.problems)
    typer.echo(
        f"{'file':<44} {'status':<17} {'read':>6} {'applied':>8} {'same':>6} "
        f"{'blank':>6} {'errors':>7}"
    )
    for f in report.files:
        typer.echo(
            f"{_pad(f.file, 44)} {f.status:<17} {f.rows_read:>6} {f.applied:>8} "
            f"{f.unchanged:>6} {f.pending:>6} {f.rejected:>7}"
        )
    if refreshed:
        typer.echo(f"report refreshed: {refreshed}")
    if report.errors:
        raise typer.Exit(1)


@tasks_app.command("status")
def status_cmd(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Reference day; default today.")
    ] = None,
) -> None:
    """Per township: sent, returned, overdue, feedback and confirmation rates; overdue tasks."""
    from linkage.tasks.progress import overdue_tasks, township_progress

    day = _day(as_of)
    with open_store() as store:
        target = store.settings.tasks.target_rate
        table, late = township_progress(store, day, target), overdue_tasks(store, day)
    if table.is_empty():
        typer.echo("no task lists sent yet")
        return
    typer.echo(f"as of {day.isoformat()}; feedback target {target:.0%}")
    typer.echo(
        f"{'township':<12} {'sent':>6} {'withdrawn':>9} {'returned':>9} {'on time':>8} "
        f"{'pending':>8} {'overdue':>8} {'feedback':>9} {'target':>7} {'confirmed':>10}"
    )
    for r in table.iter_rows(named=True):
        typer.echo(
            f"{_pad(r['township'], 12)} {r['sent']:>6} {r['withdrawn']:>9} "
            f"{r['returned']:>9} {r['on_time']:>8} "
            f"{r['pending']:>8} {r['overdue']:>8} {_rate(r['feedback_rate']):>9} "
            f"{'met' if r['meets_target'] else 'NOT met':>7} "
            f"{_rate(r['confirmation_rate']):>10}"
        )
    if late.height:
        typer.echo(f"\noverdue tasks ({late.height}):")
        for r in late.iter_rows(named=True):
            typer.echo(
                f"  {r['finding_id']}  {_pad(r['核查类型'], 16)} "
                f"{_pad(r['township'], 10)} {_pad(r['village'] or '', 12)} "
                f"due {r['deadline']}  "
                f"{r['working_days_late']} working days late"
            )


@tasks_app.command("changes")
def changes_cmd(
    out: Annotated[Path, typer.Option(help="The 变更清单 workbook to write (.xlsx).")],
    include_listed: Annotated[
        bool, typer.Option("--include-listed", help="Also changes already put in an earlier list.")
    ] = False,
    operator: Operator = None,
) -> None:
    """Write confirmed findings as the base change list (注销, 补登, 补录, 更正)."""
    from linkage.tasks.changes import write_changes

    with open_store() as store:
        result = write_changes(
            store, out, operator=_operator(operator), include_listed=include_listed
        )
    if result.path is None:
        typer.echo("no confirmed changes to list")
        return
    kinds = ", ".join(f"{k} {v}" for k, v in result.by_type.items())
    typer.echo(f"{result.rows} changes ({kinds}): {result.path}")


@audit_app.command("verify")
def verify_cmd() -> None:
    """Check the hash chain of the audit log; exit 1 naming the first bad entry."""
    from linkage.audit import AuditLog

    log = AuditLog.for_home(home())
    result = log.verify()
    if result.ok:
        typer.echo(f"{result.describe()} ({log.path})")
        return
    typer.secho(f"{result.describe()} ({log.path})", fg="red", err=True)
    raise typer.Exit(1)
