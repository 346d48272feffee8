"""Trust (issue 16): real-name operators from the OS account, a keyed and anchored audit log
that names every export, the database encrypted at rest, owner-only files.

Every test runs the real command line on a copy of the tiny two-township county of
tests/tasks/fixture.py (a real DuckDB file with findings); this process runs as one OS account,
so "another operator" is a second account that exists on every Linux (``nobody``).
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from linkage import operators
from linkage.audit import AuditLog, canonical, cross_check, file_sha256
from linkage.operators import current_account
from linkage.runs import take_snapshot
from linkage.store import DB_FILE, Store
from tests.cli.test_mistakes import _environment  # noqa: F401  (no settings from the shell)
from tests.conftest import Renkou
from tests.tasks.fixture import F_MOVED, IDS, LX, NAMES, SC, copy_home, fill

OTHER = "nobody"  # an OS account of every Linux, never the one running the tests


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for kind in ("DB", "AUDIT", "EXCHANGE"):
        monkeypatch.delenv(f"RENKOU_{kind}_KEY", raising=False)
        monkeypatch.delenv(f"RENKOU_{kind}_KEY_FILE", raising=False)
    yield copy_home(tmp_path / "home")


def _key_file(tmp_path: Path, name: str, value: str) -> Path:
    path = tmp_path / "keys" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(value, "utf-8")
    path.chmod(0o600)
    return path


def _actions(home: Path) -> list[str]:
    return [e["action"] for e in AuditLog.for_home(home).entries()]


# ------------------------------------------------------------------ operators
def test_an_unregistered_account_is_refused_with_the_fix_and_the_refusal_audited(
    renkou: Renkou,
    home: Path,
) -> None:
    operators.bootstrap(home)  # the owner of the home: its first admin
    operators.add(home, account=OTHER, name="王丽", role="admin")
    operators.remove(home, current_account())
    result = renkou("--home", home, "export", "findings", "--out", str(home.parent / "f.csv"))
    assert result.code == 2, result.text
    assert "not a registered operator" in result.text and "operators add" in result.text
    assert not (home.parent / "f.csv").exists()
    refused = [e for e in AuditLog.for_home(home).entries() if e["action"] == "access.refused"]
    assert refused and refused[-1]["details"]["command"] == "export.findings"
    assert refused[-1]["operator"] == current_account()


def test_the_operator_is_not_what_the_environment_says(
    renkou: Renkou, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    operators.bootstrap(home)
    operators.add(home, account=OTHER, name="王丽", role="admin")
    operators.remove(home, current_account())
    monkeypatch.setenv("USER", OTHER)
    monkeypatch.setenv("LOGNAME", OTHER)
    monkeypatch.setenv("RENKOU_OPERATOR", OTHER)
    assert renkou("--home", home, "tasks", "status").code == 2
    assert "--operator" not in renkou("--home", home, "tasks", "export", "--help").text


def test_a_township_operator_sees_and_exports_only_its_township(renkou: Renkou, home: Path) -> None:
    operators.bootstrap(home)
    operators.add(home, account=OTHER, name="王丽", role="admin")
    operators.add(home, account=current_account(), name="向红", role="township", township=LX)
    out = home.parent / "lists"
    done = renkou("--home", home, "tasks", "export", "--out", str(out))
    assert done.code == 0, done.text
    assert [p.name for p in out.iterdir()] and all(LX in p.name for p in out.iterdir())
    other = renkou("--home", home, "tasks", "export", "--out", str(out), "--township", SC)
    assert other.code == 2 and "works for" in other.text
    findings = home.parent / "findings.csv"
    assert renkou("--home", home, "export", "findings", "--out", str(findings)).code == 0
    assert set(pl.read_csv(findings)["township"].unique()) == {LX}
    links = renkou("--home", home, "export", "links", "--out", str(home.parent / "links.csv"))
    assert links.code == 2 and "may not run" in links.text
    status = renkou("--home", home, "tasks", "status")
    assert status.code == 0 and SC not in status.text


def test_operators_are_managed_by_admins_and_the_last_admin_stays(
    renkou: Renkou, home: Path
) -> None:
    added = renkou("--home", home, "operators", "add", "--account", OTHER, "--name", "王丽",
                   "--role", "township", "--township", LX)  # fmt: skip
    assert added.code == 0 and "王丽" in added.text
    assert renkou("--home", home, "operators", "remove", "--account", current_account()).code == 2
    assert renkou("--home", home, "operators", "add", "--account", "no-such-acct", "--name", "某",
                  "--role", "analyst").code == 2  # fmt: skip
    listed = renkou("--home", home, "operators", "list")
    assert OTHER in listed.text and current_account() in listed.text
    assert {"operators.add"} <= set(_actions(home))
    registry = home / operators.REGISTRY
    assert stat.S_IMODE(registry.stat().st_mode) == 0o600


# ------------------------------------------------------------------ audit
def test_every_export_is_an_audit_entry_with_the_written_files_hash(
    renkou: Renkou, home: Path
) -> None:
    with Store(home) as store:  # the hand-made links of the fixture lack the weight
        for column in ("match_weight DOUBLE", "decided_by VARCHAR", "explanation VARCHAR",
                       "model_version VARCHAR"):  # fmt: skip
            store.con.execute(f"ALTER TABLE links ADD COLUMN IF NOT EXISTS {column}")
    out = home.parent / "out"
    commands = {
        "export.links": ("export", "links", "--out", str(out / "links.csv")),
        "export.findings": ("export", "findings", "--out", str(out / "findings.csv")),
        "tasks.export": ("tasks", "export", "--out", str(out / "lists")),
        "tasks.changes": ("tasks", "changes", "--out", str(out / "changes.xlsx")),
        "report": ("report", "--out", str(out / "report.html"), "--no-model-charts"),
    }
    for args in commands.values():
        result = renkou("--home", home, *args)
        assert result.code == 0, result.text
    entries = {e["action"]: e for e in AuditLog.for_home(home).entries()}
    assert set(commands) - {"tasks.changes"} <= set(entries)  # no confirmed change yet
    for action in ("export.links", "export.findings", "report"):
        details = entries[action]["details"]
        assert details["sha256"] == file_sha256(out / details["file"])
    for f in entries["tasks.export"]["details"]["files"]:
        assert f["sha256"] == file_sha256(out / "lists" / f["file"])
    text = AuditLog.for_home(home).path.read_text("utf-8")
    assert not [n for n in NAMES if n in text] and not [i for i in IDS if i in text]
    verified = renkou("--home", home, "audit", "verify")
    assert verified.code == 0, verified.text
    shown = renkou("--home", home, "audit", "show")
    assert shown.code == 0 and "export.links" in shown.text


def test_a_keyed_log_rewritten_with_recomputed_hashes_is_detected(
    renkou: Renkou, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    monkeypatch.setenv("RENKOU_AUDIT_KEY_FILE", str(_key_file(tmp_path, "audit.key", "k" * 32)))
    for name in ("f1.csv", "f2.csv"):
        assert renkou("--home", home, "export", "findings", "--out", str(tmp_path / name)).code == 0
    ok = renkou("--home", home, "audit", "verify")
    assert ok.code == 0 and "keyed chain verified" in ok.text
    log = AuditLog.for_home(home)
    entries = log.entries()
    entries[-1]["details"]["rows"] = 0  # the forger recomputes what he can: a plain SHA-256
    body = {k: v for k, v in entries[-1].items() if k != "hash"}
    entries[-1]["hash"] = hashlib.sha256(canonical(body)).hexdigest()
    log.path.write_text("".join(canonical(e).decode() + "\n" for e in entries), "utf-8")
    log.head_path.write_text(json.dumps({"seq": entries[-1]["seq"], "hash": entries[-1]["hash"]}))
    broken = renkou("--home", home, "audit", "verify")
    assert broken.code == 1 and "edited" in broken.text
    monkeypatch.delenv("RENKOU_AUDIT_KEY_FILE")  # without the key nothing more is written
    refused = renkou("--home", home, "export", "findings", "--out", str(tmp_path / "f3.csv"))
    assert refused.code == 2 and "RENKOU_AUDIT_KEY_FILE" in refused.text


def test_a_deleted_or_truncated_audit_log_is_detected_through_the_database(
    renkou: Renkou, home: Path, tmp_path: Path
) -> None:
    import shutil

    for name in ("l.csv", "f.csv"):
        assert renkou("--home", home, "export", "findings", "--out", str(tmp_path / name)).code == 0
    shutil.rmtree(home / "audit")
    deleted = renkou("--home", home, "audit", "verify")
    assert deleted.code == 1 and "database records" in deleted.text


def test_exports_the_database_records_without_an_entry_are_named(
    renkou: Renkou, home: Path
) -> None:
    assert renkou("--home", home, "tasks", "export", "--out", str(home.parent / "lists")).code == 0
    with Store(home) as store:
        assert cross_check(store, AuditLog.for_home(home).entries()) == []
        unaudited = cross_check(store, [])
    assert any(p.startswith("task_assignments: ") for p in unaudited)
    assert any(p.startswith("load_ledger: ") for p in unaudited)


# ------------------------------------------------------------------ at rest
def test_the_database_opens_only_with_its_key_and_holds_no_readable_name(
    renkou: Renkou, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = _key_file(tmp_path, "db.key", "a-long-office-key-0123456789")
    plain = (home / DB_FILE).read_bytes()
    assert any(n.encode() in plain for n in NAMES)  # the test can fail: names are there
    monkeypatch.setenv("RENKOU_DB_KEY_FILE", str(key))
    encrypted = renkou("--home", home, "db", "encrypt")
    assert encrypted.code == 0, encrypted.text
    data = (home / DB_FILE).read_bytes()
    assert not [n for n in NAMES if n.encode() in data]
    assert not [i for i in IDS if i.encode() in data]
    assert not list(home.glob(f"{DB_FILE}.before-*"))
    snapshot = take_snapshot(home, "night-1")  # what a night copies before it changes data
    assert not [n for n in NAMES if n.encode() in snapshot.read_bytes()]
    assert renkou("--home", home, "tasks", "status").code == 0
    with Store(home) as store:
        assert store.scalar("SELECT count(*) FROM findings") > 0
    monkeypatch.delenv("RENKOU_DB_KEY_FILE")
    no_key = renkou("--home", home, "tasks", "status")
    assert no_key.code == 2 and "encrypted and no database key" in no_key.text
    monkeypatch.setenv("RENKOU_DB_KEY", "the-wrong-key")
    wrong = renkou("--home", home, "tasks", "status")
    assert wrong.code == 2 and "does not open" in wrong.text
    assert "the-wrong-key" not in wrong.text


def test_a_key_file_inside_the_home_or_readable_by_others_is_refused(
    renkou: Renkou, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = home / "db.key"
    inside.write_text("k" * 20)
    inside.chmod(0o600)
    monkeypatch.setenv("RENKOU_DB_KEY_FILE", str(inside))
    assert "outside the home" in renkou("--home", home, "tasks", "status").text
    loose = _key_file(tmp_path, "loose.key", "k" * 20)
    loose.chmod(0o644)
    monkeypatch.setenv("RENKOU_DB_KEY_FILE", str(loose))
    assert "chmod 600" in renkou("--home", home, "tasks", "status").text


def test_what_renkou_writes_is_the_owners_only(renkou: Renkou, home: Path) -> None:
    home.chmod(0o755)
    (home / DB_FILE).chmod(0o644)
    out = home.parent / "out"
    assert renkou("--home", home, "tasks", "export", "--out", str(out / "lists")).code == 0
    assert renkou("--home", home, "export", "findings", "--out", str(out / "f.csv")).code == 0
    assert renkou("--home", home, "report", "--no-model-charts").code == 0
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    written = [
        home / DB_FILE,
        out / "f.csv",
        *(out / "lists").iterdir(),
        *(home / "reports").iterdir(),
        AuditLog.for_home(home).path,
    ]
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in written if p.is_file()}
    assert len(modes) >= 6
    assert {name: mode for name, mode in modes.items() if mode != "0o600"} == {}
    book = openpyxl.load_workbook(next((out / "lists").iterdir()))
    assert book.sheetnames  # a real workbook, readable by its owner


def test_a_changed_setting_is_an_audit_entry_before_the_next_command(
    renkou: Renkou, home: Path
) -> None:
    assert renkou("--home", home, "tasks", "status").code == 0
    before = _actions(home).count("config.change")
    settings = home / "config" / "tasks.toml"
    settings.parent.mkdir(exist_ok=True)
    settings.write_text("[feedback]\ntarget_rate = 0.9\n", "utf-8")
    assert renkou("--home", home, "tasks", "status").code == 0
    assert renkou("--home", home, "tasks", "status").code == 0  # unchanged: no new entry
    changes = [e for e in AuditLog.for_home(home).entries() if e["action"] == "config.change"]
    assert len(changes) == before + 1
    assert changes[-1]["details"]["files"][0]["file"].endswith("tasks.toml")


def test_with_an_outbox_key_task_lists_leave_sealed_and_return_through_the_key(
    renkou: Renkou, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyzipper

    key = "township-lists-2026"
    monkeypatch.setenv("RENKOU_OUTBOX_KEY_FILE", str(_key_file(tmp_path, "outbox.key", key)))
    out = tmp_path / "lists"
    done = renkou("--home", home, "tasks", "export", "--out", str(out), "--date", "2025-10-01")
    assert done.code == 0, done.text
    packages = sorted(out.iterdir())
    assert packages and {p.suffix for p in packages} == {".zip"}
    package = next(p for p in packages if p.name.startswith(SC))
    with pyzipper.AESZipFile(package) as sealed, pytest.raises(RuntimeError):
        sealed.read(sealed.namelist()[0])  # no key, no workbook
    with pyzipper.AESZipFile(package) as sealed:
        sealed.setpassword(key.encode())
        (member,) = sealed.namelist()
        workbook = tmp_path / member
        workbook.write_bytes(sealed.read(member))
    fill(workbook, {F_MOVED: {"核查结果": "属实", "核查人": "赵五", "核查日期": "2025-10-09"}})
    returned = tmp_path / "returned" / package.name  # the township seals its answers again
    returned.parent.mkdir()
    with pyzipper.AESZipFile(returned, "w", encryption=pyzipper.WZ_AES) as sealed:
        sealed.setpassword(key.encode())
        sealed.writestr(member, workbook.read_bytes())
    imported = renkou("--home", home, "tasks", "import", str(returned))
    assert imported.code == 0, imported.text
    with Store(home) as store:
        assert store.scalar("SELECT sum(applied) FROM task_imports") == 1
    monkeypatch.setenv("RENKOU_OUTBOX_KEY_FILE", str(_key_file(tmp_path, "other.key", "nope")))
    wrong = renkou("--home", home, "tasks", "import", str(returned))
    assert wrong.code == 1 and "the key does not open this package" in wrong.text


def test_init_registers_the_account_that_runs_it_as_the_first_admin(
    renkou: Renkou, tmp_path: Path
) -> None:
    home = tmp_path / "county"
    done = renkou("init", home, "--county", "433127", "--name", "永顺县")
    assert done.code == 0, done.text
    assert f"first admin: {current_account()}" in done.text
    registry = operators.load(home)
    assert registry is not None and registry[current_account()].role == "admin"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert [e["action"] for e in AuditLog.for_home(home).entries()] == ["operators.add"]
