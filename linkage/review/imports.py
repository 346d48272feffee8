"""``renkou review import``: the analyst's decisions on clerical pairs, back into the database.

Reads the workbook ``renkou review export`` wrote (the cell 判定 of each pair's first row) or
the ``review-decisions.csv`` its page saved (columns ``pair_key,decision``). A decision is
``match`` (同一人), ``non_match`` (不是同一人) or ``skip`` (跳过: looked at, not decided); a
blank one is no answer. Each accepted decision is a row of ``review_decisions`` with the
operator (the OS account of :mod:`linkage.operators`), the time, the file and row, the model's
probability and weight, and the source record's ``_row_hash`` (a record changed since is new
evidence: the decision then lapses, as a field rejection does).

A row is refused — named by file, sheet, row and column, with the fix — when its pair key is
unknown (never a clerical pair here), its value is no decision, the pair is no longer clerical
(linked or decided since the export), or the file decides one pair twice. The good rows are
kept. Every import is recorded (``review_imports``), archived and an audit entry.

The decisions act on the next link run (``linkage.link.run``): a match becomes a link with
``decided_by = 'analyst'``, a non-match is excluded like a field rejection; both are labels
(``linkage.labels.link_labels``) that count towards m re-estimation.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from linkage import archive, tables
from linkage.audit import AuditLog, file_sha256
from linkage.cells import restored
from linkage.labels import row_hashes
from linkage.review.export import DECISION_COLUMN, DECISION_HEADER, KEY_HEADER
from linkage.review.pairs import decided_sql, pair_key_sql
from linkage.store import Store
from linkage.tasks.reader import Problem

_KEY = re.compile(r"^RV[0-9A-F]{12}$")
#: what may stand in a decision cell → the decision (case and width folded)
WORDS = {
    "match": "match",
    "同一人": "match",
    "同一人 match": "match",
    "是": "match",
    "non_match": "non_match",
    "non-match": "non_match",
    "nonmatch": "non_match",
    "不是同一人": "non_match",
    "不是同一人 non_match": "non_match",
    "否": "non_match",
    "skip": "skip",
    "跳过": "skip",
    "跳过 skip": "skip",
}
_FIX_VALUE = "Fix: 同一人 match, 不是同一人 non_match or 跳过 skip (or leave it blank)"


@dataclass(frozen=True)
class _Row:
    sheet: str | None
    row: int
    column: str  # of the decision
    key_column: str  # of the pair key
    key: str | None
    value: str | None


@dataclass
class ReviewImport:
    """What one import did."""

    file: str
    file_hash: str
    import_id: str
    rows_read: int = 0
    accepted: dict[str, int] = field(default_factory=dict)  # decision → rows
    problems: list[Problem] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return restored(text) or None


def _read_workbook(path: Path, problems: list[Problem]) -> list[_Row]:
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # noqa: BLE001 - any reader failure is one clear problem
        problems.append(
            Problem(
                path.name,
                None,
                None,
                "unreadable",
                f"cannot be read as an Excel workbook ({type(err).__name__}). Fix: import the "
                ".xlsx as renkou review export wrote it, saved by Excel/WPS",
            )
        )
        return []
    column = f"{get_column_letter(DECISION_COLUMN)} ({DECISION_HEADER})"
    key_column = f"A ({KEY_HEADER})"
    rows: list[_Row] = []
    try:
        for sheet in book.worksheets:
            first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
            if not first or _clean(first[0]) != KEY_HEADER:
                continue  # the instructions sheet
            for number, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), 2):
                key = _clean(values[0]) if values else None
                if key is None or not _KEY.match(key.upper()):
                    continue  # a field or waterfall row of a pair
                value = (
                    _clean(values[DECISION_COLUMN - 1]) if len(values) >= DECISION_COLUMN else None
                )
                rows.append(_Row(sheet.title, number, column, key_column, key.upper(), value))
    finally:
        book.close()
    return rows


def _read_csv(path: Path, problems: list[Problem]) -> list[_Row]:
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except (pl.exceptions.PolarsError, OSError) as err:
        problems.append(
            Problem(
                path.name,
                None,
                None,
                "unreadable",
                f"cannot be read as CSV ({type(err).__name__}). Fix: import the "
                "review-decisions.csv the review page saved",
            )
        )
        return []
    frame = frame.rename({c: c.lstrip("\ufeff").strip() for c in frame.columns})
    missing = [c for c in ("pair_key", "decision") if c not in frame.columns]
    if missing:
        problems.append(
            Problem(
                path.name,
                None,
                None,
                "columns",
                f"has no column {', '.join(missing)}. Fix: import the review-decisions.csv "
                "the review page saved (header pair_key,decision)",
            )
        )
        return []
    return [
        _Row(None, i, "decision", "pair_key", _clean(k), _clean(v))
        for i, (k, v) in enumerate(frame.select("pair_key", "decision").iter_rows(), 2)
    ]


def import_review(
    store: Store, path: Path, *, operator: str, now: dt.datetime | None = None
) -> ReviewImport:
    """Check and record the decisions of one file (see the module docstring)."""
    tables.ensure(store.con, "review")
    digest = file_sha256(path)
    stamp = now or dt.datetime.now()
    result = ReviewImport(path.name, digest, f"V{stamp:%Y%m%d%H%M%S%f}")
    problems = result.problems
    if path.suffix.lower() == ".xlsx":
        rows = _read_workbook(path, problems)
    elif path.suffix.lower() == ".csv":
        rows = _read_csv(path, problems)
    else:
        problems.append(
            Problem(
                path.name,
                None,
                None,
                "format",
                "is neither the review workbook (.xlsx) nor the page's decisions (.csv). "
                "Fix: import the file renkou review export wrote, or review-decisions.csv",
            )
        )
        rows = []
    result.rows_read = len(rows)
    pairs = _pairs(store)
    seen: dict[str, str] = {}
    good: list[dict[str, object]] = []
    for r in rows:

        def bad(code: str, message: str, r: _Row = r, *, key: bool = False) -> None:
            column = r.key_column if key else r.column
            problems.append(Problem(path.name, r.sheet, r.row, code, f"column {column}: {message}"))

        if r.value is None:
            continue  # not decided: no answer
        key = (r.key or "").upper()
        decision = WORDS.get(r.value.casefold()) or WORDS.get(r.value)
        if not key:
            bad(
                "no_key",
                "a decision without a pair key. Fix: keep the pair key of the row",
                key=True,
            )
        elif decision is None:
            bad("value", f"{r.value[:20]!r} is no decision. {_FIX_VALUE}")
        elif key not in pairs:
            bad(
                "unknown_pair",
                f"pair {key[:16]} was never a clerical pair of this database. Fix: import the "
                "file where it was exported; do not edit the pair key",
                key=True,
            )
        elif not pairs[key]["open"]:
            bad(
                "not_clerical",
                f"pair {key} is no longer clerical (linked, excluded or decided since the "
                "export). Fix: renkou review export again and decide the pairs it shows",
            )
        elif key in seen and seen[key] != decision:
            bad(
                "twice",
                f"pair {key} is decided twice in this file ({seen[key]}, then {decision}). "
                "Fix: keep one decision per pair",
            )
        elif key not in seen:
            seen[key] = decision
            good.append({**pairs[key], "decision": decision, "file_row": r.row})
    hashes = row_hashes(store, [(str(g["source"]), str(g["source_record_id"])) for g in good])
    frame = pl.DataFrame(
        [
            {
                "pair_key": g["pair_key"],
                "source": g["source"],
                "source_record_id": g["source_record_id"],
                "role": g["role"],
                "person_id": g["person_id"],
                "decision": g["decision"],
                "match_probability": g["match_probability"],
                "match_weight": g["match_weight"],
                "source_row_hash": hashes.get((str(g["source"]), str(g["source_record_id"]))),
                "operator": operator,
                "decided_at": stamp,
                "import_id": result.import_id,
                "file": path.name,
                "row": g["file_row"],
            }
            for g in good
        ],
        schema={
            "pair_key": pl.String,
            "source": pl.String,
            "source_record_id": pl.String,
            "role": pl.String,
            "person_id": pl.String,
            "decision": pl.String,
            "match_probability": pl.Float64,
            "match_weight": pl.Float64,
            "source_row_hash": pl.String,
            "operator": pl.String,
            "decided_at": pl.Datetime("us"),
            "import_id": pl.String,
            "file": pl.String,
            "row": pl.Int32,
        },
    )
    for g in good:
        result.accepted[str(g["decision"])] = result.accepted.get(str(g["decision"]), 0) + 1
    if path.suffix.lower() in (".xlsx", ".csv") and rows:
        archive.keep(store, "review", path, digest)
    with store.transaction():
        if frame.height:
            store.con.register("tmp_renkou_review_new", frame)
            try:
                store.con.execute(
                    f"INSERT INTO {tables.REVIEW_DECISIONS} BY NAME "
                    "SELECT * FROM tmp_renkou_review_new"
                )
            finally:
                store.con.unregister("tmp_renkou_review_new")
        store.con.execute(
            f"INSERT INTO {tables.REVIEW_IMPORTS} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                result.import_id,
                path.name,
                digest,
                stamp,
                operator,
                result.rows_read,
                frame.height,
                result.refused,
            ],
        )
    AuditLog.for_home(store.home).append(
        "review.import",
        details={
            "import_id": result.import_id,
            "file": path.name,
            "sha256": digest,
            "rows_read": result.rows_read,
            "accepted": result.accepted,
            "refused": result.refused,
        },
    )
    return result


def _pairs(store: Store) -> dict[str, dict[str, object]]:
    """Every pair ever clerical here by key; ``open`` whether it is clerical now and not
    decided (a skipped pair stays open)."""
    if not store.has_table(tables.CLERICAL_SEEN):
        return {}
    current = (
        f"(SELECT {pair_key_sql('c')} AS pair_key, c.match_probability, c.match_weight "
        "FROM clerical c WHERE c.person_id IS NOT NULL)"
        if store.has_table("clerical")
        else "(SELECT NULL AS pair_key, NULL::DOUBLE AS match_probability, "
        "NULL::DOUBLE AS match_weight WHERE false)"
    )
    frame = store.frame(f"""
        SELECT s.pair_key, s.source, s.source_record_id, s.role, s.person_id,
               c.match_probability, c.match_weight,
               c.pair_key IS NOT NULL AND s.pair_key NOT IN (SELECT pair_key FROM {decided_sql()})
                   AS open
        FROM {tables.CLERICAL_SEEN} s LEFT JOIN {current} c USING (pair_key)
    """)
    return {r["pair_key"]: r for r in frame.iter_rows(named=True)}
