"""Keep originals (issue 16): every returned workbook imported and every 协查 file imported is
archived read-only under ``HOME/archive/<kind>/<YYYY>/<sha256>.<ext>``, once, found by the
hash its import row records."""

from __future__ import annotations

import datetime as dt
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkage.archive import archived_path
from linkage.audit import file_sha256
from linkage.exchange.incoming import ANSWER_HEADERS, import_exchange
from linkage.store import Store
from linkage.tasks.returns import import_returns
from tests.conftest import write_csv
from tests.tasks.fixture import F_MOVED, SC, TODAY, copy_home, export_all, fill


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(copy_home(tmp_path / "home")) as s:
        yield s


def _assert_archived(store: Store, kind: str, original: bytes, digest: str) -> Path:
    kept = archived_path(store, kind, digest)
    assert kept is not None
    assert (
        kept
        == store.home / "archive" / kind / f"{dt.date.today():%Y}" / f"{digest}.{kept.suffix[1:]}"
    )
    assert kept.read_bytes() == original
    assert file_sha256(kept) == digest
    assert stat.S_IMODE(kept.stat().st_mode) == 0o400
    return kept


def test_a_returned_workbook_is_archived_read_only_with_its_hash(
    store: Store, tmp_path: Path
) -> None:
    files = export_all(store, tmp_path / "out")
    returned = files[SC]
    fill(returned, {F_MOVED: {"核查结果": "属实", "核查人": "赵五", "核查日期": TODAY}})
    original = returned.read_bytes()
    report = import_returns(store, [returned], operator="t", today=TODAY)
    assert report.files[0].status == "applied"
    (digest,) = store.frame("SELECT file_hash FROM task_imports")["file_hash"]
    assert digest == file_sha256(returned)
    kept = _assert_archived(store, "tasks", original, digest)
    assert kept.suffix == ".xlsx"
    assert store.frame("SELECT file, bytes FROM archived_files WHERE kind = 'tasks'").rows() == [
        (returned.name, len(original))
    ]
    # the same file again: imported once, archived once
    again = import_returns(store, [returned], operator="t", today=TODAY)
    assert again.files[0].status == "already_imported"
    assert len(list((store.home / "archive").rglob("*.xlsx"))) == 1
    # a corrected file is another original, kept beside the first
    fill(returned, {F_MOVED: {"核查说明": "已迁往深圳"}})
    import_returns(store, [returned], operator="t", today=TODAY)
    hashes = set(store.frame("SELECT file_hash FROM task_imports")["file_hash"])
    assert len(hashes) == 2
    for h in hashes:
        assert archived_path(store, "tasks", h) is not None


def test_an_imported_exchange_file_is_archived(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "协查反馈_440106_433127_202606.csv"
    write_csv(
        path,
        list(ANSWER_HEADERS.values()),
        [["XC433127-NOSUCH", "本县有此人", "正常", "", "", "2026-06-20", "天河区"]],
    )
    report = import_exchange(store, [path], operator="t")
    assert report.files[0].status == "imported"  # its one row refused, the file recorded
    (digest,) = store.frame("SELECT file_hash FROM exchange_files")["file_hash"]
    _assert_archived(store, "exchange", path.read_bytes(), digest)
