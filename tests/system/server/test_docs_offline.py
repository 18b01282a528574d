"""`/docs` renders every operation in a real browser that can reach nothing but FAROS (#16, 6).

Headless Chromium loads Swagger UI from a real `faros serve` with every other destination cut
off twice over: host names other than 127.0.0.1 do not resolve, and anything else goes to a
proxy on a closed port. Chromium's network log then shows that every request the page made
went to the server (the browser's own background calls, also cut off, are not the page's).
Skipped where no Chromium or Chrome is installed.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from headless_browser import offline_browser, requires_browser, run_browser

from serve_process import FarosServer, StartServer

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.slow]

# Long enough for Swagger UI to fetch its scripts and render; virtual time, not wall time.
RENDER_BUDGET = "--virtual-time-budget=10000"


@pytest.fixture(scope="module")
def server(start_server: StartServer) -> FarosServer:
    return start_server()


def page_requests(net_log: Path, page_site: str) -> set[str]:
    """The URLs of every request made for a page on `page_site`, from Chromium's network log.

    A request belongs to a page when its network isolation key names the page's site as the
    top frame; the browser's own calls (updates, accounts) carry another key or none.
    """
    log: dict[str, Any] = json.loads(net_log.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return {
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start_job
        and event.get("params", {}).get("network_isolation_key", "").startswith(f"{page_site} ")
    }


def expected_operations(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(path, Swagger UI's element id, summary) for each operation of the document."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch"}:
                tag = (operation.get("tags") or ["default"])[0]
                element = f"operations-{tag}-{operation['operationId']}".replace(" ", "_")
                # Text nodes escape only &, < and >: an apostrophe stays as it is.
                summary = html.escape(operation.get("summary", ""), quote=False)
                found.append((path, element, summary))
    return found


@requires_browser
def test_docs_render_every_operation_without_network(server: FarosServer, tmp_path: Path) -> None:
    docs = f"{server.url}/docs/"
    net_log = tmp_path / "net-log.json"
    dom = run_browser(
        offline_browser(
            tmp_path / "profile-dom", RENDER_BUDGET, f"--log-net-log={net_log}", "--dump-dom", docs
        )
    ).stdout

    document = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    operations = expected_operations(document)
    assert len(operations) > 30
    rendered_paths = set(re.findall(r'data-path="([^"]+)"', dom))
    rendered_ids = set(re.findall(r'id="(operations-[^"]+)"', dom))
    summaries = set(re.findall(r'class="opblock-summary-description">([^<]*)<', dom))
    missing = [
        operation
        for operation in operations
        if operation[0] not in rendered_paths
        or operation[1] not in rendered_ids
        or operation[2] not in summaries
    ]
    assert not missing, f"not rendered: {missing[:5]}"
    assert len(re.findall(r'class="opblock opblock-(?:get|post|put|patch|delete)', dom)) == len(
        operations
    )
    assert {"operations-tasks-list_tasks", "operations-tasks-update_task"} <= rendered_ids

    urls = page_requests(net_log, f"http://{server.host}")
    assert f"{server.url}/docs/assets/swagger-ui-bundle.js" in urls
    elsewhere = {url for url in urls if not url.startswith(f"{server.url}/")}
    assert not elsewhere, f"requests that left FAROS: {sorted(elsewhere)}"


@requires_browser
def test_docs_screenshot_without_network(server: FarosServer, tmp_path: Path) -> None:
    picture = tmp_path / "docs.png"
    run_browser(
        offline_browser(
            tmp_path / "profile-shot",
            RENDER_BUDGET,
            f"--screenshot={picture}",
            "--window-size=1280,2000",
            f"{server.url}/docs/",
        )
    )
    data = picture.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    # A blank page compresses to a few kilobytes; the rendered operation list does not.
    assert len(data) > 50_000, len(data)
