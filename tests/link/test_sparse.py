"""``linkage.link.sparse``: records with only a name, a sex and an address, linked when the
village has one person of that name (or one at the record's 组/号), a clerical pair when it
has more, nothing when it has none; a dead or cancelled namesake still counts, a contradicting
sex or an age that does not fit the event never links."""

from __future__ import annotations

import polars as pl
import pytest

from linkage.errors import ConfigError
from linkage.link.sparse import sparse_links
from linkage.store import Store
from tests.link.tables import S, people, put, reject

RECORDS = "tmp_test_records"
BASE = "tmp_test_base"
CLUSTERS = "tmp_test_clusters"
ON = {"enabled": True, "min_age": 0, "max_age": 120}
VILLAGE = "湖南省湘西土家族苗族自治州永顺县松柏镇永湖村"


def _base(store: Store) -> None:
    rows = [
        # one 王秀英 in 永湖村
        ("P1", "王秀英", "女", "1941-03-02", "11组68号", "正常"),
        # two 张桂兰 in 永湖村, at different houses, and a third already cancelled as dead
        ("P2", "张桂兰", "女", "1938-01-05", "3组12号", "正常"),
        ("P3", "张桂兰", "女", "1950-07-07", "5组40号", "正常"),
        # 李德福 is in the village twice (the dedupe put both rows in one cluster)
        ("P4", "李德福", "男", "1936-09-09", "2组7号", "正常"),
        ("P4b", "李德福", "男", "1936-09-09", "2组7号", "正常"),
        # 彭春花: one living, one already cancelled as dead: the name is not unique
        ("P5", "彭春花", "女", "1945-02-02", "8组1号", "正常"),
        ("P6", "彭春花", "女", "1930-02-02", "9组2号", "死亡注销"),
        # 向明 was born after the death the record reports
        ("P7", "向明", "男", "2026-09-01", "6组6号", "正常"),
        # a namesake of 王秀英 in another village does not count
        ("P8", "王秀英", "女", "1960-01-01", None, "正常"),
    ]
    people(
        store,
        BASE,
        "population",
        [
            {
                "record_id": r,
                "name": n,
                "sex": x,
                "birth_date": b,
                "address": VILLAGE + a if a else "湖南省湘西土家族苗族自治州永顺县松柏镇松柏村1组",
                "status": st,
            }
            for r, n, x, b, a, st in rows
        ],
    )
    put(store, CLUSTERS, {"person_id": S, "cluster_id": S}, [("P4", "P4"), ("P4b", "P4")])


def _records(store: Store, rows: list[tuple[str, str, str | None, str]]) -> None:
    people(
        store,
        RECORDS,
        "death",
        [
            {
                "record_id": r,
                "name": n,
                "sex": x,
                "address": "永顺县松柏镇永湖村" + a,
                "event_date": "2026-06-01",
            }
            for r, n, x, a in rows
        ],
    )


def test_a_sparse_record_links_only_to_the_one_person_who_fits(store: Store) -> None:
    _base(store)
    _records(
        store,
        [
            ("d1", "王秀英", "女", "11组68号"),  # the only one in the village: link
            ("d2", "张桂兰", "女", "5组40号"),  # two in the village, one at this house: link
            ("d3", "张桂兰", "女", "7组"),  # two in the village, neither here: clerical
            ("d4", "李德福", "男", "2组7号"),  # one person (two rows): the smaller row
            ("d5", "彭春花", "女", "8组"),  # a dead namesake: clerical, not a link
            ("d6", "王秀英", "男", "11组68号"),  # the sex contradicts: no candidate
            ("d7", "向明", "男", "6组6号"),  # born after the death: clerical
            ("d8", "赵无名", "女", "1组"),  # nobody of that name: no row
        ],
    )
    reject(store)
    result = sparse_links(store, RECORDS, BASE, CLUSTERS, ON, "death.toml")
    got = {
        r: (p, d) for r, p, d in result.select("source_record_id", "person_id", "decision").rows()
    }
    assert got == {
        "d1": ("P1", "link"),
        "d2": ("P3", "link"),
        "d3": ("P2", "clerical"),
        "d4": ("P4", "link"),
        "d5": ("P5", "clerical"),
        "d7": ("P7", "clerical"),
    }
    assert set(result["decided_by"]) == {"sparse"}
    # nothing personal in the explanation an analyst sees beside the pair
    explained = dict(result.select("source_record_id", "explanation").rows())
    assert explained["d2"] == (
        "name, sex and address only: 2 of this name in the village, one at this 组/号"
    )
    assert "王秀英" not in "".join(explained.values())


def test_a_record_with_an_id_or_a_birth_date_is_the_models(store: Store) -> None:
    _base(store)
    people(
        store,
        RECORDS,
        "death",
        [
            {
                "record_id": "d1",
                "name": "王秀英",
                "sex": "女",
                "birth_date": "1941-03-02",
                "address": "永顺县松柏镇永湖村11组68号",
            }
        ],
    )
    reject(store)
    assert sparse_links(store, RECORDS, BASE, CLUSTERS, ON, "death.toml").is_empty()
    # a field rejection removes the candidate
    _records(store, [("d9", "王秀英", "女", "11组68号")])
    reject(store, ("death", "d9", "person", "P1"))
    assert sparse_links(store, RECORDS, BASE, CLUSTERS, ON, "death.toml").is_empty()
    # off unless the source's config turns it on
    reject(store)
    assert sparse_links(store, RECORDS, BASE, CLUSTERS, {}, "death.toml").is_empty()


@pytest.mark.parametrize(
    "section",
    [{"enabled": "yes"}, {"enabled": True, "min_age": 30, "max_age": 10}],
)
def test_sparse_settings_mistakes_are_config_errors(store: Store, section: dict) -> None:
    _base(store)
    _records(store, [])
    with pytest.raises(ConfigError, match=r"death.toml: \[sparse\]"):
        sparse_links(store, RECORDS, BASE, CLUSTERS, section, "death.toml")


def test_the_frame_has_the_decision_columns(store: Store) -> None:
    _base(store)
    _records(store, [("d1", "王秀英", "女", "11组68号")])
    reject(store)
    result = sparse_links(store, RECORDS, BASE, CLUSTERS, ON, "death.toml")
    assert result.height == 1 and isinstance(result, pl.DataFrame)
