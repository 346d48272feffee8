"""``build_report``: gather every figure, keep a snapshot of them, write the HTML page.

The nightly flow calls :func:`nightly_report` after each run (``$RENKOU_HOME/reports/
report-<run>.html`` and a copy as ``latest.html``); ``renkou report --out FILE.html`` calls
:func:`build_report`. The page is one self-contained file; the comparison viewers are written
next to it (``<name>.viewer-<source>.html``) and linked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from linkage.errors import RenkouError
from linkage.report import fieldwork, history, night, quality
from linkage.report.model_charts import ModelSection, model_sections
from linkage.report.render import assert_no_id_numbers
from linkage.store import Store
from linkage.tables import PERSON_TABLE, REPORT_BASE_CACHE

log = logging.getLogger(__name__)

REPORTS_DIR = "reports"
LATEST = "latest.html"
HEADLINE = ("coverage", "completeness", "consistency", "id_validity")


@dataclass
class Figures:
    """Everything one report shows (frames; no ID numbers, no names)."""

    run_id: str
    generated_at: dt.datetime
    as_of: dt.date
    ingest_at: str | None
    headline: pl.DataFrame
    completeness: pl.DataFrame
    consistency: pl.DataFrame
    id_validity: pl.DataFrame
    coverage: pl.DataFrame
    townships: pl.DataFrame
    completeness_by_township: pl.DataFrame
    consistency_by_township: pl.DataFrame
    files: pl.DataFrame
    quarantine: pl.DataFrame
    links: pl.DataFrame
    findings_by_type_township: pl.DataFrame
    findings_by_status: pl.DataFrame
    tasks: pl.DataFrame | None
    tasks_target: float
    labels: pl.DataFrame | None
    runs: pl.DataFrame | None
    review: pl.DataFrame | None = None
    exchange_received: pl.DataFrame | None = None
    exchange_sent: pl.DataFrame | None = None
    exchange_target: float = 0.95
    models: list[ModelSection] = field(default_factory=list)
    previous_run: str | None = None
    changes: pl.DataFrame | None = None
    trend: pl.DataFrame | None = None


def collect(store: Store, *, run_id: str, as_of: dt.date, generated_at: dt.datetime) -> Figures:
    """Every figure of the report except the model charts (see ``model_charts``)."""
    tasks, target = fieldwork.task_progress(store, as_of)
    received, sent = fieldwork.exchange_progress(store, as_of)
    base = quality.with_link_rules(store, _base_figures(store, as_of))
    cov = quality.coverage(store, by_township=True)  # the county's row is their sum
    return Figures(
        run_id=run_id,
        generated_at=generated_at,
        as_of=as_of,
        ingest_at=night.ingest_time(store),
        headline=quality.headline(store, coverage_by_township=cov, base=base),
        completeness=base.completeness,
        consistency=base.consistency,
        id_validity=base.id_validity,
        coverage=quality.county_coverage(cov),
        townships=quality.township_ranking(store, coverage_by_township=cov, base=base),
        completeness_by_township=base.completeness_by_township,
        consistency_by_township=base.consistency_by_township,
        files=night.files_per_source(store),
        quarantine=night.quarantine_reasons(store),
        links=night.link_rates(store),
        findings_by_type_township=night.findings_by_type_township(store),
        findings_by_status=night.findings_by_status(store),
        tasks=tasks,
        tasks_target=target,
        labels=fieldwork.label_accuracy(store),
        review=fieldwork.review_decisions(store),
        runs=history.recent_runs(store),
        exchange_received=received,
        exchange_sent=sent,
        exchange_target=store.settings.exchange.target_rate,
    )


#: bump when the base figures change shape (cached ones of older code are computed again)
_BASE_CACHE_VERSION = "1"


def _base_figures(store: Store, as_of: dt.date) -> quality.BaseFigures:
    """The base-only figures, computed once per base and reference date: a night that
    changed no base record (most nights) reads them back instead of a pass over the base."""
    from linkage.link.run import base_fingerprint

    key = f"{_BASE_CACHE_VERSION}|{base_fingerprint(store)}|{as_of.isoformat()}"
    names = [f.name for f in dataclasses.fields(quality.BaseFigures)]
    if store.has_table(REPORT_BASE_CACHE):
        rows = dict(
            store.con.sql(
                f"SELECT name, data FROM {REPORT_BASE_CACHE} WHERE key = ?", params=[key]
            ).fetchall()
        )
        if set(rows) == set(names):
            return quality.BaseFigures(**{n: pl.read_ipc(io.BytesIO(rows[n])) for n in names})
    figures = quality.base_figures(store, as_of=as_of)
    blobs = []
    for n in names:
        buffer = io.BytesIO()
        getattr(figures, n).write_ipc(buffer)
        blobs.append((key, n, buffer.getvalue()))
    store.con.execute(
        f"CREATE OR REPLACE TABLE {REPORT_BASE_CACHE} (key VARCHAR, name VARCHAR, data BLOB)"
    )
    store.con.executemany(f"INSERT INTO {REPORT_BASE_CACHE} VALUES (?, ?, ?)", blobs)
    return figures


def snapshot_rows(fig: Figures) -> pl.DataFrame:
    """The figures kept in ``report_snapshots`` (figure, scope, value).

    County figures have scope ``county``; per-township rates are ``township_<figure>`` with the
    township as scope; link figures are scoped ``source/role``; findings by type; ingest
    counts by source.
    """
    parts = [fig.headline.select("figure", pl.lit("county").alias("scope"), "value")]
    for name in HEADLINE:
        if name in fig.townships.columns:
            parts.append(
                fig.townships.select(
                    pl.lit(f"township_{name}").alias("figure"),
                    pl.col("township").alias("scope"),
                    pl.col(name).alias("value"),
                )
            )
    scope = pl.concat_str("source", pl.lit("/"), "role").alias("scope")
    for name in ("records", "linked", "clerical", "link_rate"):
        parts.append(
            fig.links.select(
                pl.lit(name).alias("figure"), scope, pl.col(name).cast(pl.Float64).alias("value")
            )
        )
    open_by_type = fig.findings_by_type_township.group_by("finding_type").agg(
        pl.col("findings").sum()
    )
    parts.append(
        open_by_type.select(
            pl.lit("open_findings").alias("figure"),
            pl.col("finding_type").alias("scope"),
            pl.col("findings").cast(pl.Float64).alias("value"),
        )
    )
    for name in ("rows_in", "rows_quarantined", "rows_loaded"):
        parts.append(
            fig.files.select(
                pl.lit(name).alias("figure"),
                pl.col("source").alias("scope"),
                pl.col(name).cast(pl.Float64).alias("value"),
            )
        )
    if fig.tasks is not None:
        for name in ("feedback_rate", "overdue"):
            parts.append(
                fig.tasks.select(
                    pl.lit(f"tasks_{name}").alias("figure"),
                    pl.col("township").alias("scope"),
                    pl.col(name).cast(pl.Float64).alias("value"),
                )
            )
    return pl.concat(
        [p.with_columns(pl.col("value").cast(pl.Float64).fill_nan(None)) for p in parts]
    )


def resolve_run_id(store: Store) -> str:
    """The run this report is about: the newest ``runs`` row, else the run id of tonight's
    ingest, else ``ingest-<its time>``, else ``manual-<now>``."""
    run_id = history.latest_run_id(store)
    if run_id:
        return run_id
    ledger_run = store.scalar(
        "SELECT run_id FROM load_ledger ORDER BY loaded_at DESC, load_id DESC LIMIT 1"
    )
    if ledger_run:
        return str(ledger_run)
    ingest = night.ingest_time(store)
    if ingest:
        return "ingest-" + re.sub(r"[^0-9]", "", ingest)[:14]
    return dt.datetime.now().strftime("manual-%Y%m%d%H%M%S")


def build_report(
    store: Store,
    out: Path,
    *,
    run_id: str | None = None,
    as_of: dt.date | None = None,
    model_charts: bool = True,
) -> Path:
    """Write the report of the last run to ``out`` (HTML) and return its path.

    Also writes the comparison viewers next to it and stores the figures in
    ``report_snapshots`` (replacing an earlier snapshot of the same run). ``as_of`` is the
    reference date of ages and deadlines (default today).
    """
    from linkage.report.sections import page

    if not store.has_table("src_population") or not store.has_table(PERSON_TABLE):
        raise RenkouError(
            f"{store.path}: no population base loaded, so there is nothing to "
            f"report. Fix: run `renkou ingest` with the 全员人口库 export first"
        )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    run_id = run_id or resolve_run_id(store)
    generated_at = dt.datetime.now().replace(microsecond=0)
    fig = collect(store, run_id=run_id, as_of=as_of or dt.date.today(), generated_at=generated_at)
    rows = snapshot_rows(fig)
    fig.previous_run, previous = history.previous_snapshot(store, run_id)
    fig.changes = history.changes(rows, previous)
    history.save_snapshot(store, run_id, rows, generated_at)
    fig.trend = history.trend(store, list(HEADLINE))
    if model_charts:
        fig.models = model_sections(store, out.parent, out.stem)
    text = page(fig, store.settings.county_name)
    _refuse_id_numbers(text, out, fig.models)
    out.write_text(text, "utf-8")
    from linkage.audit import AuditLog, file_sha256

    AuditLog.for_home(store.home).append(
        "report",
        details={"file": out.name, "sha256": file_sha256(out), "run_id": run_id},
    )
    log.info(
        "report written: %s (%d charts of %d models)",
        out,
        sum(len(m.charts) for m in fig.models),
        len(fig.models),
    )
    return out


def _refuse_id_numbers(text: str, out: Path, sections: list[ModelSection]) -> None:
    """No page leaves with an ID number in it: a viewer holding one is deleted."""
    for m in sections:
        if m.viewer_file:
            viewer = out.parent / m.viewer_file
            try:
                assert_no_id_numbers(viewer.read_text("utf-8"), viewer.name)
            except RenkouError:
                viewer.unlink()
                raise
    assert_no_id_numbers(text, out.name)


def nightly_report(store: Store, run_id: str | None = None, *, model_charts: bool = True) -> Path:
    """``$HOME/reports/report-<run>.html`` and the same page as ``latest.html``."""
    run_id = run_id or resolve_run_id(store)
    folder = store.home / REPORTS_DIR
    safe = re.sub(r"[^0-9A-Za-z._-]+", "_", run_id)
    path = build_report(
        store, folder / f"report-{safe}.html", run_id=run_id, model_charts=model_charts
    )
    shutil.copyfile(path, folder / LATEST)  # its viewer links point to the run's files
    return path


def refresh_latest(store: Store) -> Path | None:
    """The last run's report written again (and ``latest.html``), when one was ever written:
    after township answers or 协查 answers come in, nothing an analyst opens is older than
    them. None when no report exists yet."""
    if not (store.home / REPORTS_DIR / LATEST).exists():
        return None
    return nightly_report(store)
