"""The synthetic county: deterministic, readable as delivered, truthful, and realistic."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from linkage.catalog import FINDING_TYPES
from linkage.errors import ConfigError
from linkage.standardise.ids import check_char, upgrade_15
from synth import generate_county
from synth.chars import HOMOPHONES, TRADITIONAL
from synth.identity import check_chars

PERSONS, SEED = 3000, 7

# docs/interfaces.md, section 2 (copied on purpose: the test guards the contract)
HEADERS = {
    "population": "人员编号 姓名 性别 公民身份号码 出生日期 民族 户号 与户主关系 婚姻状况 "
    "户口性质 户籍地址 现住地址 乡镇(街道) 村(社区) 人员状态 更新日期",
    "hukou": "户籍记录编号 姓名 曾用名 性别 公民身份号码 出生日期 民族 户号 与户主关系 "
    "户籍地址 户口性质 户口状态 变动日期 迁往地址",
    "death": "记录编号 姓名 性别 公民身份号码 出生日期 死亡日期 生前住址 数据来源",
    "marriage": "登记编号 登记类型 登记日期 男方姓名 男方证件号码 男方出生日期 女方姓名 "
    "女方证件号码 女方出生日期 登记机关",
    "birth_certificate": "出生医学证明编号 新生儿姓名 性别 出生日期 出生地点 母亲姓名 "
    "母亲身份证件号码 父亲姓名 父亲身份证件号码 家庭住址",
    "maternity_insurance": "记录编号 姓名 公民身份号码 参保单位 待遇类型 生育日期 生育胎数",
    "vaccination": "受种者编码 儿童姓名 性别 出生日期 身份证号码 母亲姓名 监护人身份证号码 "
    "居住地址 接种单位 建档日期",
    "school": "学籍号 姓名 性别 出生日期 身份证号码 监护人姓名 监护人身份证号码 家庭住址 "
    "学校名称 年级",
}
KEY = {
    "population": "人员编号",
    "hukou": "户籍记录编号",
    "death": "记录编号",
    "marriage": "登记编号",
    "birth_certificate": "出生医学证明编号",
    "maternity_insurance": "记录编号",
    "vaccination": "受种者编码",
    "school": "学籍号",
}
ENCODING = {
    "population": "utf-8",
    "death": "gb18030",
    "marriage": "utf-8-sig",
    "vaccination": "gb18030",
}


def _read(path: Path, source: str) -> pl.DataFrame:
    if path.suffix == ".xlsx":
        return pl.read_excel(path, infer_schema_length=0)
    if path.suffix == ".parquet":
        return pl.read_parquet(path).with_columns(pl.all().cast(pl.String))
    data = path.read_bytes()
    encoding = "utf-8" if path.parent.name == "hukou" else ENCODING[source]
    if encoding == "utf-8-sig":
        assert data.startswith(b"\xef\xbb\xbf"), f"{path.name}: no UTF-8 BOM"
    elif encoding == "gb18030":
        encoding = "gb18030"
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    else:
        assert not data.startswith(b"\xef\xbb\xbf")
    text = data.decode("gb18030" if path.parent.name == "hukou" else encoding)
    return pl.read_csv(text.encode("utf-8"), infer_schema=False)


def _source(out: Path, source: str) -> pl.DataFrame:
    files = sorted((out / "inbox" / source).iterdir())
    return pl.concat([_read(f, source) for f in files]).fill_null("")


def _truth(out: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(out / "truth" / f"{name}.csv", infer_schema=False).fill_null("")


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("county")
    generate_county(PERSONS, SEED, out)
    return out


def test_same_seed_same_bytes(county: Path, tmp_path: Path) -> None:
    again = generate_county(PERSONS, SEED, tmp_path / "again")
    assert _digest(tmp_path / "again") == _digest(county)
    assert again.persons == PERSONS
    other = generate_county(PERSONS, SEED + 1, tmp_path / "other")
    assert _digest(tmp_path / "other") != _digest(county)
    assert other.seed == SEED + 1


def test_rerun_replaces_previous_files(county: Path, tmp_path: Path) -> None:
    out = tmp_path / "c"
    generate_county(200, 1, out)
    generate_county(200, 2, out)
    listed = set(json.loads((out / "truth" / "summary.json").read_text("utf-8"))["files"])
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert on_disk == listed


def test_inbox_headers_formats_and_encodings(county: Path) -> None:
    kinds = {}
    for source, header in HEADERS.items():
        files = sorted((county / "inbox" / source).iterdir())
        assert files, source
        kinds[source] = {f.suffix for f in files}
        for f in files:
            assert _read(f, source).columns == header.split(), f.name
    assert kinds == {
        "population": {".csv"},
        "hukou": {".xlsx"},
        "death": {".csv"},
        "marriage": {".csv"},
        "birth_certificate": {".xlsx"},
        "maternity_insurance": {".parquet"},
        "vaccination": {".csv"},
        "school": {".xlsx"},
    }
    assert len(list((county / "inbox" / "population").iterdir())) == 2
    origins = set(_source(county, "death")["数据来源"].to_list())
    assert origins == {"火化", "死亡医学证明"}


def test_values_as_departments_type_them(county: Path) -> None:
    assert set(_source(county, "population")["性别"]) == {"男", "女"}
    assert set(_source(county, "hukou")["性别"]) == {"1", "2"}
    assert set(_source(county, "birth_certificate")["性别"]) <= {"M", "F"}
    dates = pl.concat(
        [
            _source(county, s)[c]
            for s, c in (
                ("population", "出生日期"),
                ("death", "出生日期"),
                ("death", "死亡日期"),
                ("marriage", "登记日期"),
                ("hukou", "出生日期"),
            )
        ]
    )
    shapes = {
        "iso": r"^\d{4}-\d{2}-\d{2}$",
        "slash": r"^\d{4}/\d{1,2}/\d{1,2}$",
        "compact": r"^\d{8}$",
        "dots": r"^\d{4}\.\d{2}\.\d{2}$",
        "chinese": r"^\d{4}年\d{1,2}月\d{1,2}日$",
    }
    for name, pattern in shapes.items():
        assert dates.str.contains(pattern).any(), name
    assert dates.filter(dates != "").str.contains("|".join(shapes.values())).all()


def test_links_point_to_base_rows_of_the_same_human(county: Path) -> None:
    base_map = _truth(county, "base_map")
    links = _truth(county, "links")
    population = _source(county, "population")
    assert base_map["person_id"].is_unique().all()
    assert sorted(population["人员编号"]) == sorted(base_map["person_id"])
    linked = links.filter(pl.col("person_id_truth") != "").join(
        base_map, left_on="person_id_truth", right_on="person_id", how="left"
    )
    assert linked["true_pid_right"].null_count() == 0
    assert (linked["true_pid"] == linked["true_pid_right"]).all()
    # canonical = earliest of all the human's rows
    first = linked["all_person_ids"].str.split(";").list.min()
    assert (first == linked["person_id_truth"]).all()
    assert links.select("source", "source_record_id", "role").is_unique().all()
    for source in HEADERS:
        ids = set(_source(county, source)[KEY[source]])
        assert set(links.filter(pl.col("source") == source)["source_record_id"]) <= ids


def test_findings_refer_to_existing_rows(county: Path) -> None:
    findings = _truth(county, "findings")
    base_ids = set(_truth(county, "base_map")["person_id"])
    assert set(findings["finding_type"]) == {
        "suspected_death",
        "unregistered_birth",
        "attribute_conflict",
        "duplicate_person",
        "moved_out",
        "transfer",
        "unregistered_person",
        "unverified_person",
        "cross_county_query",
    }
    assert set(findings["finding_type"]) <= set(FINDING_TYPES)  # the truth speaks the catalog
    assert set(findings.filter(pl.col("person_id") != "")["person_id"]) <= base_ids
    dups = findings.filter(pl.col("finding_type") == "duplicate_person")
    assert set(dups["other_person_id"]) <= base_ids
    assert (dups["person_id"] < dups["other_person_id"]).all()
    for source in HEADERS:
        used = set(findings.filter(pl.col("source") == source)["source_record_id"])
        assert used <= set(_source(county, source)[KEY[source]]), source
    assert (
        findings.filter(pl.col("finding_type") == "unregistered_person")["person_id"].eq("").all()
    )
    conflicts = findings.filter(pl.col("finding_type") == "attribute_conflict")
    assert (conflicts["base_value"] != conflicts["source_value"]).all()
    assert set(conflicts["field"]) <= {
        "name",
        "sex",
        "birth_date",
        "ethnicity",
        "id_number",
        "household_id",
        "hukou_type",
        "marital_status",
    }


def test_findings_agree_with_the_inbox(county: Path) -> None:
    findings = _truth(county, "findings")
    population = _source(county, "population")
    status = dict(zip(population["人员编号"], population["人员状态"], strict=True))
    for kind in ("suspected_death", "moved_out", "transfer"):
        rows = findings.filter(pl.col("finding_type") == kind)
        assert rows.height and all(status[p] == "正常" for p in rows["person_id"])
    hukou = _source(county, "hukou")
    moved = set(hukou.filter(pl.col("户口状态") == "迁出注销")["户籍记录编号"])
    for kind in ("moved_out", "transfer"):
        assert set(findings.filter(pl.col("finding_type") == kind)["source_record_id"]) <= moved
    transfers = findings.filter(pl.col("finding_type") == "transfer")
    assert transfers["destination"].str.starts_with("43").all()  # the county's province
    assert findings.filter(pl.col("finding_type") == "moved_out")["destination"].eq("").all()


def _errors(county: Path, family: str) -> pl.DataFrame:
    errors = _truth(county, "injected_errors")
    return errors.filter(pl.col("family") == family)


def test_injected_errors_are_in_the_inbox(county: Path) -> None:
    persons = _truth(county, "persons")
    true_id = dict(zip(persons["true_pid"], persons["id_number"], strict=True))
    true_name = dict(zip(persons["true_pid"], persons["name"], strict=True))
    death = _source(county, "death").unique(subset="记录编号")
    by_record = {r["记录编号"]: r for r in death.iter_rows(named=True)}
    checked = 0
    for row in (
        _errors(county, "id_missing").filter(pl.col("source") == "death").iter_rows(named=True)
    ):
        assert by_record[row["record_id"]]["公民身份号码"] == ""
        assert true_id[row["true_pid"]] != ""
        checked += 1
    for family in ("traditional", "homophone", "similar_shape"):
        for row in (
            _errors(county, family).filter(pl.col("source") == "death").iter_rows(named=True)
        ):
            assert by_record[row["record_id"]]["姓名"] != true_name[row["true_pid"]]
            checked += 1
    for row in (
        _errors(county, "id_15_digit").filter(pl.col("source") == "death").iter_rows(named=True)
    ):
        raw = by_record[row["record_id"]]["公民身份号码"]
        assert len(raw) == 15 and upgrade_15(raw) == true_id[row["true_pid"]]
    for row in _errors(county, "id_typo").filter(pl.col("source") == "death").iter_rows(named=True):
        raw = by_record[row["record_id"]]["公民身份号码"]
        assert check_char(raw[:17]) != raw[17]
    certs = _source(county, "birth_certificate").unique(subset="出生医学证明编号")
    empty = set(certs.filter(pl.col("新生儿姓名") == "")["出生医学证明编号"])
    assert set(_errors(county, "newborn_name_empty")["record_id"]) == empty
    assert checked > 5


def test_base_errors_are_visible(county: Path) -> None:
    persons = _truth(county, "persons")
    population = _source(county, "population")
    base_map = _truth(county, "base_map")
    rows = population.join(base_map, left_on="人员编号", right_on="person_id").join(
        persons, on="true_pid"
    )
    by_id = {r["人员编号"]: r for r in rows.iter_rows(named=True)}
    columns = {"base_wrong_ethnicity": ("民族", "ethnicity"), "base_wrong_name": ("姓名", "name")}
    for family, (header, truth_col) in columns.items():
        for row in _errors(county, family).iter_rows(named=True):
            assert by_id[row["record_id"]][header] != by_id[row["record_id"]][truth_col]
    missing = set(_errors(county, "base_missing")["true_pid"])
    assert missing and not missing & set(base_map["true_pid"])


def test_persons_are_consistent(county: Path) -> None:
    persons = _truth(county, "persons")
    ids = persons.filter(pl.col("id_number") != "")
    assert ids["id_number"].is_unique().all()
    for row in ids.sample(300, seed=1).iter_rows(named=True):
        number = row["id_number"]
        assert check_char(number[:17]) == number[17]
        assert number[6:14] == row["birth_date"].replace("-", "")
        assert (int(number[16]) % 2 == 1) == (row["sex"] == "男")
    bodies = np.array([int(n[:17]) for n in ids["id_number"].head(200)])
    assert list(check_chars(bodies)) == [check_char(str(b)) for b in bodies]
    births = persons.with_columns(pl.col("birth_date").str.to_date())
    age = {r["true_pid"]: r["birth_date"] for r in births.iter_rows(named=True)}
    gaps = [
        (age[r["true_pid"]] - age[r["mother_pid"]]).days / 365.25
        for r in births.filter(pl.col("mother_pid") != "").iter_rows(named=True)
    ]
    assert 17.5 <= min(gaps) and max(gaps) <= 46
    natives = persons.filter(pl.col("in_county_at_start") == "true")
    assert natives.height == PERSONS


def test_the_county_looks_real(county: Path) -> None:
    persons = _truth(county, "persons").filter(pl.col("in_county_at_start") == "true")
    towns = set(persons["township"])
    assert {"灵溪镇", "芙蓉镇", "首车镇"} <= towns and len(towns) == 23
    assert set(persons["relation_to_head"]) >= {
        "户主",
        "配偶",
        "子",
        "女",
        "儿媳",
        "孙子",
        "孙女",
        "父亲",
        "母亲",
    }
    heads = persons.group_by("household_id").agg((pl.col("relation_to_head") == "户主").sum())
    assert (heads["relation_to_head"] == 1).all()
    shares = persons["ethnicity"].value_counts(normalize=True)
    share = dict(zip(shares["ethnicity"], shares["proportion"], strict=True))
    assert 0.6 < share["土家族"] < 0.85 and share["汉族"] > 0.1 and share["苗族"] > 0.04
    surnames = persons["name"].str.slice(0, 1).value_counts(sort=True)
    assert set(surnames["name"].head(8)) & {"王", "李", "张", "彭", "向"}
    outside = persons.filter(
        ~pl.col("id_number").str.starts_with("433127") & (pl.col("id_number") != "")
    )
    assert 0.03 < outside.height / persons.height < 0.2


def test_error_model_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[death]\nhomophon = 0.1\n", "utf-8")
    with pytest.raises(ConfigError, match="homophon"):
        generate_county(100, 1, tmp_path / "x", bad)
    bad.write_text("[death]\nhomophone = 1.5\n", "utf-8")
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        generate_county(100, 1, tmp_path / "x", bad)


def _rates_county(tmp_path: Path) -> tuple[Path, dict[str, dict[str, float]]]:
    rates = {
        "death": {
            "homophone": 0.15,
            "traditional": 0.1,
            "id_missing": 0.2,
            "id_typo": 0.1,
            "date_format": 0.3,
            "redelivered": 0.1,
        },
        "marriage": {"spacing": 0.15, "id_typo": 0.1},
        "birth_certificate": {"newborn_name_empty": 0.4, "id_missing": 0.1},
        "population": {"missing": 0.02, "duplicate": 0.01, "wrong_ethnicity": 0.01},
    }
    model = tmp_path / "model.toml"
    model.write_text(
        "".join(
            f"[{s}]\n" + "".join(f"{k} = {v}\n" for k, v in f.items()) for s, f in rates.items()
        ),
        "utf-8",
    )
    out = tmp_path / "big"
    generate_county(40_000, 3, out, model)
    return out, rates


def _within(observed: int, n: int, p: float) -> bool:
    expected = n * p
    return abs(observed - expected) <= 4 * (expected * (1 - p)) ** 0.5 + 3


@pytest.mark.slow
def test_error_families_at_their_rates(tmp_path: Path) -> None:
    out, rates = _rates_county(tmp_path)
    errors = _truth(out, "injected_errors")
    links = _truth(out, "links")

    def count(source: str, family: str) -> int:
        return errors.filter((pl.col("source") == source) & (pl.col("family") == family)).height

    deaths = links.filter(pl.col("source") == "death").height
    first = _source(out, "death").filter(~pl.col("记录编号").is_duplicated()).height
    assert _within(count("death", "redelivered"), deaths, 0.1)
    assert first < deaths
    persons = _truth(out, "persons")
    with_id = (
        links.filter(pl.col("source") == "death")
        .join(persons, on="true_pid")
        .filter(pl.col("id_number") != "")
        .height
    )
    assert _within(count("death", "id_missing"), with_id, 0.2)
    # a name family can change only names with a character it knows: count those records
    named = links.filter(pl.col("source") == "death").join(persons, on="true_pid")["name"].to_list()
    changeable = {
        "homophone": sum(any(c in HOMOPHONES for c in n[1:]) for n in named),
        "traditional": sum(any(c in TRADITIONAL for c in n) for n in named),
    }
    for family, eligible in changeable.items():
        expected = eligible * rates["death"][family]
        assert 0.5 * expected < count("death", family) <= expected * 1.3 + 5, family
    assert _within(
        count("marriage", "spacing"), links.filter(pl.col("source") == "marriage").height, 0.15
    )
    certs = links.filter((pl.col("source") == "birth_certificate") & (pl.col("role") == "child"))
    assert _within(count("birth_certificate", "newborn_name_empty"), certs.height, 0.4)
    natives = persons.filter(pl.col("origin") == "native").height
    assert _within(count("population", "base_missing"), natives, 0.02)
    assert _within(count("population", "base_duplicate"), natives * 0.98, 0.01)
    # default-model families of the base: stale deaths and unregistered births
    died = persons.filter(
        (pl.col("alive") == "false") & (pl.col("origin") == "native") & (pl.col("base_rows") != "0")
    ).height
    assert _within(count("population", "base_death_not_cancelled"), died, 0.75)


def test_reference_date_in_summary(county: Path) -> None:
    summary = json.loads((county / "truth" / "summary.json").read_text("utf-8"))
    assert summary["reference_date"] == dt.date(2026, 10, 31).isoformat()
    assert summary["persons"] == PERSONS and summary["seed"] == SEED
    assert summary["rates"]["death"]["homophone"] > 0


def test_children_of_immunisation_and_school_records(county: Path) -> None:
    """Immunisation records (0-6) and school rolls (3-11) of the reference date, with the gaps
    the issue names: children without names or IDs, guardians who are fathers, children the
    base lacks found once each, families from elsewhere queried."""
    vaccination, school = _source(county, "vaccination"), _source(county, "school")
    persons = _truth(county, "persons").select("true_pid", "sex", "birth_date", "id_number")
    links = _truth(county, "links")
    born = pl.col("出生日期").str.to_date(strict=False)
    assert vaccination.select(born.min()).item() >= dt.date(2019, 10, 31)
    assert school.select(born.max()).item() <= dt.date(2023, 10, 31)
    assert (vaccination["儿童姓名"] == "").any() and (vaccination["身份证号码"] == "").mean() > 0.4
    assert (school["身份证号码"] == "").any()
    # a guardian's ID is the mother's or the father's
    guardians = (
        links.filter((pl.col("source") == "vaccination") & (pl.col("role") == "guardian"))
        .join(persons, on="true_pid")
        .group_by("sex")
        .len()
    )
    shares = dict(guardians.iter_rows())
    assert shares["男"] > 0.1 * shares["女"] and shares["女"] > shares["男"]
    roles = set(
        links.filter(pl.col("source").is_in(["vaccination", "school"]))
        .select(pl.concat_str("source", "role", separator="/"))
        .to_series()
    )
    assert roles == {
        "vaccination/child",
        "vaccination/mother",
        "vaccination/guardian",
        "school/person",
        "school/guardian",
    }
    findings = _truth(county, "findings")
    children = findings.filter(
        pl.col("finding_type").is_in(["unregistered_birth", "unregistered_person"])
        & (pl.col("source") != "hukou")
        & (pl.col("source") != "maternity_insurance")
    )
    assert children["true_pid"].is_unique().all()  # one case per child, whatever shows it
    assert set(children["source"]) >= {"birth_certificate", "vaccination"}
    queried = findings.filter(
        (pl.col("finding_type") == "cross_county_query") & (pl.col("source") == "vaccination")
    )
    assert queried.height and (queried["role"] == "guardian").all()
    assert (queried["destination"] != "").all()
