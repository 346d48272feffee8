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

from linkage.evaluate import read_truth  # noqa: E402
from linkage.store import Store  # noqa: E402


def true_cases(store: Store, truth: Path) -> set[str]:
    """finding_ids of the current findings that are real cases in the truth."""
    human = dict(read_truth(truth, "base_map").select("person_id", "true_pid").iter_rows())
    want = read_truth(truth, "findings")
    keys = set()
    for row in want.iter_rows(named=True):
        kind = row["finding_type"]
        if kind in ("suspected_death", "moved_out"):
            keys.add((kind, human.get(row["person_id"])))
        elif kind == "attribute_conflict":
            keys.add((kind, human.get(row["person_id"]), row["field"]))
        elif kind in ("unregistered_birth", "unregistered_person"):
            keys.add((kind, row["source"], row["source_record_id"]))
    real = set()
    for row in store.frame("SELECT * FROM findings").iter_rows(named=True):
        kind = row["finding_type"]
        if kind in ("suspected_death", "moved_out"):
            key = (kind, human.get(row["person_id"]))
        elif kind == "attribute_conflict":
            key = (kind, human.get(row["person_id"]), row["field"])
        elif kind == "duplicate_person":
            same = human.get(row["person_id"]) == human.get(row["other_person_id"])
            key = (kind,) if same else ("no",)
            keys.add((kind,))
        else:
            key = (kind, row["source"], row["source_record_id"])
        if key in keys:
            real.add(row["finding_id"])
    return real


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
