"""Demo only: play the townships. Answer the exported task lists from the county's truth.

    .venv/bin/python scripts/demo_township_returns.py HOME TRUTH_DIR OUT_DIR

For every workbook of the newest export under HOME/outbox/, a verifier answers 9 tasks in 10
(属实 when the case is real in truth/, 不属实 when it is not) and leaves the rest unanswered,
then saves the workbook to OUT_DIR as a township would send it back. `make demo` then imports
the returns and writes the base change list.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linkage.catalog import FINDING_TYPES  # noqa: E402
from linkage.evaluate import read_truth  # noqa: E402
from linkage.store import Store  # noqa: E402


def true_cases(store: Store, truth: Path) -> set[str]:
    """finding_ids of the current findings that are real cases in the truth, matched on the
    key each finding type declares for evaluation (``linkage.catalog``)."""
    human = dict(read_truth(truth, "base_map").select("person_id", "true_pid").iter_rows())

    def key(row: dict[str, str]) -> tuple[object, ...]:
        kind = row["finding_type"]
        how = FINDING_TYPES[kind].evaluation
        if how == "person":
            return (kind, human.get(row["person_id"]))
        if how == "person_field":
            return (kind, human.get(row["person_id"]), row["field"])
        if how == "pair":
            same = human.get(row["person_id"]) == human.get(row["other_person_id"])
            return (kind,) if same else ("no",)
        return (kind, row["source"], row["source_record_id"])

    keys = {key(r) for r in read_truth(truth, "findings").iter_rows(named=True)}
    return {
        r["finding_id"]
        for r in store.frame("SELECT * FROM findings").iter_rows(named=True)
        if key(r) in keys
    }


def main() -> None:
    home, truth, out = (Path(a) for a in sys.argv[1:4])
    out.mkdir(parents=True, exist_ok=True)
    exports = sorted(p for p in (home / "outbox").iterdir() if p.is_dir())
    with Store(home) as store:
        real = true_cases(store, truth)
    answered = 0
    for path in sorted(exports[-1].glob("*.xlsx")):
        book = openpyxl.load_workbook(path)
        for ws in book.worksheets:
            header = next(
                (
                    r
                    for r in range(1, 11)
                    for c in range(1, ws.max_column + 1)
                    if ws.cell(r, c).value == "任务编号"
                ),
                None,
            )
            if header is None:
                continue
            cols = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
            for i, r in enumerate(range(header + 1, ws.max_row + 1)):
                task = ws.cell(r, cols["任务编号"]).value
                if not task or i % 10 == 9:
                    continue
                ws.cell(r, cols["核查结果"]).value = "属实" if task in real else "不属实"
                ws.cell(r, cols["核查人"]).value = "演示核查员"
                ws.cell(r, cols["核查日期"]).value = dt.date.today().isoformat()
                answered += 1
        book.save(out / path.name)
    print(f"answered {answered} tasks in {len(list(out.glob('*.xlsx')))} workbooks → {out}")


if __name__ == "__main__":
    main()
