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

from linkage.cli._common import authorise, open_store, operator_account, state

if TYPE_CHECKING:
    from linkage.store import Store
    from linkage.tasks.reader import Problem

tasks_app = typer.Typer(
    no_args_is_help=True,
    help="Township verification task lists "
    "(入户核实): export, import answers, progress, base change list.",
)
audit_app = typer.Typer(
    no_args_is_help=True,
    help="The keyed, hash-chained audit log: every export, import, retrain, setting change "
    "and refused access.",
)


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
) -> None:
    """Write the open findings not yet sent as Excel task lists; mark them sent. A township
    operator writes only the list of its own township."""
    from linkage.tasks.export import export_tasks

    with open_store("tasks.export") as store:
        township = _own_township(township)
        report = export_tasks(
            store, out, operator=operator_account(), sent_on=_day(sent_on), township=township
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
        list[Path],
        typer.Argument(
            help="Returned workbooks (.xlsx, or AES packages .zip of the outbox).",
            exists=True,
            dir_okay=False,
        ),
    ],
) -> None:
    """Read returned workbooks, report every problem row, apply the valid answers. A township
    operator's workbooks of another township are refused whole."""
    from linkage.tasks.returns import import_returns

    with open_store("tasks.import") as store:
        report = import_returns(
            store, list(files), operator=operator_account(), township=_own_township(None)
        )
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
    with open_store("tasks.status") as store:
        target = store.settings.tasks.target_rate
        table, late = township_progress(store, day, target), overdue_tasks(store, day)
    own = _own_township(None)
    if own is not None:  # a township operator sees its own township
        table = table.filter(table["township"] == own)
        late = late.filter(late["township"] == own)
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
) -> None:
    """Write confirmed findings as the base change list (注销, 补登, 补录, 更正)."""
    from linkage.tasks.changes import write_changes

    with open_store("tasks.changes") as store:
        result = write_changes(
            store, out, operator=operator_account(), include_listed=include_listed
        )
    if result.path is None:
        typer.echo("no confirmed changes to list")
        return
    kinds = ", ".join(f"{k} {v}" for k, v in result.by_type.items())
    typer.echo(f"{result.rows} changes ({kinds}): {result.path}")


def _own_township(asked: str | None) -> str | None:
    """The township a command is limited to: a township operator's own (asking for another
    is refused), else what was asked."""
    from linkage.errors import RenkouError

    own = state.operator.township if state.operator else None
    if own is None:
        return asked
    if asked not in (None, own):
        raise RenkouError(
            f"{state.operator.describe() if state.operator else ''} works for {own} only. Fix: "
            f"drop --township, or have the county office export {asked}"
        )
    return own


@audit_app.command("verify")
def verify_cmd() -> None:
    """Check the keyed hash chain of the audit log, its anchor in the database and that every
    file the database records as exported or imported has an entry; exit 1 on a problem."""
    from linkage.audit import AuditLog, cross_check, recorded_anchor
    from linkage.cli._common import database
    from linkage.store import Store

    authorise("audit.verify")
    log = AuditLog.for_home(state.home)
    anchor, unaudited = None, []
    if database(state.home).is_file():
        with Store(state.home) as store:
            anchor = recorded_anchor(store)
            unaudited = cross_check(store, log.entries())
    result = log.verify(anchor)
    for warning in result.warnings:
        typer.secho(f"warning: {warning}", fg="yellow", err=True)
    for problem in unaudited:
        typer.secho(f"not audited: {problem}", fg="red", err=True)
    if result.ok and not unaudited:
        typer.echo(f"{result.describe()} ({log.path})")
        return
    typer.secho(f"{result.describe()} ({log.path})", fg="red", err=True)
    raise typer.Exit(1)


@audit_app.command("show")
def show_cmd(
    since: Annotated[
        str | None, typer.Option("--since", help="First day to show (YYYY-MM-DD).")
    ] = None,
) -> None:
    """The audit entries: time, operator, action and counts (never a name or an ID number)."""
    import json

    from linkage.audit import AuditLog

    authorise("audit.show")
    entries = AuditLog.for_home(state.home).since(_day(since) if since else None)
    if not entries:
        typer.echo("no audit entries" + (f" since {since}" if since else ""))
        return
    for e in entries:
        who = f"{e.get('operator')}" + (f" ({e['name']}, {e['role']})" if e.get("name") else "")
        details = json.dumps(e.get("details", {}), ensure_ascii=False, sort_keys=True)
        typer.echo(
            f"{e['seq']:>6} {str(e['time'])[:19]} {_pad(who, 30)} {e['action']:<18} {details}"
        )
