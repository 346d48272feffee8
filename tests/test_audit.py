"""The audit log: a hash chain that verifies, and breaks visibly when an entry is edited,
deleted, inserted or cut off the end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linkage.audit import GENESIS, AuditLog, canonical, entry_hash
from linkage.cli import app
from linkage.operators import current_account


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    audit = AuditLog.for_home(tmp_path)
    for i in range(4):
        audit.append(
            "tasks.export",
            details={"files": [{"file": f"乡镇{i}.xlsx", "sha256": "ab" * 32}], "tasks": i},
        )
    return audit


def _lines(log: AuditLog) -> list[str]:
    return log.path.read_text("utf-8").splitlines()


def _write(log: AuditLog, lines: list[str]) -> None:
    log.path.write_text("\n".join(lines) + "\n", "utf-8")


def test_chain_links_every_entry_to_the_one_before(log: AuditLog) -> None:
    entries = log.entries()
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    assert entries[0]["prev_hash"] == GENESIS
    for before, entry in zip(entries, entries[1:], strict=False):
        assert entry["prev_hash"] == before["hash"]
    for entry in entries:
        body = {k: v for k, v in entry.items() if k != "hash"}
        assert (
            entry["hash"]
            == entry_hash(entry)
            == __import__("hashlib").sha256(canonical(body)).hexdigest()
        )
    result = log.verify()
    assert (result.ok, result.entries) == (True, 4)


def test_an_edited_entry_is_named(log: AuditLog) -> None:
    lines = _lines(log)
    entry = json.loads(lines[1])
    entry["details"]["tasks"] = 99  # the count changed, hash left as it was
    lines[1] = json.dumps(entry, ensure_ascii=False)
    _write(log, lines)
    result = log.verify()
    assert (result.ok, result.first_bad) == (False, 2) and "edited" in result.reason


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link(log: AuditLog) -> None:
    lines = _lines(log)
    entry = json.loads(lines[1])
    entry["operator"] = "someone else"
    entry["hash"] = entry_hash(entry)
    lines[1] = canonical(entry).decode("utf-8")
    _write(log, lines)
    result = log.verify()
    assert (result.ok, result.first_bad) == (False, 3) and "prev_hash" in result.reason


def test_deleted_entries_are_detected(log: AuditLog) -> None:
    lines = _lines(log)
    _write(log, lines[:1] + lines[2:])  # the second entry removed
    result = log.verify()
    assert (result.ok, result.first_bad) == (False, 2) and "deleted" in result.reason
    _write(log, lines[:3])  # the last entry cut off: the head file still knows it
    result = log.verify()
    assert not result.ok and "removed from the end" in result.reason


def test_appending_after_verification_continues_the_chain(log: AuditLog) -> None:
    entry = log.append("tasks.import", details={"files": []})
    assert entry["seq"] == 5 and log.verify().ok


def test_cli_verify_exit_code_and_message(log: AuditLog, tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["--home", str(tmp_path), "audit", "verify"])
    # the 4, and the home's owner registered as its first admin on first use
    assert ok.exit_code == 0 and "5 entries" in ok.output
    lines = _lines(log)
    lines[2] = lines[2].replace('"tasks":2', '"tasks":3')
    _write(log, lines)
    broken = runner.invoke(app, ["--home", str(tmp_path), "audit", "verify"])
    assert broken.exit_code == 1 and "line 3" in broken.output


def test_the_operator_is_the_os_account_not_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RENKOU_OPERATOR", "县长本人")
    monkeypatch.setenv("USER", "县长本人")
    monkeypatch.setenv("LOGNAME", "县长本人")
    entry = AuditLog.for_home(tmp_path).append("report", details={})
    assert entry["operator"] == current_account() != "县长本人"
