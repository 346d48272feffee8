"""Incoming 协查 on a generated county: how many queries are answered definitively, and right.

    .venv/bin/python benchmarks/exchange.py --persons 100000 --seed 11
    .venv/bin/python benchmarks/exchange.py --persons 100000 --seed 12 \
        --error-model configs/error_model_harsh.toml

Generates (or reuses) the county and its home as ``benchmarks/accuracy.py`` does, then plays
another county (440106) that asks about people: residents of the base (their rows 正常 or
cancelled), people only 户籍 holds, and people the county never had (residents of a county
generated with another seed). The queries carry what departments type: homophone names,
missing and mistyped IDs, other date formats and sex codes. The county imports the file
(``renkou exchange import``); each conclusion is checked against the truth:

- 本县有此人 is right for a person the base holds 正常 or 户籍 holds; 已注销 for a person whose
  base rows are all cancelled; 本县无此人 for a person the county never had;
- 需入户核实 is not definitive (the township visit answers it).

Prints the share answered definitively, the share of those right, and how many queries that
carried a valid ID the base holds were answered 本县无此人 (must be 0).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import peak_mb, timed  # noqa: E402
from linkage import pipeline  # noqa: E402
from linkage.evaluate import read_truth  # noqa: E402
from linkage.exchange.incoming import CANCELLED, FOUND, NOT_FOUND, import_exchange  # noqa: E402
from linkage.exchange.outgoing import QUERY_HEADERS  # noqa: E402
from linkage.exports import write_csv  # noqa: E402
from linkage.store import Store  # noqa: E402
from synth import generate_county  # noqa: E402
from synth.noise import homophone, id_typo  # noqa: E402

ASKING = "440106"


def _date_written(value: str, kind: int) -> str:
    y, m, d = value.split("-")
    return (value, f"{y}/{int(m)}/{int(d)}", f"{y}{m}{d}", f"{y}年{int(m)}月{int(d)}日")[kind]


def _noisy(rows: pl.DataFrame, rng: np.random.Generator) -> list[dict[str, str]]:
    """Each person as another county's clerk would type them (one kind of noise at most)."""
    out = []
    for r in rows.to_dicts():
        name, number, born = r["name"], r["id_number"] or "", r["birth_date"] or ""
        sex = r["sex"]
        noise = rng.random()
        if noise < 0.25:
            name = homophone(name, rng) or name
        elif noise < 0.45:
            number = ""
        elif noise < 0.60:
            number = id_typo(number, rng) or number
        elif noise < 0.80 and born:
            born = _date_written(born, int(rng.integers(1, 4)))
            sex = {"男": "1", "女": "2"}.get(sex, sex)
        out.append({**r, "name": name, "id_number": number, "birth_date": born, "sex": sex})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--error-model", type=Path, default=None)
    parser.add_argument("--work", type=Path, default=Path("var/exchange"))
    args = parser.parse_args()
    tag = f"{args.persons}_{args.seed}" + (f"_{args.error_model.stem}" if args.error_model else "")
    county, home = args.work / f"county_{tag}", args.work / f"home_{tag}"
    others = args.work / f"others_{args.seed + 1000}"
    seconds: dict[str, float] = {}
    rng = np.random.default_rng(args.seed)
    if not (home / "renkou.duckdb").exists():
        shutil.rmtree(home, ignore_errors=True)
        with timed("generate", seconds):
            generate_county(
                persons=args.persons, seed=args.seed, out=county, error_model=args.error_model
            )
            generate_county(
                persons=max(args.persons // 10, 2000), seed=args.seed + 1000, out=others
            )
        with Store(home) as store, timed("ingest + link", seconds):
            pipeline.ingest(store, county / "inbox")
            pipeline.link(store)
    truth = read_truth(county / "truth", "persons")
    base_map = read_truth(county / "truth", "base_map")
    rows = base_map.group_by("true_pid").agg((pl.col("status") == "正常").any().alias("any_active"))
    people = (
        truth.join(rows, on="true_pid", how="left")
        .with_columns(
            pl.when(pl.col("any_active"))
            .then(pl.lit(FOUND))
            .when(pl.col("any_active").is_not_null())
            .then(pl.lit(CANCELLED))
            .when(pl.col("in_hukou") == "true")
            .then(pl.lit(FOUND))
            .otherwise(None)
            .alias("expected")
        )
        .filter(pl.col("expected").is_not_null() & (pl.col("name") != ""))
    )
    known_ids = set(truth["id_number"].to_list())
    strangers = (
        read_truth(others / "truth", "persons")
        .filter(~pl.col("id_number").is_in(list(known_ids)) & (pl.col("name") != ""))
        .with_columns(pl.lit(NOT_FOUND).alias("expected"))
    )
    n = args.queries
    parts = [
        people.filter(pl.col("expected") == FOUND).sample(int(n * 0.6), seed=args.seed),
        people.filter(pl.col("expected") == CANCELLED).sample(
            min(int(n * 0.1), people.filter(pl.col("expected") == CANCELLED).height),
            seed=args.seed,
        ),
        strangers.sample(int(n * 0.3), seed=args.seed),
    ]
    cols = ["true_pid", "name", "sex", "id_number", "birth_date", "hukou_address", "expected"]
    asked = pl.concat([p.select(cols) for p in parts])
    noisy = pl.DataFrame(_noisy(asked, rng))
    queries = noisy.with_columns(
        (pl.lit("XC440106-B") + pl.int_range(pl.len()).cast(pl.String).str.zfill(6)).alias(
            "query_id"
        ),
        pl.lit(ASKING).alias("from_county"),
        pl.lit("433127").alias("to_county"),
        pl.lit("死亡").alias("query_type"),
        pl.lit("急").alias("urgency"),
        pl.lit("2026-06-10").alias("sent_on"),
        pl.lit("2026-07-10").alias("due_on"),
        pl.lit(None, pl.String).alias("current_address"),
        pl.lit("2026-05-01").alias("event_date"),
        pl.lit("在本县死亡").alias("reason"),
    )
    path = args.work / "in" / f"协查_{ASKING}_433127_202606.csv"
    write_csv(queries.select(list(QUERY_HEADERS)).rename(QUERY_HEADERS), path)
    with Store(home) as store:
        store.con.execute("DROP TABLE IF EXISTS exchange_received")
        store.con.execute("DROP TABLE IF EXISTS exchange_files")
        with timed("import + conclude", seconds):
            report = import_exchange(
                store, [path], operator="benchmark", today=dt.date(2026, 6, 20)
            )
        got = store.frame("SELECT query_id, conclusion, decided_by FROM exchange_received")
    if report.errors:
        print("\n".join(p.describe() for p in report.errors[:10]))
    result = queries.select("query_id", "expected", "id_number", "name").join(got, on="query_id")
    definite = result.filter(pl.col("conclusion") != "需入户核实")
    right = definite.filter(pl.col("conclusion") == pl.col("expected"))
    held_valid = result.filter(
        (pl.col("expected") != NOT_FOUND)
        & pl.col("id_number").is_in(list(known_ids))
        & (pl.col("conclusion") == NOT_FOUND)
    )
    print()
    print(
        f"queries {result.height:,}: definitive {definite.height / result.height:.4f} "
        f"({definite.height}), right of those {right.height / max(definite.height, 1):.4f} "
        f"({right.height}); 需入户核实 {result.height - definite.height}"
    )
    print("by expected answer:")
    table = result.group_by("expected", "conclusion").len().sort("expected", "conclusion")
    for expected, conclusion, count in table.iter_rows():
        print(f"  truth {expected:<6} answered {conclusion:<6} {count:>6}")
    print(f"valid ID the county holds answered 本县无此人: {held_valid.height}")
    print(
        f"import + conclude {seconds['import + conclude']:.1f} s "
        f"({result.height / seconds['import + conclude']:.0f} queries/s), "
        f"peak {peak_mb():.0f} MB; at {time.strftime('%H:%M')}"
    )


if __name__ == "__main__":
    main()
