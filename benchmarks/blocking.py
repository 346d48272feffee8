"""Blocking: recall of true pairs and the number of comparisons, per source and rule.

    .venv/bin/python benchmarks/blocking.py --home var/accuracy/home_100000_11 \
        --truth var/accuracy/county_100000_11/truth

Run after benchmarks/accuracy.py (it reuses that database). For each source: how many true
(record, base person) pairs at least one blocking rule brings together (the ceiling on
recall: a pair never compared cannot be linked), the marginal recall of each rule, and
Splink's count of comparisons the rules generate. Target: ≥ 99.5 % of true pairs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linkage.comparisons import blocking_rules  # noqa: E402
from linkage.evaluate import read_truth  # noqa: E402
from linkage.link.model import make_linker  # noqa: E402
from linkage.link.run import LINK_SOURCES  # noqa: E402
from linkage.persons import PERSON_TABLE  # noqa: E402
from linkage.store import Store  # noqa: E402


def rule_sql(rule: object) -> str:
    return rule.get_blocking_rule("duckdb").blocking_rule_sql  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True)
    args = parser.parse_args()
    truth = read_truth(args.truth, "links").filter(
        (pl.col("person_id_truth").fill_null("") != "") & (pl.col("role") != "child")
    )
    base_map = read_truth(args.truth, "base_map")
    # every base row of the true human counts: linking either duplicate is right
    pairs = truth.join(base_map, on="true_pid").select(
        "source", "source_record_id", "role", "person_id"
    )
    with Store(args.home) as store:
        store.con.register("tmp_renkou_true_pairs", pairs)
        for source in LINK_SOURCES:
            cfg = store.settings.source(source)
            rules = blocking_rules(cfg.raw["blocking"])
            sqls = [rule_sql(r) for r in rules]
            hits = ", ".join(f"bool_or({s}) AS r{i}" for i, s in enumerate(sqls))
            covered = store.frame(
                f"""
                SELECT t.source_record_id, t.role, {hits}
                FROM tmp_renkou_true_pairs t
                JOIN {PERSON_TABLE} r ON r.source = t.source AND r.record_id = t.source_record_id
                                     AND r.role = t.role
                JOIN {PERSON_TABLE} l ON l.source = 'population' AND l.record_id = t.person_id
                WHERE t.source = ?
                GROUP BY ALL
            """,
                [source],
            )
            if covered.is_empty():
                continue
            any_rule = covered.select(pl.any_horizontal(pl.col("^r\\d+$")).mean()).item()
            store.con.execute(
                f"CREATE OR REPLACE TABLE tmp_renkou_blk_base AS SELECT * FROM "
                f"{PERSON_TABLE} WHERE source = 'population'"
            )
            store.con.execute(
                f"CREATE OR REPLACE TABLE tmp_renkou_blk_src AS SELECT * FROM "
                f"{PERSON_TABLE} WHERE source = ? AND role <> 'child'",
                [source],
            )
            from linkage.comparisons import build_settings

            linker = make_linker(
                store,
                ["tmp_renkou_blk_base", "tmp_renkou_blk_src"],
                build_settings(cfg, "link_only"),
            )
            counts = linker.blocking_analysis.count_comparisons_from_blocking_rules(
                record_sample_proportion=1.0
            )
            total = sum(c["marginal_comparison_count"] for c in counts)
            n_src = int(store.scalar("SELECT count(*) FROM tmp_renkou_blk_src") or 0)
            print(
                f"\n{source}: true pairs covered {any_rule:.4%} "
                f"({covered.height:,} records with a true base person); "
                f"comparisons {total:,} ({total / max(n_src, 1):.1f} per record)"
            )
            for i, (s, c) in enumerate(zip(sqls, counts, strict=True)):
                alone = covered[f"r{i}"].mean()
                print(
                    f"   {alone:7.2%} of true pairs | {c['marginal_comparison_count']:>12,} new "
                    f"comparisons | {s}"
                )
            linker.table_management.delete_tables_created_by_splink_from_db()
        store.con.execute("DROP TABLE IF EXISTS tmp_renkou_blk_base")
        store.con.execute("DROP TABLE IF EXISTS tmp_renkou_blk_src")


if __name__ == "__main__":
    main()
