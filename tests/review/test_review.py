"""The analyst's review of the clerical band, round trip on a real home: export (an Excel
workbook read back with openpyxl, an offline page parsed), decide, import, the next link run
applies the decisions; refused rows; permissions; a pair left undecided becomes a finding.

The county is generated (3,000 persons) and linked once; its home config asks for a 户籍 and
marriage link at a probability the model reaches for only some pairs, so that those fall in
the clerical band (as a county that wants its weakest links reviewed would set it); the
exact-ID cascade is off there, so that every record meets the model.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from linkage import operators, pipeline, tables
from linkage.audit import AuditLog, cross_check
from linkage.labels import link_labels, rejected_pairs
from linkage.link import model as models
from linkage.operators import current_account
from linkage.report import build_report
from linkage.report.render import assert_no_id_numbers
from linkage.review.export import DECISION_COLUMN
from linkage.review.pairs import ORDER, open_pairs, pair_key
from linkage.store import Store
from linkage.tasks.workdays import add_working_days, working_days_between
from synth import generate_county
from tests.conftest import Renkou

pytestmark = pytest.mark.slow

ID18 = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")
DECIDE = {0: "同一人 match", 1: "不是同一人 non_match", 2: "跳过 skip"}


@pytest.fixture(scope="module")
def linked_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("review")
    generate_county(persons=3000, seed=7, out=root / "county")
    home = root / "home"
    (home / "config" / "sources").mkdir(parents=True)
    for source, p in (("hukou", "0.99999"), ("marriage", "0.999999999999999")):
        (home / "config" / "sources" / f"{source}.toml").write_text(
            f"cascade = false\n[decision]\nmatch_probability = {p}\n", "utf-8"
        )
    with Store(home) as store:
        pipeline.ingest(store, root / "county" / "inbox")
        pipeline.link(store)
        pipeline.findings(store, "night-1")
        assert store.scalar("SELECT count(*) FROM clerical") >= 3  # the band the test needs
    return home


@pytest.fixture
def home(linked_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for kind in ("DB", "AUDIT"):
        monkeypatch.delenv(f"RENKOU_{kind}_KEY", raising=False)
        monkeypatch.delenv(f"RENKOU_{kind}_KEY_FILE", raising=False)
    copy = tmp_path / "home"
    shutil.copytree(linked_home, copy, ignore=shutil.ignore_patterns("*.lock", "*.wal"))
    yield copy


def _workbook_pairs(path: Path) -> list[tuple[str, int, str]]:
    """(pair key, row, sheet) of every pair's first row, in the workbook's order."""
    book = openpyxl.load_workbook(path, read_only=True)
    found = []
    for sheet in book.worksheets:
        for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
            if row and isinstance(row[0], str) and re.fullmatch(r"RV[0-9A-F]{12}", row[0]):
                found.append((row[0], number, sheet.title))
    book.close()
    return found


class _Page(HTMLParser):
    """The pair keys, radio buttons and external references of the review page."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[str] = []
        self.radios: dict[str, list[str]] = {}
        self.remote: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "div" and a.get("class") == "pair":
            self.pairs.append(str(a["data-key"]))
        if tag == "input" and a.get("type") == "radio":
            self.radios.setdefault(str(a["name"]), []).append(str(a["value"]))
        for key in ("src", "href"):
            if a.get(key) and re.match(r"(https?:)?//", str(a[key])):
                self.remote.append(str(a[key]))


def test_round_trip_export_decide_import_and_the_next_night_applies_it(
    renkou: Renkou, home: Path, tmp_path: Path
) -> None:
    with Store(home) as store:
        expected = open_pairs(store)
        clerical = store.frame("SELECT * FROM clerical WHERE person_id IS NOT NULL")
    assert expected.height == clerical.height >= 3
    # the order: the rule of linkage.review.pairs, whatever the table's order
    assert expected.equals(expected.sort(ORDER, descending=[True, True, True, False, False]))
    keys = {
        pair_key(r["source"], r["source_record_id"], r["role"], r["person_id"])
        for r in clerical.iter_rows(named=True)
    }
    assert set(expected["pair_key"]) == keys

    # a part per source (in the order their first pair comes), the review order within it
    grouped = [
        k
        for source in dict.fromkeys(expected["source"])
        for k in expected.filter(pl.col("source") == source)["pair_key"]
    ]
    book = tmp_path / "review.xlsx"
    done = renkou("--home", home, "review", "export", "--out", book)
    assert done.code == 0, done.text
    shown = _workbook_pairs(book)
    assert [k for k, _, _ in shown] == grouped
    cells = [
        str(v)
        for ws in openpyxl.load_workbook(book, read_only=True).worksheets
        for row in ws.iter_rows(values_only=True)
        for v in row
        if v is not None
    ]
    assert not [c for c in cells if ID18.search(c)]  # IDs masked
    assert any("****" in c for c in cells)
    page = tmp_path / "review.html"
    assert renkou("--home", home, "review", "export", "--out", page).code == 0
    text = page.read_text("utf-8")
    assert_no_id_numbers(text, page.name)
    parsed = _Page()
    parsed.feed(text)
    assert parsed.pairs == grouped and not parsed.remote
    assert all(v == ["match", "non_match", "skip"] for v in parsed.radios.values())
    assert "pair_key,decision,export_id" in text and "data:text/csv" in text

    # the waterfall of each pair adds up to the weight the run decided on
    with Store(home) as store:
        from linkage.review.export import review_items

        for item in review_items(store):
            total = sum(w for _, _, w in item["waterfall"])
            assert total == pytest.approx(item["match_weight"], abs=1e-6), item["pair_key"]

    # decide: the first pair a match, the second a non-match, the third skipped
    wb = openpyxl.load_workbook(book)
    decided = {}
    for i, (key, row, sheet) in enumerate(shown[:3]):
        wb[sheet].cell(row, DECISION_COLUMN).value = DECIDE[i]
        decided[key] = ("match", "non_match", "skip")[i]
    wb.save(book)
    imported = renkou("--home", home, "review", "import", book)
    assert imported.code == 0, imported.text
    assert "match 1, non_match 1, skip 1" in imported.text
    match_key, non_key, skip_key = list(decided)
    pair = {r["pair_key"]: r for r in expected.iter_rows(named=True)}

    with Store(home) as store:
        recorded = store.frame("SELECT pair_key, decision, operator FROM review_decisions")
        assert dict(recorded.select("pair_key", "decision").rows()) == decided
        assert set(recorded["operator"]) == {current_account()}
        # labels before the night: for m re-estimation and exclusion
        labels = link_labels(store).filter(pl.col("finding_type") == "review")
        assert dict(zip(labels["finding_id"], labels["is_match"], strict=True)) == {
            match_key: True,
            non_key: False,
        }
        rejected = rejected_pairs(store).rows()
        n = pair[non_key]
        assert (n["source"], n["source_record_id"], n["role"], n["person_id"]) in rejected

        pipeline.link(store)  # the next night's link stage (incremental)
        m = pair[match_key]
        link = store.frame(
            "SELECT person_id, decided_by FROM links WHERE source = ? AND source_record_id = ? "
            "AND role = ?",
            [m["source"], m["source_record_id"], m["role"]],
        ).row(0)
        assert link == (m["person_id"], "analyst")
        other = store.scalar(
            "SELECT person_id FROM links WHERE source = ? AND source_record_id = ? AND role = ?",
            [n["source"], n["source_record_id"], n["role"]],
        )
        assert other != n["person_id"]
        still = open_pairs(store)["pair_key"].to_list()
        assert skip_key in still and match_key not in still and non_key not in still

        # the analyst's match counts towards m re-estimation, as a confirmed field answer does
        source = m["source"]
        store.con.execute(
            "CREATE OR REPLACE TABLE tmp_renkou_link_base AS SELECT * FROM person_records "
            "WHERE source = 'population'"
        )
        store.con.execute(
            f"CREATE OR REPLACE TABLE tmp_renkou_link_{source} AS SELECT * FROM person_records "
            "WHERE source = ?",
            [source],
        )
        names = ["tmp_renkou_link_base", f"tmp_renkou_link_{source}"]
        linker = models.saved_linker(store, names, models.latest_model(store.home, source)[1])
        assert models._m_from_field_labels(store, linker, source, names, minimum=1) == 1
        linker.table_management.delete_tables_created_by_splink_from_db()

        # the report: decided pairs, by whom, agreement with the model
        report = build_report(store, tmp_path / "report.html", model_charts=False)
        body = report.read_text("utf-8")
        section = body[body.index("Analyst review of the clerical band") :][:3000]
        assert current_account() in section and "50.0 %" in section  # p ≥ 0.5: match agrees
        # every export and import is in the audit log, by the files' hashes
        entries = AuditLog.for_home(home).entries()
        assert {"review.export", "review.import"} <= {e["action"] for e in entries}
        assert cross_check(store, entries) == []


def test_bad_rows_are_refused_with_the_fix_and_the_good_ones_kept(
    renkou: Renkou, home: Path, tmp_path: Path
) -> None:
    with Store(home) as store:
        keys = open_pairs(store)["pair_key"].to_list()
    decisions = tmp_path / "review-decisions.csv"  # as the page saves it
    with decisions.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["pair_key", "decision", "export_id"])
        out.writerow([keys[0], "skip", "R1"])  # good
        out.writerow(["RV0123456789AB", "match", "R1"])  # never a clerical pair
        out.writerow([keys[1], "maybe", "R1"])  # no decision
        out.writerow([keys[2], "match", "R1"])  # good
        out.writerow([keys[2], "non_match", "R1"])  # the same pair, decided otherwise
        out.writerow([keys[1], "", "R1"])  # blank: no answer, no problem
    result = renkou("--home", home, "review", "import", decisions)
    assert result.code == 2, result.text
    assert "row 3: column pair_key: pair RV0123456789AB was never a clerical pair" in result.err
    assert "row 4: column decision: 'maybe' is no decision. Fix:" in result.err
    assert "row 6: column decision: pair" in result.err and "decided twice" in result.err
    assert "Traceback" not in result.text and "refused: 3" in result.out
    with Store(home) as store:
        kept = dict(store.frame("SELECT pair_key, decision FROM review_decisions").rows())
        assert kept == {keys[0]: "skip", keys[2]: "match"}
        pipeline.link(store)
    # the pair is linked now: a later file that decides it again is refused
    again = tmp_path / "again.csv"
    again.write_text(f"pair_key,decision\n{keys[2]},non_match\n", "utf-8")
    late = renkou("--home", home, "review", "import", again)
    assert late.code == 2 and "is no longer clerical" in late.err and "export again" in late.err
    imports = AuditLog.for_home(home).entries()
    assert [e["details"]["refused"] for e in imports if e["action"] == "review.import"] == [3, 1]


def test_only_analysts_and_admins_review(renkou: Renkou, home: Path, tmp_path: Path) -> None:
    operators.bootstrap(home)
    operators.add(home, account="nobody", name="王丽", role="admin")
    operators.add(home, account=current_account(), name="向红", role="service")
    out = tmp_path / "review.xlsx"
    refused = renkou("--home", home, "review", "export", "--out", out)
    assert refused.code == 2 and "may not run `review export`" in refused.text
    assert "analyst" in refused.text and not out.exists()
    assert renkou("--home", home, "review", "import", __file__).code == 2
    operators.add(home, account=current_account(), name="向红", role="analyst")
    assert renkou("--home", home, "review", "export", "--out", out).code == 0
    bad = renkou("--home", home, "review", "export", "--out", tmp_path / "review.pdf")
    assert bad.code == 2 and "FILE.html or FILE.xlsx" in bad.text


def test_a_pair_undecided_for_the_working_days_becomes_an_uncertain_link(home: Path) -> None:
    with Store(home) as store:
        days = store.settings.review_undecided_days
        pairs = open_pairs(store)
        first = pairs["first_seen"].min()
        decided = pairs.row(0, named=True)
        with store.transaction():
            store.con.execute(
                "INSERT INTO review_decisions (pair_key, source, source_record_id, role, "
                "person_id, decision, operator, decided_at, import_id) "
                "VALUES (?, ?, ?, ?, ?, 'non_match', 'a', current_timestamp, 'V1')",
                [
                    decided[c]
                    for c in ("pair_key", "source", "source_record_id", "role", "person_id")
                ],
            )

        def uncertain(today: dt.date) -> pl.DataFrame:
            pipeline.findings(store, f"night-{today}", today=today)
            return store.frame(
                "SELECT case_key, source, source_record_id, person_id, township, status "
                "FROM findings WHERE finding_type = 'uncertain_link' AND status <> 'closed'"
            )

        early = add_working_days(first, days - 1)
        assert uncertain(early).is_empty()
        due = add_working_days(first, days)
        assert working_days_between(first, due) == days
        found = uncertain(due)
        open_keys = set(pairs["pair_key"]) - {decided["pair_key"]}
        assert set(found["case_key"]) == open_keys  # the decided pair is none
        assert found["township"].null_count() == 0 and set(found["status"]) == {"open"}
        # the township's list says what to check
        from linkage.tasks.export import export_tasks

        lists = export_tasks(store, home.parent / "lists", operator="t", sent_on=due)
        assert lists.tasks >= len(open_keys)
        texts = [
            str(v)
            for f in lists.files
            for ws in openpyxl.load_workbook(f.path, read_only=True).worksheets
            for row in ws.iter_rows(values_only=True)
            for v in row
            if v is not None
        ]
        assert any("待核实配对" in t for t in texts)
        assert any("人工复核未定" in t for t in texts)
        # the township's 属实 links the pair the next night, as a person's judgement
        confirmed = found.row(0, named=True)
        pair = pairs.filter(pl.col("pair_key") == confirmed["case_key"]).row(0, named=True)
        tables.ensure(store.con, "tasks")
        store.con.execute(
            "INSERT INTO labels (finding_id, finding_type, person_id, source, source_record_id, "
            "role, records, status) VALUES ('F1', 'uncertain_link', ?, ?, ?, ?, NULL, "
            "'confirmed')",
            [pair["person_id"], pair["source"], pair["source_record_id"], pair["role"]],
        )
        pipeline.link(store)
        link = store.frame(
            "SELECT person_id, decided_by FROM links WHERE source = ? AND source_record_id = ? "
            "AND role = ?",
            [pair["source"], pair["source_record_id"], pair["role"]],
        ).row(0)
        assert link == (pair["person_id"], "field")
        assert confirmed["case_key"] not in open_pairs(store)["pair_key"].to_list()
