"""Open a renkou report in headless Chromium, offline, check it, and save a screenshot.

Usage::

    python scripts/screenshot_report.py REPORT.html [--out docs/img/report.png]
        [--height 3000] [--viewers] [--timeout 60]

Checks (exit code 1 when one fails, with a JSON summary on stdout):

- the page made no network request (every request other than ``file:`` / ``data:`` /
  ``blob:`` is counted, and the network is off anyway);
- no console error and no uncaught exception;
- every chart container (``div.chart``) holds a rendered ``svg`` (or ``canvas``);
- with ``--viewers``: the comparison viewers the page links to load without errors too.

Chromium is driven through the DevTools protocol with the ``websockets`` package (a prefect
dependency, already installed); no browser-automation library is needed. Needs the Debian
package ``chromium`` (and ``fonts-noto-cjk`` for Chinese text in the screenshot).
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
    "--window-size=1400,3000",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome:", "devtools:")

COUNT_CHARTS = """(() => {
  const boxes = Array.from(document.querySelectorAll('div.chart'));
  const drawn = boxes.filter(b => b.querySelector('svg, canvas'));
  return JSON.stringify({charts: boxes.length, rendered: drawn.length,
                         svg: document.querySelectorAll('svg').length,
                         broken: boxes.filter(b => b.classList.contains('warn')).length});
})()"""


def find_browser() -> str | None:
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


class Browser:
    """One headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, executable: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="renkou-chromium-")
        self.proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start (no DevToolsActivePort)")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            targets = json.loads(r.read())
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=20)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def send(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 30
    ) -> dict[str, Any]:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == msg_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def pump(self, seconds: float) -> None:
        """Collect events for ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=left)))
            except TimeoutError:
                return

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result.get("result", {}).get("value")

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def _problems(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    errors, requests = [], []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(
                " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params.get("args", [])
                )[:300]
            )
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            errors.append(
                str(details.get("exception", {}).get("description") or details.get("text"))[:300]
            )
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append(str(params["entry"].get("text"))[:300])
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            if not url.startswith(LOCAL_SCHEMES):
                requests.append(url[:200])
    return {"console_errors": errors, "network_requests": requests}


def open_page(browser: Browser, path: Path, timeout: float) -> dict[str, Any]:
    """Load ``path`` offline; wait until every chart is drawn and some ``svg`` exists (the
    comparison viewer draws its first chart a moment after loading), or ``timeout``."""
    browser.events.clear()
    browser.send("Page.navigate", {"url": path.resolve().as_uri()})
    deadline = time.monotonic() + timeout
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        browser.pump(0.5)
        counts = json.loads(browser.evaluate(COUNT_CHARTS) or "{}")
        if (
            counts.get("charts", 0) == counts.get("rendered", 0)
            and counts.get("svg", 0)
            and browser.evaluate("document.readyState") == "complete"
        ):
            browser.pump(0.5)
            break
    return {**counts, **_problems(browser.events)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/img/report.png"))
    parser.add_argument(
        "--height",
        type=int,
        default=3000,
        help="screenshot height in CSS pixels (0: the whole page)",
    )
    parser.add_argument("--top", type=int, default=0, help="start the screenshot this far down")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument(
        "--viewers",
        action="store_true",
        help="also open the comparison viewers the report links to",
    )
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args(argv)
    executable = find_browser()
    if executable is None:
        print(
            "chromium not found. Fix: apt-get install -y chromium fonts-noto-cjk", file=sys.stderr
        )
        return 2
    browser = Browser(executable)
    summary: dict[str, Any] = {"report": str(args.report)}
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable")
        browser.send(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
        )
        browser.send(
            "Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*"]}
        )
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": args.width,
                "height": args.height or 3000,
                "deviceScaleFactor": 1,
                "mobile": False,
            },
        )
        summary["page"] = open_page(browser, args.report, args.timeout)
        metrics = browser.send("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        rest = max(1, int(size["height"]) - args.top)
        height = rest if not args.height else min(args.height, rest)
        shot = browser.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": args.top, "width": args.width, "height": height, "scale": 1},
            },
            timeout=120,
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(base64.b64decode(shot["data"]))
        summary["screenshot"] = str(args.out)
        summary["page_height"] = int(size["height"])
        if args.viewers:
            links = browser.evaluate(
                "JSON.stringify(Array.from(document.querySelectorAll('a[href$=\".html\"]'))"
                ".map(a => a.getAttribute('href')))"
            )
            summary["viewers"] = {}
            for href in json.loads(links or "[]"):
                viewer = args.report.parent / href
                summary["viewers"][href] = open_page(browser, viewer, args.timeout)
    finally:
        browser.close()
    pages = [summary["page"], *summary.get("viewers", {}).values()]
    ok = (
        all(not p["console_errors"] and not p["network_requests"] for p in pages)
        and summary["page"].get("charts", 0) > 0
        and summary["page"]["rendered"] == summary["page"]["charts"]
        and all(p.get("svg", 0) > 0 for p in pages)
    )
    summary["ok"] = ok
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
