"""What leaves the night for people and machines: ``export``, ``evaluate``, ``report``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from linkage.cli import app
from linkage.cli._common import open_store, operator_account, state

export_app = typer.Typer(
    no_args_is_help=True, help="Write the machine-readable exports of docs/interfaces.md."
)
app.add_typer(export_app, name="export")

Out = Annotated[Path, typer.Option(help="CSV file to write (UTF-8 with a BOM, for Excel).")]


@export_app.command("links")
def export_links(out: Out) -> None:
    """Accepted person links, one row per source record and role."""
    from linkage.exports import write_links

    with open_store("export.links") as store:
        n = write_links(store, out)
    typer.echo(f"{n} rows → {out}")


@export_app.command("findings")
def export_findings(out: Out) -> None:
    """Every finding that is not closed, with its status."""
    from linkage.cli.tasks import _own_township
    from linkage.exports import write_findings

    with open_store("export.findings") as store:
        n = write_findings(store, out, township=_own_township(None))
    typer.echo(f"{n} rows → {out}")


@app.command()
def evaluate(
    truth: Annotated[Path, typer.Option(help="truth/ folder of a generated county.")],
    out: Annotated[
        Path | None, typer.Option(help="JSON file (default HOME/evaluation.json).")
    ] = None,
) -> None:
    """Precision, recall and F1 of links and findings, beside the exact-ID baseline."""
    from linkage.evaluate import evaluate as run_evaluation
    from linkage.evaluate import write_json

    with open_store("evaluate") as store:
        result = run_evaluation(store, truth)
    typer.echo(result.table())
    target = out or state.home / "evaluation.json"
    write_json(result, target)
    typer.echo(f"written: {target}")


@app.command()
def report(
    out: Annotated[
        Path | None,
        typer.Option(
            help="HTML file to write. Default: HOME/reports/report-<run>.html and latest.html."
        ),
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option("--run-id", help="Run the report is about (default: the newest run)."),
    ] = None,
    model_charts: Annotated[
        bool,
        typer.Option("--model-charts/--no-model-charts", help="Splink charts and viewers."),
    ] = True,
) -> None:
    """Write the HTML report: tonight's run, the model, data quality, field work (offline)."""
    from linkage.report import build_report, nightly_report

    with open_store("report") as store:
        path = (
            build_report(store, out, run_id=run_id, model_charts=model_charts)
            if out
            else nightly_report(store, run_id, model_charts=model_charts)
        )
    typer.echo(f"report: {path}")


#: short headings of the assessed figures (``linkage.report.quality.ASSESSED``)
FIGURE_HEADINGS = {
    "coverage": "覆盖率",
    "birth_coverage": "出生覆盖",
    "matching_rate": "匹配率",
    "completeness": "完整率",
    "consistency": "逻辑符合",
    "accuracy": "准确率",
    "timeliness": "及时率",
    "feedback_rate": "反馈率",
    "on_time_feedback_rate": "按期反馈",
    "confirmed_rate": "属实率",
}


@app.command()
def figures(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Reference day (YYYY-MM-DD); default today.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON: county and townships, rates as fractions.")
    ] = False,
) -> None:
    """The assessment figures, for the county and per township (docs/report.md)."""
    import json

    from linkage.cli.tasks import _day, _pad, _rate
    from linkage.report.quality import ASSESSED, assessment

    with open_store("figures") as store:
        result = assessment(store, as_of=_day(as_of))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    typer.echo(f"as of {result['as_of']}")
    typer.echo(_pad("", 14) + "".join(_pad(FIGURE_HEADINGS[f], 10, right=True) for f in ASSESSED))
    rows = {"县 county": result["county"], **result["townships"]}
    for name, values in rows.items():
        cells = "".join(_pad(_rate(values.get(f)), 10, right=True) for f in ASSESSED)
        typer.echo(_pad(name, 14) + cells)
    county = result["county"]
    typer.echo(
        f"协查 queries received: feedback {_rate(county.get('exchange_feedback_rate'))}, "
        f"by their 反馈期限 {_rate(county.get('exchange_on_time_feedback_rate'))}"
    )
    unmeasured = result["not_measurable"]
    typer.echo(
        f"not measurable (the base does not carry them): {unmeasured['count']} items, "
        + "、".join(unmeasured["items"])
    )


@app.command()
def bulletin(
    out: Annotated[Path, typer.Option(help="Folder for the bulletin (.xlsx, and .pdf).")],
    period: Annotated[
        str, typer.Option(help="week, month or quarter, to date (plan 000: weekly progress).")
    ] = "month",
    day: Annotated[
        str | None, typer.Option("--date", help="Last day of the period; default today.")
    ] = None,
) -> None:
    """The 通报: every township's figures against the targets, ranked, the weakest named."""
    from linkage.cli.tasks import _day
    from linkage.report.bulletin import PERIODS, write_bulletin

    if period not in PERIODS:
        raise typer.BadParameter(
            f"{period!r}. Fix: one of {', '.join(PERIODS)}", param_hint="--period"
        )
    with open_store("bulletin") as store:
        result = write_bulletin(
            store, out, operator=operator_account(), period=period, day=_day(day)
        )
    typer.echo(f"{result.title}: {result.workbook}")
    if result.pdf:
        typer.echo(f"PDF: {result.pdf}")
    else:
        typer.secho(
            "no PDF: LibreOffice is not installed (apt-get install libreoffice-calc "
            "fonts-noto-cjk)",
            fg="yellow",
            err=True,
        )
    for figure, towns in result.below.items():
        typer.echo(f"  below target, {figure}: {len(towns)} townships")
