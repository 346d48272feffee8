"""A temporary Prefect server for one ``renkou run``, started before renkou itself loads.

Prefect's ephemeral mode starts the same server (``uvicorn prefect.server.api.server:
create_app`` in a subprocess, state in ``PREFECT_HOME``) the first time a flow needs the API,
and the client imports the whole server application only to launch it. On two cores that
is ~15 s before the first task: ~6 s importing the server here, as much again in the
subprocess, then its database. Started first, from the command line, the subprocess loads
while this process imports renkou, and this process never imports the server: the flow
starts ~2× sooner. The runs land in the same database the Prefect UI (``renkou server``) shows.

Used only when no Prefect API is configured (``PREFECT_API_URL`` unset): under a real server
or Prefect's test harness the flow talks to that instead.

The server dies with the process that started it, even on ``kill -9`` (which runs no
cleanup): on Linux the kernel sends it SIGTERM when its parent ends (``PR_SET_PDEATHSIG``),
and everywhere a watchdog thread in the server ends it a few seconds after it finds itself
orphaned. Uvicorn runs one process here (no workers, no reloader): nothing else is left.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from linkage.errors import RenkouError

#: seconds an orphaned server has to shut down by itself before the watchdog ends it
ORPHAN_GRACE = 5.0

#: the server's first lines, run before uvicorn in its own interpreter (argv: parent pid,
#: grace, then uvicorn's arguments). The death signal outlives exec and is set here, not in a
#: ``preexec_fn`` (unsafe once threads run); a parent that died before it was set is caught by
#: the ``getppid`` check. It fires when the *thread* that started the server ends: start it
#: from the main thread (``renkou run`` does).
_BOOTSTRAP = """
import os, runpy, signal, sys, threading, time
parent, grace = int(sys.argv.pop(1)), float(sys.argv.pop(1))
if sys.platform.startswith("linux"):
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
def watchdog():
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)  # where the death signal is unknown
    time.sleep(grace)
    os._exit(1)  # still shutting down: end it
threading.Thread(target=watchdog, daemon=True, name="orphan-watchdog").start()
sys.argv[0] = "uvicorn"
runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)
"""

#: what Prefect's ``SubprocessASGIServer`` sets for its ephemeral server
_SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}


def api_configured() -> bool:
    """A Prefect API to talk to already: ``PREFECT_API_URL`` in the environment, or in
    Prefect's settings when it is imported (``prefect_test_harness`` sets only those)."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    if "prefect.settings" in sys.modules:
        from prefect.settings import PREFECT_API_URL

        return bool(PREFECT_API_URL.value())
    return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prefect_dir() -> Path:
    spec = importlib.util.find_spec("prefect")  # not imported: settings read env on import
    if spec is None or spec.origin is None:
        raise RenkouError("Prefect is not installed. Fix: run `make install`")
    return Path(spec.origin).parent


class TemporaryServer:
    """``start()`` → (load renkou) → ``wait()`` → run flows → ``stop()``. The server's own
    errors go to ``PREFECT_HOME/temporary-server.log``."""

    def __init__(self, log_file: Path) -> None:
        self.port = _free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _BOOTSTRAP,
                    str(os.getpid()),
                    str(ORPHAN_GRACE),
                    "--app-dir",
                    str(_prefect_dir().parent),
                    "--factory",
                    "prefect.server.api.server:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "error",
                    "--lifespan",
                    "on",
                ],
                env={**env, **_SERVER_ENV},
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def wait(self, timeout: float) -> None:
        """Until the server answers its health check; a clear error if it never does."""
        assert self.process is not None, "start() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RenkouError(
                    f"the temporary Prefect server exited ({self.process.returncode}); its "
                    f"errors are in {self.log_file}. Fix: check that PREFECT_HOME is "
                    f"writable, or run against a server (`renkou server`, PREFECT_API_URL)"
                )
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RenkouError(
            f"the temporary Prefect server did not answer within {timeout:.0f} s. "
            f"Fix: raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS on a "
            f"busy machine, or run against a server (`renkou server`)"
        )

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@contextlib.contextmanager
def prefect_api(prefect_home: Path, timeout: float) -> Iterator[Callable[[], None]]:
    """A Prefect API for the block: the configured one, else a :class:`TemporaryServer`.

    Enter before Prefect is imported (its settings read ``PREFECT_API_URL`` then). Yields
    ``ready``: call it before the first flow; it waits for the server (started on entry, so
    it loads while the block imports renkou).
    """
    if api_configured():
        yield lambda: None
        return
    server = TemporaryServer(prefect_home / "temporary-server.log")
    server.start()
    # stopped at exit, as Prefect stops its own: after its log and event workers have sent
    # what they hold (they drain at thread shutdown, before atexit handlers run)
    atexit.register(server.stop)
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        yield functools.partial(server.wait, timeout)
    finally:
        os.environ.pop("PREFECT_API_URL", None)
