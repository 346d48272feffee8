"""公民身份号码: check digit, 15→18 upgrade, normalisation, status, masking."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.standardise.ids import (
    CHECK_CHARS,
    check_char,
    mask_id,
    mask_ids_in_text,
    parse_id,
    standardise_id,
    upgrade_15,
)

bodies = st.builds(
    lambda region, day, order: f"{region:06d}{day:%Y%m%d}{order:03d}",
    st.integers(110000, 659999),
    st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)),
    st.integers(0, 999),
)


def test_known_check_char() -> None:
    # GB 11643-1999 worked example
    assert check_char("11010519491231002") == "X"


@settings(max_examples=30)
@given(bodies)
def test_check_char_catches_every_single_digit_error(body: str) -> None:
    full = body + check_char(body)
    assert parse_id(full) == (full, "valid")
    for pos in range(17):
        for digit in "0123456789":
            if digit != body[pos]:
                typo = body[:pos] + digit + body[pos + 1 :] + full[17]
                assert parse_id(typo)[1] != "valid"


@settings(max_examples=30)
@given(bodies)
def test_check_char_catches_adjacent_transpositions(body: str) -> None:
    full = body + check_char(body)
    for pos in range(16):
        if full[pos] != full[pos + 1]:
            swapped = full[:pos] + full[pos + 1] + full[pos] + full[pos + 2 :]
            assert parse_id(swapped)[1] != "valid"


@given(
    st.integers(110000, 659999),
    st.dates(dt.date(1900, 1, 1), dt.date(1999, 12, 31)),
    st.integers(0, 999),
)
def test_upgrade_15_gives_valid_18(region: int, day: dt.date, order: int) -> None:
    id15 = f"{region:06d}{day:%y%m%d}{order:03d}"
    id18 = upgrade_15(id15)
    assert len(id18) == 18 and id18[17] in CHECK_CHARS
    assert id18[6:14] == f"{day:%Y%m%d}"
    assert parse_id(id15) == (id18, "upgraded_15")
    assert parse_id(id18) == (id18, "valid")


@settings(max_examples=25, deadline=None)
@given(st.lists(bodies, min_size=1, max_size=40))
def test_vectorised_matches_scalar(some: list[str]) -> None:
    variants = [None, "12"]
    for body in some:
        variants += [body + check_char(body), body + "0", body[:8] + "13" + body[10:] + "1"]
    frame = standardise_id(pl.DataFrame({"raw": variants}), "raw")
    expected = [parse_id(v) for v in variants]
    assert frame["id_number"].to_list() == [e[0] for e in expected]
    assert frame["id_status"].to_list() == [e[1] for e in expected]


def test_normalisation_of_typed_values() -> None:
    body = "43312719800101001"
    full = body + check_char(body)  # ends in 1
    xid = "11010519491231002X"
    raw = [
        "４３３１２７１９８００１０１００１１",
        " 433127 19800101 0011 ",
        xid.lower(),
        xid[:-1] + "×",
        "",
        None,
    ]
    frame = standardise_id(pl.DataFrame({"raw": raw}), "raw")
    assert frame["id_number"].to_list() == [full, full, xid, xid, None, None]
    assert frame["id_status"].to_list() == ["valid"] * 4 + ["missing"] * 2
    assert frame["id_raw"].to_list() == raw  # the delivered value is kept
    assert frame["id_sex"].to_list()[:3] == ["男", "男", "女"]
    assert frame["id_birth_date"][2] == dt.date(1949, 12, 31)
    assert frame["id_region"][0] == "433127"


def test_mask_keeps_first_six_and_last_four() -> None:
    frame = pl.DataFrame({"x": ["11010519491231002X", "123"]})
    masked = frame.select(mask_id(pl.col("x")))["x"].to_list()
    assert masked == ["110105********002X", "***"]


def test_an_id_inside_free_text_is_masked_as_an_id_column_is() -> None:
    frame = pl.DataFrame(
        {"x": ["欧阳锋11010519491231002X", "a 110105194912310021 b", "12345", None]}
    )
    masked = frame.select(mask_ids_in_text(pl.col("x")))["x"].to_list()
    assert masked == ["欧阳锋110105********002X", "a 110105********0021 b", "12345", None]
    three_two = frame.head(1).select(mask_ids_in_text(pl.col("x"), 3, 2))["x"].item()
    assert (
        three_two
        == "欧阳锋" + frame.head(1).select(mask_id(pl.lit("11010519491231002X"), 3, 2)).item()
    )
