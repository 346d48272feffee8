"""协查 between two homes: county A (天河区, 440106) queries the deaths of people registered in
county G (a generated 永顺县, 433127, linked with its own trained models); G answers from its
base; A imports G's answers and its queries close. Then the bad files G must refuse.

One generated county for the module (3,000 persons; u sampling cut to 100,000 pairs through a
``RENKOU_CONFIG`` folder so that training takes seconds). Each test works on its own copy.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from linkage import pipeline
from linkage.casework import merge, set_status
from linkage.exchange.incoming import (
    ANSWER_HEADERS,
    FOUND,
    NOT_FOUND,
    VISIT,
    export_answers,
    import_exchange,
)
from linkage.exchange.outgoing import QUERY_HEADERS, export_queries
from linkage.findings import derive_findings
from linkage.ingest.load import ingest_inbox
from linkage.persons import refresh_person_records
from linkage.report import build_report
from linkage.report.quality import assessment
from linkage.settings import init_home
from linkage.standardise.ids import check_char
from linkage.store import Store
from linkage.tasks.export import export_tasks
from linkage.tasks.tasklist import task_rows
from synth import generate_county
from synth.noise import homophone
from tests.conftest import write_csv
from tests.headers import DEATH_HEADER, POP_HEADER
from tests.report.test_build import figures

pytestmark = pytest.mark.slow
SENT = dt.date(2026, 6, 10)  # cycle 202606
ANSWERED = dt.date(2026, 6, 24)  # before the 27th


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("exchange-county")
    configs = root / "configs"
    configs.mkdir()
    (configs / "renkou.toml").write_text("[linkage]\nu_max_pairs = 100_000\n", "utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RENKOU_CONFIG", str(configs))
        generate_county(persons=3000, seed=9, out=root / "county")
        with Store(root / "home") as store:
            pipeline.ingest(store, root / "county" / "inbox", run_id="night-1", full=True)
            pipeline.link(store)
            pipeline.findings(store, "night-1")
        yield root / "home"


@pytest.fixture
def g(generated: Path, tmp_path: Path) -> Iterator[Store]:
    home = tmp_path / "g"
    shutil.copytree(generated, home)
    with Store(home) as store:
        yield store


def _g_people(g: Store) -> list[dict]:
    rows = g.frame("""
        SELECT person_id, name, sex, id_number, CAST(birth_date AS VARCHAR) AS birth, status
        FROM src_population
        WHERE regexp_full_match(id_number, '433127\\d{11}[0-9X]') AND length(name) BETWEEN 2 AND 3
          AND birth_date < DATE '1990-01-01'
        ORDER BY person_id
    """)
    alive = rows.filter(pl.col("status") == "正常").head(5).to_dicts()
    dead = rows.filter(pl.col("status") == "死亡注销").head(1).to_dicts()
    return alive + dead


def _valid(region: str, birth: str, order: str) -> str:
    body = region + birth.replace("-", "") + order
    return body + check_char(body)


def _asking_county(root: Path, people: list[dict]) -> Store:
    """County A: its base and the deaths in its hospitals of people registered in G."""
    home = root / "a"
    init_home(home, county_code="440106", county_name="天河区")
    a1, a2 = people[0], people[1]
    rng = np.random.default_rng(3)
    deaths = [
        ["D1", a1["name"], a1["sex"], a1["id_number"], a1["birth"], "2026-05-01", "", "火化"],
        # a homophone in the name, the ID right
        [
            "D2",
            homophone(a2["name"], rng) or a2["name"],
            a2["sex"],
            a2["id_number"],
            a2["birth"],
            "2026-05-02",
            "",
            "火化",
        ],
        # someone G never had: a valid 永顺 number nobody carries
        [
            "D3",
            "欧阳无名",
            "男",
            _valid("433127", "1931-02-03", "999"),
            "1931-02-03",
            "2026-05-03",
            "",
            "火化",
        ],
    ]
    dead = [p for p in people if p["status"] == "死亡注销"]
    if dead:  # G cancelled this one already
        d = dead[0]
        deaths.append(
            ["D4", d["name"], d["sex"], d["id_number"], d["birth"], "2026-05-04", "", "火化"]
        )
    # a valid ID that G's base carries, under another name
    a3 = people[2]
    deaths.append(
        ["D5", "完全不同", a3["sex"], a3["id_number"], a3["birth"], "2026-05-05", "", "火化"]
    )
    inbox = root / "a-inbox"
    write_csv(
        inbox / "population" / "base.csv",
        POP_HEADER,
        [
            [
                "T1",
                "林天河",
                "男",
                _valid("440106", "1980-01-01", "011"),
                "1980-01-01",
                "汉族",
                "H1",
                "户主",
                "初婚",
                "居民",
                "广州市天河区",
                "",
                "天河南街道",
                "一社区",
                "正常",
                "2026-01-01",
            ]
        ],
    )
    write_csv(inbox / "death" / "deaths.csv", DEATH_HEADER, deaths)
    store = Store(home)
    ingest_inbox(store, inbox)
    refresh_person_records(store)
    links = pl.DataFrame(
        [("death", row[0], "person", None, None) for row in deaths],
        schema=["source", "source_record_id", "role", "person_id", "match_probability"],
        orient="row",
    ).with_columns(explanation=pl.lit(""))
    store.replace_table("links", links)
    merge(store, derive_findings(store, "links", None), run_id="night-1")
    return store


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def test_a_query_goes_there_and_its_answer_comes_back(g: Store, tmp_path: Path) -> None:
    people = _g_people(g)
    a = _asking_county(tmp_path, people)
    sent = export_queries(a, tmp_path / "a-out", operator="a", sent_on=SENT)
    (query_file,) = [f.path for f in sent.files]
    assert query_file.name == "协查_440106_433127_202606.csv"
    asked = _read(query_file)
    assert asked.columns == list(QUERY_HEADERS.values())

    # G: import, conclude from its base, answer
    report = import_exchange(g, [query_file], operator="g", today=ANSWERED)
    assert report.errors == [] and report.files[0].accepted == asked.height
    got = dict(
        g.frame("SELECT name, conclusion FROM exchange_received ORDER BY query_id").iter_rows()
    )
    by_record = {r["事由"]: r for r in asked.to_dicts()}  # noqa: F841 (kept readable: one reason per source)
    conclusions = g.frame(
        """SELECT x.id_number, x.conclusion, x.person_status, x.person_id
           FROM exchange_received x"""
    )
    of = {r["id_number"]: r for r in conclusions.to_dicts()}
    assert of[people[0]["id_number"]]["conclusion"] == FOUND
    assert of[people[0]["id_number"]]["person_id"] == people[0]["person_id"]
    assert of[people[1]["id_number"]]["conclusion"] == FOUND  # the homophone
    assert of[_valid("433127", "1931-02-03", "999")]["conclusion"] == NOT_FOUND
    assert of[people[2]["id_number"]]["conclusion"] != NOT_FOUND  # its valid ID is here
    dead = [p for p in people if p["status"] == "死亡注销"]
    if dead:
        assert of[dead[0]["id_number"]]["conclusion"] == "已注销"
        assert of[dead[0]["id_number"]]["person_status"] == "死亡注销"
    assert set(got.values()) <= {FOUND, NOT_FOUND, "已注销", VISIT}

    written = export_answers(g, tmp_path / "g-out", operator="g", answered_on=ANSWERED)
    (answer_file,) = [f.path for f in written]
    assert answer_file.name == "协查反馈_433127_440106_202606.csv"
    answers = _read(answer_file)
    assert answers.columns == list(ANSWER_HEADERS.values())
    assert answers.filter(pl.col("核查结论") == NOT_FOUND)["核查说明"].null_count() == 0
    assert export_answers(g, tmp_path / "g-again", operator="g", answered_on=ANSWERED) == []

    # A: the answers close its queries
    back = import_exchange(a, [answer_file], operator="a", today=ANSWERED)
    assert back.errors == []
    closed = a.frame("""
        SELECT q.conclusion, q.status, f.status AS finding_status
        FROM exchange_queries q JOIN findings f USING (finding_id)
    """)
    definite = closed.filter(pl.col("conclusion") != VISIT)
    assert definite.height >= asked.height - 1
    assert set(definite["status"]) == {"answered"}
    assert set(definite.filter(pl.col("conclusion") == NOT_FOUND)["finding_status"]) == {"rejected"}
    assert set(definite.filter(pl.col("conclusion") != NOT_FOUND)["finding_status"]) == {
        "confirmed"
    }
    # importing the same answers again changes nothing
    again = import_exchange(a, [answer_file], operator="a", today=ANSWERED)
    assert again.files[0].status == "already_imported"
    a.close()

    # G's report shows its feedback to A: every query answered by the cycle's 27th
    page = build_report(g, tmp_path / "report.html", as_of=ANSWERED, model_charts=False)
    html = page.read_text("utf-8")
    (row,) = figures(html)["exchange_received"]
    assert (row["from_county"], row["received"]) == ("440106", asked.height)
    assert row["feedback_rate"] == pytest.approx(definite.height / asked.height)
    assert "跨县协查" in html and people[0]["id_number"] not in html
    county = assessment(g, as_of=ANSWERED)["county"]  # renkou figures says the same
    assert county["exchange_feedback_rate"] == pytest.approx(row["feedback_rate"])


def test_a_doubtful_query_is_visited_and_the_visit_answers_it(g: Store, tmp_path: Path) -> None:
    people = _g_people(g)
    a = _asking_county(tmp_path, people)
    (query_file,) = [
        f.path for f in export_queries(a, tmp_path / "a-out", operator="a", sent_on=SENT).files
    ]
    a.close()
    import_exchange(g, [query_file], operator="g", today=ANSWERED)
    # make one query doubtful, as a clerical-band match would
    g.con.execute(
        f"""UPDATE exchange_received SET conclusion = '{VISIT}', person_id = ?
            WHERE id_number = ?""",
        [people[0]["person_id"], people[0]["id_number"]],
    )
    merge(g, derive_findings(g, "links", "dedupe_pairs"), run_id="night-2")
    task = g.frame("SELECT * FROM findings WHERE finding_type = 'incoming_query'")
    assert task.height == 1 and task["person_id"][0] == people[0]["person_id"]
    assert task["township"][0]  # a township task like any other
    listed = export_tasks(g, tmp_path / "tasks", operator="g", sent_on=ANSWERED)
    assert listed.tasks >= 1
    (row,) = [r for r in task_rows(g, task).to_dicts()]
    assert "协查" in row["线索来源及内容"] and "比对概率" in row["系统判断依据"]
    first = export_answers(g, tmp_path / "g-1", operator="g", answered_on=ANSWERED)
    interim = _read(first[0].path)
    assert VISIT in set(interim["核查结论"])  # said while the visit is under way
    set_status(g, task["finding_id"].to_list(), "confirmed")
    second = export_answers(g, tmp_path / "g-2", operator="g", answered_on=ANSWERED)
    final = _read(second[0].path)
    assert VISIT not in set(final["核查结论"]) and second[0].new == 1


def _query_file(path: Path, rows: list[list[str]], header: list[str] | None = None) -> Path:
    write_csv(path, header or list(QUERY_HEADERS.values()), rows)
    return path


def _row(query_id: str, to: str = "433127", name: str = "张三") -> list[str]:
    return [
        query_id,
        "440106",
        to,
        "死亡",
        "急",
        "2026-06-10",
        "2026-07-10",
        name,
        "男",
        "",
        "1950-01-01",
        "",
        "",
        "2026-05-01",
        "在本县死亡",
    ]


def test_bad_query_files_are_refused_with_the_fix(g: Store, tmp_path: Path) -> None:
    wrong_county = _query_file(tmp_path / "协查_440106_430102_202606.csv", [_row("Q1", "430102")])
    missing = _query_file(
        tmp_path / "协查_440106_433127_202605.csv", [["Q1", "440106"]], ["协查编号", "发起地代码"]
    )
    dup = _query_file(
        tmp_path / "协查_440106_433127_202606.csv",
        [_row("Q1"), _row("Q1", name="李四"), _row("Q2", to="430102"), _row("Q3", name="")],
    )
    unnamed = _query_file(tmp_path / "queries.csv", [_row("Q9")])
    report = import_exchange(g, [wrong_county, missing, dup, unnamed], operator="g")
    said = [p.describe() for p in report.problems]
    status = {f.file: f.status for f in report.files}
    assert status[wrong_county.name] == "refused"
    assert any("addressed to county 430102" in s and "Fix: send it on" in s for s in said)
    assert status[missing.name] == "refused"
    assert any("missing required column" in s and missing.name in s for s in said)
    assert status[unnamed.name] == "refused"
    # the good row is kept, the others named by row with their fix
    assert status[dup.name] == "imported"
    assert g.scalar("SELECT count(*) FROM exchange_received") == 1
    assert any(f"{dup.name}, row 3" in s and "协查编号 repeats row 2" in s for s in said)
    assert any(f"{dup.name}, row 4" in s and "目标地代码 is not this county" in s for s in said)
    assert not any("430102" in s for s in said if dup.name in s)  # a cell is never quoted
    assert any(f"{dup.name}, row 5" in s and "姓名" in s for s in said)
    # the same file again: nothing changes
    again = import_exchange(g, [dup], operator="g")
    assert again.files[0].status == "already_imported" and again.problems == []
    assert g.scalar("SELECT count(*) FROM exchange_received") == 1


def test_an_answer_to_a_query_never_sent_is_refused(g: Store, tmp_path: Path) -> None:
    path = tmp_path / "协查反馈_440106_433127_202606.csv"
    write_csv(
        path,
        list(ANSWER_HEADERS.values()),
        [
            ["XC433127-NOSUCH", "本县有此人", "正常", "", "", "2026-06-20", "天河区"],
            ["XC433127-OTHER", "本县无此人", "", "", "", "2026-06-20", "天河区"],
        ],
    )
    report = import_exchange(g, [path], operator="g")
    said = " | ".join(p.describe() for p in report.problems)
    assert "names no query this county sent to 440106" in said
    assert "核查说明" in said  # 本县无此人 without an explanation is refused


def test_an_encrypted_package_opens_only_with_the_key(
    g: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = _g_people(g)
    a = _asking_county(tmp_path, people)
    monkeypatch.setenv("RENKOU_EXCHANGE_KEY", "agreed-key")
    (package,) = [
        f.path for f in export_queries(a, tmp_path / "a-out", operator="a", sent_on=SENT).files
    ]
    a.close()
    assert package.suffix == ".zip"
    monkeypatch.setenv("RENKOU_EXCHANGE_KEY", "another-key")
    wrong = import_exchange(g, [package], operator="g", today=ANSWERED)
    assert wrong.files[0].status == "refused"
    assert "the key does not open this package" in wrong.problems[0].describe()
    monkeypatch.setenv("RENKOU_EXCHANGE_KEY", "agreed-key")
    right = import_exchange(g, [package], operator="g", today=ANSWERED)
    assert right.files[0].status == "imported" and right.files[0].accepted >= 4
    answers = export_answers(g, tmp_path / "g-out", operator="g", answered_on=ANSWERED)
    assert answers[0].path.name == "协查反馈_433127_440106_202606.zip"
