"""CJK-aware Splink comparisons: every level reached by a hand-made Chinese pair, scored by Splink.

All pairs go through one real Splink ``predict()`` on an explicit DuckDB connection: left and
right tables share ``rec_key`` per case, and the model blocks on ``rec_key``, so each case is
exactly one scored pair whose ``gamma_*`` values are read back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from borax.calendars.lunardate import LunarDate
from splink import DuckDBAPI, Linker, block_on

from linkage import sql
from linkage.comparisons import (
    BLOCKING_KEYS,
    NAMED_BLOCKING_RULES,
    birth_date_comparison,
    blocking_rules,
    build_settings,
    id_comparison,
    level_gammas,
    name_comparison,
    settings_from_model,
)
from linkage.errors import ConfigError
from linkage.standardise.ids import check_char, upgrade_15
from linkage.standardise.names import standardise_names

EXAMPLE_TOML = Path(__file__).parents[1] / "docs" / "example_source.toml"

STRING_COLUMNS = (
    "source record_id role rec_key name name_key surname given_name name_py surname_py "
    "given_py former_name_key former_name_py name_snd name_snd_parts id_number id_raw id_status "
    "id_sex id_region sex "
    "ethnicity township village address household_id"
).split()
DATE_COLUMNS = (
    "id_birth_date",
    "birth_date",
    "birth_date_lunar_alt",
    "birth_date_lunar_leap_alt",
    "event_date",
)
SCHEMA = {**{c: pl.String for c in STRING_COLUMNS}, **{c: pl.Date for c in DATE_COLUMNS}}

ALL_TYPES = {
    "comparisons": [
        {"type": "name"},
        {"type": "id", "fixed_u": {"one_edit": 1e-7}},
        {"type": "birth_date"},
        {"type": "sex"},
        {"type": "address"},
        {"type": "ethnicity"},
        {"type": "household"},
    ],
    "blocking": [["id_number"]],
}


def _id(body17: str) -> str:
    return body17 + check_char(body17)


def _swap(text: str, i: int) -> str:
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _name(hanzi: str, key: str | None = None, py: str | None = None, **kw: Any) -> dict[str, Any]:
    """A name as the standardiser would give it; pinyin only where the case needs it."""
    rec = {"name": hanzi, "name_key": key or hanzi, "name_py": py, "name_snd": py, **kw}
    if py is not None and "surname_py" not in kw:
        # test names here have one-character surnames whose pinyin is one syllable
        rec["surname_py"], rec["given_py"] = _split_py(py)
    return rec


def _standardised(raw: str) -> dict[str, Any]:
    """A name exactly as the standardiser gives it (every name column)."""
    row = standardise_names(pl.DataFrame({"raw": [raw]}), "raw").row(0, named=True)
    fields = ("key", "py", "surname_py", "given_py", "snd", "snd_parts")
    return {"name": row["name"], **{f"name_{f}": row[f"name_{f}"] for f in fields}} | {
        "surname_py": row["name_surname_py"],
        "given_py": row["name_given_py"],
    }


def _split_py(py: str) -> tuple[str, str]:
    for surname in ("zhang", "wang", "chen", "liu", "li", "yu"):
        if py.startswith(surname):
            return surname, py[len(surname) :]
    raise ValueError(py)


ME = _id("11010519800305123")  # 1980-03-05, order 123
RELATIVE = _id("11010519800305145")  # same region and date (a twin), valid, different
OLD_15 = "110105491231002"  # 15-digit form of 11010519491231002X
TYPO = ME[:15] + ("9" if ME[15] != "9" else "8") + ME[16:]  # one order digit wrong
VALID_ME = {"id_number": ME, "id_status": "valid"}
LUNAR_WRITTEN = dt.date(1950, 3, 15)  # lunar 1950-03-15 written as if Gregorian
LUNAR_SOLAR = LunarDate(1950, 3, 15).to_solar_date()  # the real (solar) birthday

# (case, comparison output column, expected level key, left record, right record)
CASES: list[tuple[str, str, str, dict[str, Any], dict[str, Any]]] = [
    # names
    ("name_exact", "name", "exact", _name("王伟", py="wangwei"), _name("王伟", py="wangwei")),
    (
        "name_traditional",
        "name",
        "key",
        _name("張偉", "张伟", "zhangwei"),
        _name("张伟", "张伟", "zhangwei"),
    ),
    (
        "name_dot_separator",
        "name",
        "key",
        _name("阿依古丽•买买提", "阿依古丽·买买提"),
        _name("阿依古丽.买买提", "阿依古丽·买买提"),
    ),
    (
        "name_transliteration_readings",
        "name",
        "transliteration",
        _standardised("阿卜杜拉"),
        _standardised("阿布都拉"),
    ),
    (
        "name_transliteration_one_part",
        "name",
        "transliteration",
        _standardised("佐日古丽·喀迪尔"),
        _standardised("佐日古丽·卡德尔"),
    ),
    (
        "name_former_left",
        "name",
        "former_name",
        _name("王秀英", py="wangxiuying", former_name_key="王招娣"),
        _name("王招娣", py="wangzhaodi"),
    ),
    (
        "name_former_right",
        "name",
        "former_name",
        _name("王招娣", py="wangzhaodi"),
        _name("王秀英", py="wangxiuying", former_name_key="王招娣"),
    ),
    (
        "name_homophone",
        "name",
        "pinyin",
        _name("李晓蕾", py="lixiaolei"),
        _name("李小磊", py="lixiaolei"),
    ),
    (
        "name_near_pinyin",
        "name",
        "similar",
        _name("陈晓明", py="chenxiaoming"),
        _name("陈小敏", py="chenxiaomin"),
    ),
    (
        "name_shape_similar_surname",
        "name",
        "similar",
        _name("王建国", py="wangjianguo"),
        _name("玉建国", py="yujianguo"),
    ),
    # pinyin not available: still one character off (DuckDB's levenshtein would say 3)
    ("name_one_char_no_pinyin", "name", "similar", _name("张三丰"), _name("张叁丰")),
    # two-character names: one character off is only "same surname"
    ("name_two_chars", "name", "else", _name("张伟", py="zhangwei"), _name("张强", py="zhangq")),
    ("name_other", "name", "else", _name("王伟", py="wangwei"), _name("李娜", py="lina")),
    ("name_null", "name", "null", _name("王伟", py="wangwei"), {}),
    # ID numbers
    ("id_exact", "id_number", "exact", VALID_ME, VALID_ME),
    (
        "id_upgraded_15",
        "id_number",
        "exact_upgraded",
        {"id_number": upgrade_15(OLD_15), "id_raw": OLD_15, "id_status": "upgraded_15"},
        {"id_number": upgrade_15(OLD_15), "id_status": "valid"},
    ),
    (
        "id_transposed",
        "id_number",
        "one_edit",
        VALID_ME,
        {"id_number": _swap(ME, 14), "id_status": "bad_check"},
    ),
    (
        "id_one_digit",
        "id_number",
        "one_edit",
        VALID_ME,
        {"id_number": TYPO, "id_status": "bad_check"},
    ),
    (
        "id_relative",
        "id_number",
        "valid_but_different",
        VALID_ME,
        {"id_number": RELATIVE, "id_status": "valid"},
    ),
    (
        "id_garbage",
        "id_number",
        "else",
        VALID_ME,
        {"id_number": "1101051980", "id_status": "bad_format"},
    ),
    ("id_null", "id_number", "null", VALID_ME, {"id_status": "missing"}),
    # birth dates
    (
        "bd_exact",
        "birth_date",
        "exact",
        {"birth_date": dt.date(1980, 3, 5)},
        {"birth_date": dt.date(1980, 3, 5)},
    ),
    (
        "bd_lunar",
        "birth_date",
        "lunar",
        {"birth_date": LUNAR_WRITTEN, "birth_date_lunar_alt": LUNAR_SOLAR},
        {"birth_date": LUNAR_SOLAR},
    ),
    (
        "bd_lunar_right",
        "birth_date",
        "lunar",
        {"birth_date": LUNAR_SOLAR},
        {"birth_date": LUNAR_WRITTEN, "birth_date_lunar_alt": LUNAR_SOLAR},
    ),
    (
        "bd_lunar_leap_month",  # 闰四月初八 2020 written as 2020-04-08: 2020-05-30
        "birth_date",
        "lunar",
        {
            "birth_date": dt.date(2020, 4, 8),
            "birth_date_lunar_alt": dt.date(2020, 4, 30),
            "birth_date_lunar_leap_alt": dt.date(2020, 5, 30),
        },
        {"birth_date": dt.date(2020, 5, 30)},
    ),
    (
        "bd_swapped",
        "birth_date",
        "month_day_swapped",
        {"birth_date": dt.date(1980, 3, 5)},
        {"birth_date": dt.date(1980, 5, 3)},
    ),
    (
        "bd_one_digit_day",
        "birth_date",
        "one_digit",
        {"birth_date": dt.date(1980, 3, 5)},
        {"birth_date": dt.date(1980, 3, 8)},
    ),
    (
        "bd_one_digit_year",
        "birth_date",
        "one_digit",
        {"birth_date": dt.date(1980, 3, 5)},
        {"birth_date": dt.date(1985, 3, 5)},
    ),
    (
        "bd_same_year",
        "birth_date",
        "same_year",
        {"birth_date": dt.date(1980, 3, 5)},
        {"birth_date": dt.date(1980, 11, 27)},
    ),
    (
        "bd_other",
        "birth_date",
        "else",
        {"birth_date": dt.date(1980, 3, 5)},
        {"birth_date": dt.date(1991, 7, 28)},
    ),
    ("bd_null", "birth_date", "null", {"birth_date": dt.date(1980, 3, 5)}, {}),
    # sex, address, ethnicity
    ("sex_exact", "sex", "exact", {"sex": "女"}, {"sex": "女"}),
    ("sex_other", "sex", "else", {"sex": "女"}, {"sex": "男"}),
    ("sex_null", "sex", "null", {"sex": "女"}, {}),
    (
        "addr_village",
        "address",
        "township_village",
        {"township": "城关镇", "village": "东关村"},
        {"township": "城关镇", "village": "东关村"},
    ),
    (
        "addr_township",
        "address",
        "township",
        {"township": "城关镇", "village": "东关村"},
        {"township": "城关镇", "village": "西关村"},
    ),
    (
        "addr_township_no_village",
        "address",
        "township",
        {"township": "城关镇", "village": "东关村"},
        {"township": "城关镇"},
    ),
    ("addr_other", "address", "else", {"township": "城关镇"}, {"township": "河口乡"}),
    ("addr_null", "address", "null", {"township": "城关镇"}, {"village": "东关村"}),
    ("eth_exact", "ethnicity", "exact", {"ethnicity": "回族"}, {"ethnicity": "回族"}),
    ("eth_other", "ethnicity", "else", {"ethnicity": "汉族"}, {"ethnicity": "回族"}),
    ("eth_null", "ethnicity", "null", {"ethnicity": "汉族"}, {}),
    ("hh_same", "household_id", "exact", {"household_id": "10203"}, {"household_id": "10203"}),
    ("hh_other", "household_id", "else", {"household_id": "10203"}, {"household_id": "10204"}),
    ("hh_null", "household_id", "null", {"household_id": "10203"}, {}),
]


def _frame(side: str, cases: list[tuple[str, dict[str, Any]]]) -> pl.DataFrame:
    rows = [{c: None for c in SCHEMA} | rec | {"rec_key": case} for case, rec in cases]
    return pl.DataFrame(rows, schema=SCHEMA).with_columns(source=pl.lit(side))


def _predict(settings: Any, left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    """Score each same-``rec_key`` pair with Splink on an explicit DuckDB connection."""
    con = duckdb.connect(":memory:")
    db_api = DuckDBAPI(con)
    linker = Linker(
        [
            db_api.register(left, dataset_display_name="pairs_l"),
            db_api.register(right, dataset_display_name="pairs_r"),
        ],
        dataclasses.replace(settings, blocking_rules_to_generate_predictions=[block_on("rec_key")]),
        log_level=None,
    )
    predictions = linker.inference.predict(warning_mode="never")
    return predictions.as_duckdbpyrelation().pl()


@pytest.fixture(scope="module")
def scored() -> pl.DataFrame:
    settings = build_settings(ALL_TYPES, "link_only")
    left = _frame("left", [(c[0], c[3]) for c in CASES])
    right = _frame("right", [(c[0], c[4]) for c in CASES])
    return _predict(settings, left, right)


GAMMAS = {
    c.create_output_column_name(): level_gammas(c)
    for c in build_settings(ALL_TYPES, "link_only").comparisons
}


@pytest.mark.parametrize(
    ("case", "column", "level"),
    [c[:3] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_pair_lands_on_level(scored: pl.DataFrame, case: str, column: str, level: str) -> None:
    row = scored.filter(pl.col("rec_key_l") == case)
    assert row.height == 1
    assert row[f"gamma_{column}"].item() == GAMMAS[column][level]


def test_every_level_has_a_case() -> None:
    covered = {(column, level) for _, column, level, _, _ in CASES}
    expected = {(column, level) for column, levels in GAMMAS.items() for level in levels}
    assert expected - covered == set()


def test_hanzi_comparisons_count_characters() -> None:
    # Our hanzi levels count code points whichever way the DuckDB release counts its own
    # string distances (bytes on 2.0.0, characters on 2.0.1): none of them is used here.
    a, b, c, d = "'张三丰'", "'张叁丰'", "'𠮷野家'", "'吉野家'"
    expressions = [
        sql.chars_differing(a, b),
        sql.chars_differing(c, d),  # 𠮷 is outside the BMP: still one character
        sql.chars_differing("'阿依古丽·买买提'", "'阿依古丽·买卖提'"),
        sql.one_char_different(a, b, min_length=3),
        sql.one_char_different(c, d, min_length=3),
        sql.one_char_different("'张伟'", "'张强'", min_length=3),
        sql.one_char_different(a, "'张三'"),
    ]
    con = duckdb.connect(":memory:")
    result = con.sql(f"SELECT {', '.join(expressions)}").fetchall()
    assert result == [(1, 1, 1, True, True, False, False)]


def test_ascii_edit_helpers_do_not_raise_on_unequal_lengths() -> None:
    # DuckDB's hamming() raises on unequal lengths; the helpers guard it with CASE
    con = duckdb.connect(":memory:")
    con.sql(
        "CREATE TABLE t AS SELECT * FROM (VALUES ('19800305', '19800350'), "
        "('19800305', '1980035'), ('110105', '110150'), (NULL, '1')) v(a, b)"
    )
    result = con.sql(
        f"SELECT {sql.hamming_if_same_length('a', 'b')}, {sql.one_substitution_or_swap('a', 'b')} "
        "FROM t"
    ).fetchall()
    assert result == [(2, True), (None, False), (2, True), (None, False)]


def test_level_gammas_agree_with_splink() -> None:
    for comparison in build_settings(ALL_TYPES, "link_only").comparisons:
        splink_levels = comparison.get_comparison("duckdb").comparison_levels
        gammas = level_gammas(comparison)
        assert [gammas[k] for k in comparison.level_keys] == [
            lv.comparison_vector_value for lv in splink_levels
        ]


def test_descriptions_survive_settings_and_model_round_trip() -> None:
    comparison = name_comparison()
    assert comparison.get_comparison("duckdb").comparison_description.startswith("Name:")
    con = duckdb.connect(":memory:")
    db_api = DuckDBAPI(con)
    frame = _frame("left", [("a", _name("王伟", py="wangwei"))])
    linker = Linker(
        db_api.register(frame, dataset_display_name="base"),
        build_settings(ALL_TYPES, "dedupe_only"),
        log_level=None,
    )
    model = linker.misc.save_model_to_json()
    assert model["comparisons"][0]["comparison_description"].startswith("Name:")
    reloaded = Linker(
        db_api.register(frame, dataset_display_name="base_again"),
        settings_from_model(model),
        log_level=None,
    )
    saved_again = reloaded.misc.save_model_to_json()
    assert [c["comparison_description"] for c in saved_again["comparisons"]] == [
        c["comparison_description"] for c in model["comparisons"]
    ]
    assert saved_again["comparisons"][1]["comparison_levels"][3]["fix_u_probability"] is True


def test_birth_date_can_fall_back_to_id_birth_date() -> None:
    cfg = {
        "comparisons": [{"type": "birth_date", "fallback_to_id_date": True}],
        "blocking": [["birth_date"]],
    }
    settings = build_settings(cfg, "link_only")
    left = _frame("left", [("a", {"id_birth_date": dt.date(1980, 3, 5)}), ("b", {})])
    born = {"birth_date": dt.date(1980, 3, 5)}
    right = _frame("right", [("a", born), ("b", born)])
    result = _predict(settings, left, right).sort("rec_key_l")
    gammas = level_gammas(birth_date_comparison())
    assert result["gamma_birth_date"].to_list() == [gammas["exact"], gammas["null"]]


def test_example_config_builds_and_its_blocking_rules_run() -> None:
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    cfg = tomllib.loads(EXAMPLE_TOML.read_text(encoding="utf-8"))
    settings = build_settings(cfg, "link_only", origin=str(EXAMPLE_TOML))
    con = duckdb.connect(":memory:")
    db_api = DuckDBAPI(con)
    left = _frame("left", [(c[0], c[3]) for c in CASES])
    right = _frame("right", [(c[0], c[4]) for c in CASES])
    records = count_comparisons_from_blocking_rules(
        [
            db_api.register(left, dataset_display_name="pairs_l"),
            db_api.register(right, dataset_display_name="pairs_r"),
        ],
        blocking_rules=settings.blocking_rules_to_generate_predictions,
        link_type="link_only",
        unique_id_column_name="rec_key",
        record_sample_proportion=1.0,
    )
    assert len(records) == len(cfg["blocking"])
    assert records[-1]["cumulative_comparison_count"] > 0


def test_every_blocking_key_and_named_rule_is_accepted() -> None:
    rules = blocking_rules([[k] for k in BLOCKING_KEYS] + list(NAMED_BLOCKING_RULES))
    sqls = [r.get_blocking_rule("duckdb").blocking_rule_sql for r in rules]
    assert "SUBSTRING(l.id_number, 1, 14) = SUBSTRING(r.id_number, 1, 14)" in sqls


def _cfg(*comparisons: dict[str, Any], blocking: Any = (("id_number",),), **extra: Any) -> Any:
    return {"comparisons": list(comparisons), "blocking": [list(b) for b in blocking], **extra}


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (_cfg({"type": "nmae"}), "type 'nmae' is unknown"),
        (_cfg({"type": "name", "tff": True}), "unknown parameter.*tff"),
        (_cfg({"type": "id"}, blocking=[["id_numbr"]]), "id_numbr"),
        (_cfg({"type": "id"}) | {"blocking": ["lunar"]}, "no rule named 'lunar'"),
        (_cfg({"type": "id"}, blocking=[]), "blocking must be a non-empty list"),
        (_cfg({"type": "id", "fixed_u": {"one_edt": 1e-7}}), "no level called one_edt"),
        (_cfg({"type": "id", "fixed_u": {"one_edit": 2}}), "not a probability"),
        (_cfg({"type": "sex"}, {"type": "sex"}), "appears twice"),
        (_cfg({"type": "sex"}, unique_id_column="id; drop"), "not a plain column name"),
    ],
)
def test_config_mistakes_raise_config_error(cfg: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_settings(cfg, "link_only", origin="configs/sources/test.toml")


def test_fixed_u_is_written_into_the_level() -> None:
    level = id_comparison(fixed_u={"one_edit": 1e-7}).create_comparison_levels()[3]
    assert (
        level.create_level_dict("duckdb").items()
        >= {
            "u_probability": 1e-7,
            "fix_u_probability": True,
        }.items()
    )
