"""Benchmark: the nightly flow on a generated county, as the office runs it (`renkou run`).

    .venv/bin/python benchmarks/bench_nightly.py --persons 1000000

Three nights on one home, each its own ``renkou run`` process (Prefect ephemeral mode):

1. first night: the county without its last ~1,000 death certificates (trains every model);
2. incremental night: those ~1,000 records arrive as a new death file;
3. ``--full`` night: same inbox, every record re-standardised and rescored (saved models);
   its links and findings are compared with night 2's (they should be identical).

Prints per night the wall time of the process, the run's own time (from ``runs``), the time
before the flow started (Prefect's temporary server), the stage times, and the peak resident
memory of the process (``wait4``; Prefect's server subprocess is not included). Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import polars as pl  # noqa: E402

from benchmarks._common import county  # noqa: E402
from linkage.store import DB_FILE, Store  # noqa: E402

RENKOU = Path(sys.executable).with_name("renkou")


def split_inboxes(inbox: Path, out: Path, new: int) -> tuple[Path, Path, int]:
    """night1 = ``inbox`` less the last ``new`` rows of its newest death certificate file;
    night2 = those rows as a file of their own (same header and bytes)."""
    night1, night2 = out / "night1", out / "night2"
    if not night1.exists():
        shutil.copytree(inbox, night1)
        source = sorted((night1 / "death").glob("死亡医学证明_*.csv"))[-1]
        lines = source.read_bytes().splitlines(keepends=True)
        header, rows = lines[0], lines[1:]
        new = min(new, len(rows) - 1)
        source.write_bytes(header + b"".join(rows[:-new]))
        (night2 / "death").mkdir(parents=True)
        (night2 / "death" / f"{source.stem}_补报.csv").write_bytes(header + b"".join(rows[-new:]))
    added = sum(1 for _ in (night2 / "death").glob("*.csv"))
    rows_new = sum(len(p.read_bytes().splitlines()) - 1 for p in (night2 / "death").glob("*"))
    return night1, night2, rows_new if added else 0


def night(home: Path, inbox: Path, *extra: str, outputs: bool) -> dict[str, object]:
    """One ``renkou run`` process: wall seconds, peak RSS (MB) and the run's summary."""
    args = [str(RENKOU), "--home", str(home), "run", "--inbox", str(inbox), *extra]
    if not outputs:
        args.append("--no-outputs")
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    log = proc.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        print(log[-4000:])
        raise SystemExit(f"renkou run failed ({proc.returncode})")
    with Store(home, read_only=True) as store:
        summary = json.loads(
            str(store.scalar("SELECT summary FROM runs ORDER BY started_at DESC LIMIT 1"))
        )
    return {"wall": wall, "peak_mb": usage.ru_maxrss / 1024, "summary": summary}


def report(label: str, result: dict[str, object], db: Path) -> None:
    s = result["summary"]
    assert isinstance(s, dict)
    link = s["stages"]["link"]
    stages = ", ".join(f"{t['stage']} {t['seconds']:.1f}" for t in s["timings"])
    print(
        f"{label:<13} wall {result['wall']:7.1f} s  run {s['seconds']:7.1f} s  "
        f"before flow {float(result['wall']) - s['seconds']:5.1f} s  "  # type: ignore[arg-type]
        f"peak {result['peak_mb']:6.0f} MB  link {link['mode']}, scored "
        f"{link['records_scored']:,}",
        flush=True,
    )
    print(f"{'':<13} stages (s): {stages}; database {db.stat().st_size / 1e6:,.0f} MB", flush=True)


def outcome(db: Path) -> dict[str, pl.DataFrame]:
    """What a night decided: every link and every finding (ids, not statuses: a task list
    export marks findings sent)."""
    with Store(db.parent, read_only=True) as store:
        return {
            "links": store.frame("SELECT source, source_record_id, role, person_id FROM links"),
            "findings": store.frame(
                "SELECT finding_id, finding_type, person_id, other_person_id, field FROM findings"
            ),
        }


def differences(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> str:
    counts = []
    for name in a:
        left, right = (f.with_columns(pl.all().cast(pl.String)) for f in (a[name], b[name]))
        n = (
            left.join(right, on=left.columns, how="anti", nulls_equal=True).height
            + right.join(left, on=left.columns, how="anti", nulls_equal=True).height
        )
        counts.append(f"{name} {'identical' if n == 0 else f'{n:,} rows differ'} ({left.height:,})")
    return ", ".join(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--new", type=int, default=1000, help="death records of night 2")
    parser.add_argument("--work", type=Path, default=Path("var/bench"))
    parser.add_argument(
        "--no-outputs",
        action="store_true",
        help="skip task lists and the report (data stages only)",
    )
    parser.add_argument(
        "--from-first",
        action="store_true",
        help="start from the home saved after an earlier first night "
        "(to measure nights 2 and 3 again after a change)",
    )
    args = parser.parse_args()
    root = county(args.persons, args.seed, args.work)
    night1, night2, new = split_inboxes(
        root / "inbox", args.work / f"nights_{args.persons}_{args.seed}", args.new
    )
    home = args.work / f"home_nightly_{args.persons}_{args.seed}"
    saved = home.with_name(home.name + "_after_first")
    shutil.rmtree(home, ignore_errors=True)
    outputs = not args.no_outputs
    print(
        f"nightly benchmark: {args.persons:,} persons, night 2 brings {new:,} death records; "
        f"outputs {'on' if outputs else 'off'}; {os.cpu_count()} cores",
        flush=True,
    )
    db = home / DB_FILE
    if args.from_first and saved.exists():
        shutil.copytree(saved, home)
        print("1 first       (saved home of an earlier first night)", flush=True)
    else:
        report("1 first", night(home, night1, outputs=outputs), db)
        shutil.rmtree(saved, ignore_errors=True)
        shutil.copytree(home, saved)
    report("2 incremental", night(home, night2, outputs=outputs), db)
    incremental = outcome(db)
    report("3 --full", night(home, night2, "--full", outputs=outputs), db)
    print(f"{'':<13} --full vs incremental: {differences(outcome(db), incremental)}", flush=True)


if __name__ == "__main__":
    main()
