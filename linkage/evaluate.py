"""``renkou evaluate``: the system's links and findings against a generated county's truth.

The yardstick of every change to the linkage. For each (source, role) and each finding type it
reports precision, recall and F1, beside the same figures for the deterministic baseline counties
use today (exact normalised ID, else exact name + birth date), so a change shows its gain.

Scoring rules:
- A link is right when its base person is the same human as the truth says (linking to either
  row of a duplicated person counts). A wrong link is one false positive *and* one false
  negative; a record the truth links to nobody counts only when the system links it.
- Findings are matched on the key their finding type names (``evaluation`` in the catalog):
  the human (``person``: suspected_death, moved_out), the evidence record (``record``:
  unregistered_birth, unregistered_person), the record and its role (``record_role``:
  cross_county_query) or (human, field) (``person_field``: attribute_conflict). Where the
  truth names a destination county (transfer, cross_county_query), the true cases found are
  also scored on being sent there. Duplicate pairs (``pair``) are right when both rows are
  one human; a true pair is found when the predicted pairs connect it (transitively).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

from linkage.catalog import FINDING_TYPES
from linkage.errors import RenkouError
from linkage.graph import components
from linkage.store import Store


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            **asdict(self),
            "precision": round(self.precision, 5),
            "recall": round(self.recall, 5),
            "f1": round(self.f1, 5),
        }


# ---------------------------------------------------------------- truth files


def read_truth(truth: Path, name: str) -> pl.DataFrame:
    """``truth/<name>.parquet`` or ``.csv`` (all columns as text)."""
    if (truth / f"{name}.parquet").exists():
        frame = pl.read_parquet(truth / f"{name}.parquet")
        return frame.with_columns(pl.all().cast(pl.String))
    if (truth / f"{name}.csv").exists():
        return pl.read_csv(truth / f"{name}.csv", infer_schema=False)
    raise RenkouError(
        f"{truth} has no {name}.csv (or .parquet). Fix: point --truth at the truth/ folder "
        "of a county made by `renkou generate`"
    )


def _human(base_map: pl.DataFrame, col: str, out: str) -> pl.Expr:
    mapping = dict(zip(base_map["person_id"], base_map["true_pid"], strict=True))
    return pl.col(col).replace_strict(mapping, default=None, return_dtype=pl.String).alias(out)


# ---------------------------------------------------------------- links


def score_links(
    predicted: pl.DataFrame, truth_links: pl.DataFrame, base_map: pl.DataFrame
) -> dict[str, Score]:
    """Scores per ``source/role``. ``predicted``: source, source_record_id, role, person_id."""
    key = ["source", "source_record_id", "role"]
    truth = truth_links.select(
        *key,
        pl.when(pl.col("person_id_truth").fill_null("") != "")
        .then(pl.col("true_pid"))
        .alias("true_human"),
    )
    pred = (
        predicted.filter(pl.col("person_id").fill_null("") != "")
        .select(*key, _human(base_map, "person_id", "pred_human"))
        .unique(subset=key, keep="first")
    )
    both = truth.join(pred, on=key, how="full", coalesce=True)
    both = both.with_columns(
        (pl.col("pred_human").is_not_null() & (pl.col("pred_human") == pl.col("true_human")))
        .fill_null(False)
        .alias("tp"),
    ).with_columns(
        (pl.col("pred_human").is_not_null() & ~pl.col("tp")).alias("fp"),
        (pl.col("true_human").is_not_null() & ~pl.col("tp")).alias("fn"),
    )
    grouped = (
        both.group_by("source", "role")
        .agg(pl.col("tp").sum(), pl.col("fp").sum(), pl.col("fn").sum())
        .sort("source", "role")
    )
    return {
        f"{r['source']}/{r['role']}": Score(r["tp"], r["fp"], r["fn"])
        for r in grouped.iter_rows(named=True)
    }


# ---------------------------------------------------------------- findings


#: what makes two cases one case (``FindingType.evaluation``)
EVALUATIONS = ("person", "person_field", "record", "record_role", "pair")


def _keyed(findings: pl.DataFrame, base_map: pl.DataFrame, kind: str) -> dict[tuple, str]:
    """The findings of ``kind`` by their evaluation key → their destination ('' for none)."""
    rows = findings.filter(pl.col("finding_type") == kind)
    if rows.is_empty():
        return {}
    how = FINDING_TYPES[kind].evaluation
    keys: list[pl.Expr]
    if how == "person":
        keys = [_human(base_map, "person_id", "k")]
    elif how == "person_field":
        keys = [_human(base_map, "person_id", "k"), pl.col("field")]
    elif how == "record":
        keys = [pl.col("source"), pl.col("source_record_id")]
    elif how == "record_role":
        keys = [pl.col("source"), pl.col("source_record_id"), pl.col("role")]
    else:
        raise ValueError(f"finding type {kind}: no evaluation {how!r}")
    if "destination" not in rows.columns:
        rows = rows.with_columns(pl.lit(None, pl.String).alias("destination"))
    destination = pl.col("destination").cast(pl.String).fill_null("")
    return {
        tuple(row[:-1]): row[-1] for row in rows.select(*keys, destination.alias("d")).iter_rows()
    }


def _finding_keys(findings: pl.DataFrame, base_map: pl.DataFrame, kind: str) -> set[tuple]:
    return set(_keyed(findings, base_map, kind))


def score_destinations(
    predicted: pl.DataFrame, truth: pl.DataFrame, base_map: pl.DataFrame
) -> dict[str, Score]:
    """Of the true cases found whose truth names a destination county: ``tp`` the ones sent
    to it, ``fp`` the ones sent elsewhere, ``fn`` the ones sent nowhere (destination empty)."""
    scores = {}
    for kind, finding_type in FINDING_TYPES.items():
        if finding_type.evaluation == "pair":
            continue
        want = {k: d for k, d in _keyed(truth, base_map, kind).items() if d}
        if not want:
            continue
        got = _keyed(predicted, base_map, kind)
        found = [(got[k], d) for k, d in want.items() if k in got]
        right = sum(1 for g, d in found if g == d)
        nowhere = sum(1 for g, _ in found if not g)
        scores[kind] = Score(tp=right, fp=len(found) - right - nowhere, fn=nowhere)
    return scores


def _score_duplicates(pred: pl.DataFrame, truth: pl.DataFrame, base_map: pl.DataFrame) -> Score:
    human = dict(zip(base_map["person_id"], base_map["true_pid"], strict=True))

    def pair_set(frame: pl.DataFrame) -> set[tuple[str, str]]:
        pairs = frame.select("person_id", "other_person_id").iter_rows()
        return {(min(a, b), max(a, b)) for a, b in pairs}

    pairs, true_pairs = pair_set(pred), pair_set(truth)
    tp_pairs = {
        p for p in pairs if human.get(p[0]) is not None and human.get(p[0]) == human.get(p[1])
    }
    cluster = components(tp_pairs)

    def find(x: str) -> str:
        return cluster.get(x, x)

    found = sum(1 for a, b in true_pairs if find(a) == find(b))
    return Score(tp=found, fp=len(pairs) - len(tp_pairs), fn=len(true_pairs) - found)


def score_findings(
    predicted: pl.DataFrame, truth: pl.DataFrame, base_map: pl.DataFrame
) -> dict[str, Score]:
    scores = {}
    for kind in FINDING_TYPES:
        if FINDING_TYPES[kind].evaluation == "pair":
            scores[kind] = _score_duplicates(
                predicted.filter(pl.col("finding_type") == kind),
                truth.filter(pl.col("finding_type") == kind),
                base_map,
            )
            continue
        got, want = _finding_keys(predicted, base_map, kind), _finding_keys(truth, base_map, kind)
        tp = len(got & want)
        scores[kind] = Score(tp=tp, fp=len(got) - tp, fn=len(want) - tp)
    return scores


# ---------------------------------------------------------------- report


@dataclass
class Evaluation:
    links: dict[str, Score]
    baseline_links: dict[str, Score]
    findings: dict[str, Score]
    baseline_findings: dict[str, Score]
    #: of the true cases found that go somewhere: sent to the right county (tp), to a wrong
    #: one (fp), nowhere (fn)
    destinations: dict[str, Score] = field(default_factory=dict)

    def as_dict(self) -> dict[str, dict[str, dict[str, float | int]]]:
        return {
            name: {k: s.as_dict() for k, s in getattr(self, name).items()}
            for name in (
                "links",
                "baseline_links",
                "findings",
                "baseline_findings",
                "destinations",
            )
        }

    def table(self) -> str:
        lines = []
        for title, ours, base in (
            ("links (source/role)", self.links, self.baseline_links),
            ("findings", self.findings, self.baseline_findings),
        ):
            lines.append(
                f"{title:<34} {'prec':>7} {'recall':>7} {'F1':>7} │ "
                f"{'base P':>7} {'base R':>7} {'base F1':>7} │ {'TP':>7} {'FP':>6} "
                f"{'FN':>6}"
            )
            for key in sorted(set(ours) | set(base)):
                s = ours.get(key, Score(0, 0, 0))
                b = base.get(key)
                bp = (
                    f"{b.precision:>7.4f} {b.recall:>7.4f} {b.f1:>7.4f}"
                    if b
                    else f"{'-':>7} {'-':>7} {'-':>7}"
                )
                lines.append(
                    f"{key:<34} {s.precision:>7.4f} {s.recall:>7.4f} {s.f1:>7.4f} │ "
                    f"{bp} │ {s.tp:>7} {s.fp:>6} {s.fn:>6}"
                )
            lines.append("")
        for kind, s in self.destinations.items():
            share = s.tp / (s.tp + s.fp + s.fn) if s.tp + s.fp + s.fn else 1.0
            lines.append(
                f"destination {kind:<22} right {s.tp} of {s.tp + s.fp + s.fn} ({share:.4f}); "
                f"wrong {s.fp}, none {s.fn}"
            )
        return "\n".join(lines)


def evaluate(store: Store, truth: Path) -> Evaluation:
    """Score the links and findings in ``store`` (and the baseline) against ``truth``."""
    from linkage.baseline import baseline_findings, baseline_links

    if not truth.is_dir():
        raise RenkouError(
            f"truth folder {truth} is not a folder. Fix: point --truth at the truth/ folder "
            "of a county made by `renkou generate`"
        )
    base_map = read_truth(truth, "base_map")
    truth_links = read_truth(truth, "links")
    truth_findings = read_truth(truth, "findings")
    empty_links = pl.DataFrame(
        schema={c: pl.String for c in ("source", "source_record_id", "role", "person_id")}
    )
    links = (
        store.frame("SELECT source, source_record_id, role, person_id FROM links")
        if store.has_table("links")
        else empty_links
    )
    findings = (
        store.frame("SELECT * FROM findings WHERE status NOT IN ('closed')")
        if store.has_table("findings")
        else pl.DataFrame(
            schema={
                c: pl.String
                for c in (
                    "finding_type",
                    "person_id",
                    "other_person_id",
                    "source",
                    "source_record_id",
                    "field",
                )
            }
        )
    )
    truth_links = truth_links.filter(pl.col("source") != "population")
    base = baseline_links(store)
    return Evaluation(
        links=score_links(links, truth_links, base_map),
        baseline_links=score_links(base, truth_links, base_map),
        findings=score_findings(findings, truth_findings, base_map),
        destinations=score_destinations(findings, truth_findings, base_map),
        baseline_findings=score_findings(baseline_findings(store, base), truth_findings, base_map),
    )


def write_json(evaluation: Evaluation, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(evaluation.as_dict(), indent=2, ensure_ascii=False), "utf-8")
