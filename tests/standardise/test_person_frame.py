"""person_frame: the shared person-record shape every source is turned into."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl

from linkage.standardise import PERSON_COLUMNS, person_frame
from linkage.standardise.ids import check_char

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
BODY = "42280219500926002"  # even order: female
ID18 = BODY + check_char(BODY)


def _rows() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source": ["hukou", "death"],
            "record_id": ["H1", "D9"],
            "role": ["person", "person"],
            "name": ["歐陽　娜娜", "阿依古丽•买买提"],
            "former_name": ["欧阳娜", None],
            "sex": ["2", "女性"],
            "id_number": [ID18.lower(), None],
            "birth_date": ["1950年8月15日", "19500926"],
            "ethnicity": ["土家", "15"],
            "address": ["湖北省来凤县翔凤镇老寨村三组", "来凤县百福司镇舍米湖村"],
            "township": ["翔凤镇", None],
            "village": [None, None],
            "event_date": [None, "2024/1/2"],
        }
    )


def test_columns_and_values() -> None:
    result = person_frame(_rows())
    assert result.columns == list(PERSON_COLUMNS)
    first, second = result.row(0, named=True), result.row(1, named=True)
    assert first["rec_key"] == "hukou|H1|person"
    assert (first["name"], first["name_key"], first["surname"], first["given_name"]) == (
        "歐陽娜娜",
        "欧阳娜娜",
        "歐陽",
        "娜娜",
    )
    assert (first["name_py"], first["surname_py"], first["given_py"]) == (
        "ouyangnana",
        "ouyang",
        "nana",
    )
    assert (first["former_name_key"], first["former_name_py"]) == ("欧阳娜", "ouyangna")
    assert (first["id_number"], first["id_raw"], first["id_status"]) == (
        ID18,
        ID18.lower(),
        "valid",
    )
    assert (first["id_birth_date"], first["id_sex"], first["id_region"]) == (
        dt.date(1950, 9, 26),
        "女",
        "422802",
    )
    assert first["birth_date"] == dt.date(1950, 8, 15)
    assert first["birth_date_lunar_alt"] == dt.date(1950, 9, 26)  # = the ID's date
    assert (first["birth_year"], first["birth_month"], first["birth_day"]) == (1950, 8, 15)
    assert (first["sex"], first["ethnicity"]) == ("女", "土家族")
    assert (first["township"], first["village"], first["address"]) == (
        "翔凤镇",
        "老寨村",
        "翔凤镇老寨村三组",
    )
    assert second["surname"] is None and second["given_name"] == "阿依古丽·买买提"
    assert (second["township"], second["village"]) == ("百福司镇", "舍米湖村")
    assert second["event_date"] == dt.date(2024, 1, 2)
    assert second["id_status"] == "missing"


def test_missing_columns_become_null_and_lazy_stays_lazy() -> None:
    lazy = person_frame(pl.LazyFrame({"source": ["death"], "record_id": [7], "role": ["person"]}))
    assert isinstance(lazy, pl.LazyFrame)
    result = lazy.collect()
    assert result.columns == list(PERSON_COLUMNS)
    assert result["rec_key"].item() == "death|7|person"
    assert result.drop("rec_key", "source", "record_id", "role", "id_status").null_count().row(
        0
    ) == (1,) * (len(PERSON_COLUMNS) - 5)
    assert result.schema["birth_date"] == pl.Date
    assert result.schema["birth_year"] == pl.Int32


def test_documented_columns_match() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("## Person records", 1)[1].split("\n## ", 1)[0]
    documented: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("| column"):
            documented.update(re.findall(r"[a-z_]+", line.split("|")[1]))
    assert documented - {"and"} == set(PERSON_COLUMNS)
