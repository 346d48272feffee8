"""What a run did, in counts, and how it reads: terminal text and the Prefect artifact.

The stage tasks turn the domain's reports into these counts (``ingest_counts``,
``link_counts``, ``findings_counts``); ``linkage.runs`` stores them with the run, and
``describe`` / ``markdown`` render a stored summary. Counts, file names, townships and finding
types only: never a name or an ID number.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from linkage.catalog import FINDING_TYPES
from linkage.store import Store

NO_TOWNSHIP = "（未知乡镇）"


def ingest_counts(report: Any, person_records: int) -> dict[str, Any]:
    """Counts of an ``IngestReport``; rejected files by name with the fix (no row values)."""
    files = report.files
    return {
        "files": len(files),
        "files_loaded": sum(f.status == "loaded" for f in files),
        "files_rejected": sum(f.status == "rejected" for f in files),
        "files_already_loaded": sum(f.status == "already_loaded" for f in files),
        **report.totals(),
        "person_records": person_records,
        "changed_sources": sorted(report.changed_sources),
        "rejected": [
            {"source": f.source, "file": f.file, "message": f.message}
            for f in files
            if f.status == "rejected"
        ],
        "problems": list(report.problems),
    }


def link_counts(report: Any) -> dict[str, Any]:
    """Counts of a ``LinkReport``."""
    total = {
        d: sum(c.get(d, 0) for c in report.decisions.values()) for d in ("link", "clerical", "none")
    }
    return {
        "mode": report.mode,
        "scored": dict(report.scored),
        "records_scored": sum(report.scored.values()),
        "links": total["link"],
        "clerical": total["clerical"],
        "unlinked": total["none"],
        "models": dict(report.models),
        "trained": list(report.trained),
        "seconds": {k: round(v, 2) for k, v in report.seconds.items()},
        "notes": list(getattr(report, "notes", [])),
    }


def findings_counts(
    store: Store, outcome: dict[str, int], notes: list[str] | None = None
) -> dict[str, Any]:
    """The merge outcome and the findings not closed, per type and township; ``notes`` say
    why a rule could not judge tonight."""
    rows = (
        store.frame(f"""
        SELECT finding_type, coalesce(township, '{NO_TOWNSHIP}') AS township, count(*) AS n
        FROM findings WHERE status <> 'closed' GROUP BY ALL ORDER BY ALL
    """)
        if store.has_table("findings")
        else None
    )
    table = [] if rows is None else [list(r) for r in rows.iter_rows()]
    by_type: dict[str, int] = {}
    for kind, _, n in table:
        by_type[kind] = by_type.get(kind, 0) + int(n)
    return {
        "merge": {k: int(v) for k, v in outcome.items()},
        "open": sum(by_type.values()),
        "by_type": by_type,
        "by_type_township": table,
        "notes": list(notes or []),
    }


def _short(finding_type: str) -> str:
    kind = FINDING_TYPES.get(finding_type)
    return kind.short if kind else finding_type


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: object, width: int, *, right: bool = False) -> str:
    text = str(text)
    fill = " " * max(width - _width(text), 0)
    return fill + text if right else text + fill


def _pivot(table: list[list[Any]]) -> tuple[list[str], list[tuple[str, list[int]]]]:
    """[type, township, n] rows → finding types, and per township its counts by type."""
    types = sorted({r[0] for r in table})
    towns: dict[str, dict[str, int]] = {}
    for kind, town, n in table:
        towns.setdefault(town, {})[kind] = int(n)
    return types, [(t, [towns[t].get(k, 0) for k in types]) for t in sorted(towns)]


def _headline(s: dict[str, Any]) -> str:
    mode = s.get("stages", {}).get("link", {}).get("mode")
    parts = [f"run {s['run_id']}: {s['status']}"]
    if s.get("seconds") is not None:
        parts.append(f"in {s['seconds']:.1f} s")
    if mode:
        parts.append(f"(link {mode})")
    return " ".join(parts)


def _facts(s: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) lines shared by the terminal and the markdown summary."""
    st = s.get("stages", {})
    lines: list[tuple[str, str]] = []
    if s.get("recovered"):
        lines.append(
            (
                "recovered",
                f"run {s['recovered']} had died mid-way; the database was "
                f"restored to its state before it",
            )
        )
    if ing := st.get("ingest"):
        lines.append(
            (
                "files",
                f"{ing['files']}: {ing['files_loaded']} loaded, "
                f"{ing['files_rejected']} rejected, "
                f"{ing['files_already_loaded']} loaded before",
            )
        )
        lines.append(
            (
                "rows",
                f"{ing['rows_in']:,} in: {ing['rows_loaded']:,} new, "
                f"{ing['rows_updated']:,} updated, {ing['rows_unchanged']:,} "
                f"unchanged, {ing['rows_quarantined']:,} quarantined",
            )
        )
        lines += [
            ("rejected", f"{r['source']}/{r['file']}: {r['message']}") for r in ing["rejected"]
        ]
        lines += [("problem", p) for p in ing["problems"]]
    if lk := st.get("link"):
        scored = ", ".join(f"{k} {v:,}" for k, v in lk["scored"].items() if v) or "none"
        lines.append(
            (
                "links",
                f"{lk['links']:,} linked, {lk['clerical']:,} for review, "
                f"{lk['unlinked']:,} unlinked; scored tonight: {scored}",
            )
        )
        trained = f" (trained now: {', '.join(lk['trained'])})" if lk["trained"] else ""
        lines.append(("models", ", ".join(f"{k} {v}" for k, v in lk["models"].items()) + trained))
        lines += [("note", note) for note in lk.get("notes", [])]
    if fd := st.get("findings"):
        m = fd["merge"]
        lines.append(
            (
                "findings",
                f"{fd['open']:,} not closed; tonight {m.get('new', 0)} new, "
                f"{m.get('closed', 0)} closed, "
                f"{m.get('reopened_new_evidence', 0)} reopened",
            )
        )
        lines += [("note", note) for note in fd.get("notes", [])]
    if tk := st.get("tasks"):
        lines.append(("task lists", f"{tk['tasks']:,} tasks in {tk['files']} workbooks"))
    if f := s.get("failure"):
        restored = (
            " The database was restored to its state before the run; fix the cause and run again."
            if s.get("restored")
            else ""
        )
        lines.append(
            ("FAILED", f"stage {f['stage']}: {f['error_class']}: {f['message']}.{restored}")
        )
        lines += [("also failed", o) for o in f.get("others", [])]
    if s.get("timings"):
        lines.append(
            (
                "stages",
                ", ".join(
                    f"{t['stage']} {t['seconds']:.1f} s"
                    + ("" if t["status"] == "ok" else " (failed)")
                    for t in s["timings"]
                ),
            )
        )
    return lines


def describe(s: dict[str, Any]) -> str:
    """The run summary for a terminal: counts, findings by township and type, outputs."""
    out = [_headline(s)]
    out += [f"{_pad(label, 11)} {text}" for label, text in _facts(s)]
    if fd := s.get("stages", {}).get("findings"):
        types, towns = _pivot(fd["by_type_township"])
        if towns:
            width = max(_width(t) for t, _ in towns) + 2
            out.append("findings not closed, by township and type:")
            out.append(
                "  "
                + _pad("township", width)
                + "".join(_pad(_short(k), 11, right=True) for k in types)
            )
            out += [
                "  " + _pad(t, width) + "".join(_pad(n, 11, right=True) for n in ns)
                for t, ns in towns
            ]
    out.append("outputs:")
    out += [f"  {_pad(k, 16)} {v}" for k, v in s.get("outputs", {}).items()]
    return "\n".join(out)


def markdown(s: dict[str, Any]) -> str:
    """The run summary as a Prefect markdown artifact (counts only)."""
    out = [f"# renkou night {s['run_id']}", "", f"**{_headline(s)}**", "", "| | |", "|---|---|"]
    out += [f"| {label} | {text.replace('|', '/')} |" for label, text in _facts(s)]
    if fd := s.get("stages", {}).get("findings"):
        types, towns = _pivot(fd["by_type_township"])
        if towns:
            out += [
                "",
                "## Findings not closed, by township and type",
                "",
                "| township | " + " | ".join(types) + " |",
                "|---|" + "---:|" * len(types),
            ]
            out += [f"| {t} | " + " | ".join(str(n) for n in ns) + " |" for t, ns in towns]
    out += ["", "## Outputs", ""] + [f"- {k}: `{v}`" for k, v in s.get("outputs", {}).items()]
    return "\n".join(out) + "\n"
