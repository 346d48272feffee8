"""``renkou run`` outside any Prefect setup: it starts its own temporary Prefect server, the
night reaches it (a flow run id is recorded), and the server is gone when the command ends,
even when the command is killed (``kill -9`` runs no cleanup)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linkage.store import Store

pytestmark = pytest.mark.slow

RENKOU = Path(sys.executable).with_name("renkou")


def _servers_of(home: Path) -> list[int]:
    """Pids of Prefect API servers whose PREFECT_HOME lies under ``home``."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if b"prefect.server.api.server:create_app" in cmdline and str(home).encode() in environ:
            pids.append(int(proc.name))
    return pids


def test_renkou_run_brings_and_stops_its_own_prefect_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    inbox.mkdir()
    done = subprocess.run(
        [str(RENKOU), "--home", str(home), "run", "--inbox", str(inbox), "--no-outputs"],
        env=env,
        capture_output=True,
        timeout=600,
    )
    out = done.stdout.decode("utf-8", "replace")
    assert done.returncode == 1, out + done.stderr.decode("utf-8", "replace")[-2000:]
    assert "no population base loaded" in out  # the night ran, and says what to deliver
    assert (home / "prefect" / "temporary-server.log").exists()
    with Store(home, read_only=True) as store:
        row = store.frame("SELECT status, failed_stage, flow_run_id FROM runs").row(0)
    assert row[:2] == ("failed", "link") and row[2]  # a flow run of the temporary server
    assert _servers_of(tmp_path) == []
    assert "Error logging to API" not in done.stderr.decode("utf-8", "replace")


def test_a_killed_renkou_run_takes_its_prefect_server_along(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    inbox.mkdir()
    run = subprocess.Popen(
        [str(RENKOU), "--home", str(home), "run", "--inbox", str(inbox), "--no-outputs"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not (servers := _servers_of(tmp_path)) and time.monotonic() < deadline:
            assert run.poll() is None, run.communicate()[1].decode("utf-8", "replace")[-2000:]
            time.sleep(0.05)
        assert servers, "no temporary Prefect server started"
        children = [
            p.name for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) in servers
        ]
        assert children == []  # uvicorn runs one process: nothing else to take along
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    deadline = time.monotonic() + 15
    while _servers_of(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _servers_of(tmp_path) == [], "the temporary Prefect server outlived renkou run"


def _parent(proc: Path) -> int | None:
    try:
        stat = (proc / "stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])
