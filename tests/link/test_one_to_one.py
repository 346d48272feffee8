"""The one-to-one rule of the link stage (``linkage.link.run._one_to_one``) on a few hand-made
decisions: in a one-to-one source a base person linked by several records keeps the strongest
link (an exact cascade link, weight null, counts strongest) and the others become clerical;
ties on weight go to the smaller record id whatever the row order; other sources, other
people and non-links are untouched.

The rule asks ``store.settings`` whether a source is one-to-one; the tests answer with
``Thresholds`` built directly (settings files are not read).
"""

from __future__ import annotations

from types import SimpleNamespace

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from linkage.link import run
from linkage.link.decide import DECISION_COLUMNS
from linkage.settings import Thresholds
from linkage.store import Store
from tests.link.tables import DECISION_SCHEMA, KEY, decisions, put

ONE_TO_ONE = Thresholds(0.95, 0.5, 3.0, one_to_one=True)
MANY = Thresholds(0.95, 0.5, 3.0, one_to_one=False)


class _Decisions:
    """Stands in for ``Settings``: ``source(name).decision`` is the ``Thresholds`` given."""

    def __init__(self, by_source: dict[str, Thresholds]) -> None:
        self.by_source = by_source

    def source(self, name: str) -> SimpleNamespace:
        return SimpleNamespace(decision=self.by_source[name])


@pytest.fixture
def thresholds(monkeypatch: pytest.MonkeyPatch) -> dict[str, Thresholds]:
    """Per source: hukou one-to-one, death not (as configs/sources); a test may change them."""
    by_source = {"hukou": ONE_TO_ONE, "death": MANY}
    monkeypatch.setattr(Store, "settings", property(lambda _: _Decisions(by_source)))
    return by_source


def _decision(
    source: str, record: str, person: str, weight: float | None, decision: str = "link"
) -> dict[str, object]:
    return {
        "source": source,
        "source_record_id": record,
        "role": "person",
        "person_id": person,
        "match_probability": 1.0 if weight is None else 0.999,
        "match_weight": weight,
        "decision": decision,
        "decided_by": "exact" if weight is None else "model",
        "explanation": f"{record} → {person}",
    }


def _one_to_one(store: Store, kept: list[dict[str, object]]) -> pl.DataFrame:
    """Run the rule over ``kept`` (in that row order); its overrides, sorted."""
    frame = pl.DataFrame(
        [{c: row.get(c) for c in DECISION_COLUMNS} for row in kept], schema=DECISION_SCHEMA
    )
    store.replace_table(run.KEPT, frame)
    put(store, run.OVERRIDES, DECISION_SCHEMA, [])
    run._one_to_one(store, ("hukou", "death"))
    return store.table(run.OVERRIDES).sort(KEY)


KEPT = [
    _decision("hukou", "h01", "P1", 10.0),
    _decision("hukou", "h02", "P1", 12.0),  # the strongest claim on P1
    _decision("hukou", "h03", "P1", 11.0),
    _decision("hukou", "h04", "P2", 10.0),
    _decision("hukou", "h05", "P2", 15.0, "clerical"),  # not a link: no claim
    _decision("hukou", "h06", "P3", 20.0),
    _decision("hukou", "h07", "P3", None),  # exact cascade link: strongest
    _decision("hukou", "h08", "P4", None),
    _decision("hukou", "h09", "P4", None),  # two exact links: the smaller record id wins
    _decision("death", "d01", "P1", 9.0),  # death is not one-to-one
    _decision("death", "d02", "P1", 8.0),
]
LOSERS = [("h01", "P1", 10.0), ("h03", "P1", 11.0), ("h06", "P3", 20.0), ("h09", "P4", None)]


@pytest.mark.parametrize("reverse", [False, True], ids=["as-listed", "reversed"])
def test_weaker_claims_on_one_person_go_to_review(
    store: Store, thresholds: dict[str, Thresholds], reverse: bool
) -> None:
    result = _one_to_one(store, KEPT[::-1] if reverse else KEPT)
    expected = decisions(_decision("hukou", r, p, w, "clerical") for r, p, w in LOSERS)
    assert_frame_equal(result, expected)


@pytest.mark.parametrize("reverse", [False, True], ids=["h1-first", "h2-first"])
def test_a_tie_on_weight_goes_to_the_smaller_record_id(
    store: Store, thresholds: dict[str, Thresholds], reverse: bool
) -> None:
    tied = [_decision("hukou", "h1", "P1", 11.5), _decision("hukou", "h2", "P1", 11.5)]
    result = _one_to_one(store, tied[::-1] if reverse else tied)
    assert_frame_equal(result, decisions([_decision("hukou", "h2", "P1", 11.5, "clerical")]))


def test_the_same_person_in_two_sources_is_no_conflict(
    store: Store, thresholds: dict[str, Thresholds]
) -> None:
    thresholds["death"] = ONE_TO_ONE
    result = _one_to_one(
        store, [_decision("hukou", "h1", "P1", 11.0), _decision("death", "d1", "P1", 12.0)]
    )
    assert result.is_empty()


def test_no_one_to_one_source_leaves_every_link(
    store: Store, thresholds: dict[str, Thresholds]
) -> None:
    thresholds["hukou"] = MANY
    assert _one_to_one(store, KEPT).is_empty()
