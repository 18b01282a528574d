"""Headless Chromium for this folder's tests (imported by name, like `serve_process`).

`offline_browser(...)` is a command line that reaches only the given loopback host names;
`run_browser` runs one to completion; `DevTools` drives a running one over the Chrome DevTools
protocol (one page, navigations and script evaluation), for tests that need several steps in
one browser profile.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
BROWSER = next(filter(None, map(shutil.which, BROWSERS)), None)
BROWSER_BOUND = 60.0  # seconds for one headless run (or one DevTools step) on a busy machine

requires_browser = pytest.mark.skipif(
    BROWSER is None, reason="no chromium, chromium-browser or google-chrome on PATH"
)


def offline_browser(profile: Path, *arguments: str, hosts: tuple[str, ...] = ()) -> list[str]:
    """A headless browser command line that can reach only 127.0.0.1 (and `hosts`)."""
    assert BROWSER is not None
    reachable = ("127.0.0.1", *hosts)
    return [
        BROWSER,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        f"--user-data-dir={profile}",
        # Other names do not resolve ...
        "--host-resolver-rules=MAP * ~NOTFOUND , "
        + " , ".join(f"EXCLUDE {host}" for host in reachable),
        # ... and literal addresses go to a proxy nobody listens on; `<-loopback>` removes
        # Chromium's implicit bypass of localhost, leaving only `reachable` as the way out.
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=" + ";".join(("<-loopback>", *reachable)),
        *arguments,
    ]


def run_browser(command: list[str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=BROWSER_BOUND, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


class DevTools:
    """One page of a running browser, driven by DevTools protocol calls."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.last_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        self.socket.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:  # events arrive in between; this page's callers poll instead
            message = json.loads(self.socket.recv(timeout=BROWSER_BOUND))
            if message.get("id") == self.last_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        """The value of `expression` in the page (awaited when it is a promise)."""
        answer = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression[:80]}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def open(self, url: str, until: str | None = None) -> None:
        """Navigate to `url`, then wait until the page at `until` (default `url`) has loaded.

        `until` is where the page ends up, e.g. the target of a form that submits itself.
        """
        self.call("Page.navigate", url=url)
        expected = until or url
        deadline = time.monotonic() + BROWSER_BOUND
        while True:
            try:
                where, state = self.evaluate("[location.href, document.readyState]")
            except RuntimeError:  # the context changed under the call: look again
                where, state = "", ""
            if where == expected and state == "complete":
                return
            assert time.monotonic() < deadline, f"stuck at {where!r} ({state}), not {expected}"
            time.sleep(0.05)  # poll interval while the page loads


@contextmanager
def devtools_browser(profile: Path, *, hosts: tuple[str, ...] = ()) -> Iterator[DevTools]:
    """A headless browser (reaching only 127.0.0.1 and `hosts`) and DevTools on its page."""
    command = offline_browser(profile, "--remote-debugging-port=0", "about:blank", hosts=hosts)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Chromium writes the port it chose into the profile once it listens.
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + BROWSER_BOUND
        while not port_file.is_file() or not port_file.read_text().strip():
            assert process.poll() is None, "the browser exited at start-up"
            assert time.monotonic() < deadline, "the browser did not open DevTools"
            time.sleep(0.05)  # poll interval while the browser starts
        port = int(port_file.read_text().split()[0])
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        page = next(target for target in targets if target["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
            yield DevTools(socket)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
