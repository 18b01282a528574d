"""D4 (amended) in a real browser: pages of other origins cannot write with the auth cookie.

Headless Chromium, a real `faros serve` on 127.0.0.1:S whose FAROS_CORS_ORIGINS lists only the
app page's origin 127.0.0.1:A, and a foreign page server on port F reached under two names:

- `http://127.0.0.1:F` is cross-origin but *same-site* (sites ignore ports), so the browser
  sends even a `SameSite=Lax` cookie with its form posts: D4 alone refuses them.
- `http://localhost:F` is *cross-site*. Development's `SameSite=Lax` cookie stays home (the
  browser's part: the write is a plain 401); production's `SameSite=None; Secure` cookie goes
  along, and D4 refuses. Login and registration need no cookie and are refused by D4.

The test runs once per cookie setting, each with a server of its own.

The forged writes are what a form can really do to FAROS: a multipart upload to a task (a page
can fill a file input itself) and a logout. Login and registration are forged as text/plain
forms whose body is JSON; FAROS would answer those 422 (JSON only) after D4, so the 403 shows
that D4 came first. The app page's credentialed `fetch` and the same upload form from the
allowed origin succeed, so the test fails if the check refuses too much as well as too little.
The browser reads each answer as the page it navigated to (DevTools protocol); the server's
state is then read with a bearer token. Each run takes about 3 s plus its server's start.
Skipped where no Chromium or Chrome is installed.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from headless_browser import DevTools, devtools_browser, requires_browser

from serve_process import FarosServer, StartServer

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.slow]

REFUSED = {"detail": "Cross-site request refused"}
PASSWORD = "browser-horse-1="  # ends in "=": what a text/plain form adds after the JSON


@dataclass
class Pages:
    """Static HTML by path, served on every port of `PageServer`s sharing it."""

    by_path: dict[str, str] = field(default_factory=dict)


class PageServer:
    """A small HTTP server on 127.0.0.1 serving `pages` (GET only)."""

    def __init__(self, pages: Pages) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.by_path.get(self.path.split("?")[0], "<!doctype html><title>-</title>")
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port: int = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def pages() -> Pages:
    return Pages()


@pytest.fixture(scope="module")
def app_site(pages: Pages) -> Iterator[PageServer]:
    server = PageServer(pages)
    yield server
    server.close()


@pytest.fixture(scope="module")
def foreign_site(pages: Pages) -> Iterator[PageServer]:
    server = PageServer(pages)
    yield server
    server.close()


# Development's cookie, and production's (a browser takes `Secure` from http://127.0.0.1).
COOKIES = {
    "lax": {"FAROS_COOKIE_SAMESITE": "lax", "FAROS_COOKIE_SECURE": "false"},
    "none": {"FAROS_COOKIE_SAMESITE": "none", "FAROS_COOKIE_SECURE": "true"},
}


@pytest.fixture(scope="module", params=list(COOKIES), ids=lambda name: f"SameSite={name}")
def samesite(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def server(start_server: StartServer, app_site: PageServer, samesite: str) -> FarosServer:
    return start_server(FAROS_CORS_ORIGINS=f"http://127.0.0.1:{app_site.port}", **COOKIES[samesite])


def json_form(action: str, payload: dict[str, str]) -> str:
    """A page that posts `payload` as JSON text to `action` as soon as it loads.

    text/plain forms send `name=value`: the JSON is split so that the `=` lands inside the
    last string value (hence PASSWORD's trailing "=").
    """
    text = json.dumps(payload)
    assert text.endswith('="}')
    name, value = text[:-3], '"}'
    return (
        "<!doctype html><title>forged</title>"
        f'<form method="post" enctype="text/plain" action="{html.escape(action)}">'
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        "</form><script>document.forms[0].submit()</script>"
    )


def upload_form(action: str, filename: str) -> str:
    """A page that uploads a small text file to `action` as soon as it loads.

    A page may fill a file input with a file it made (DataTransfer), so a form can forge a
    multipart upload: FAROS accepts it exactly as from its own app.
    """
    return (
        "<!doctype html><title>forged</title>"
        f'<form method="post" enctype="multipart/form-data" action="{html.escape(action)}">'
        '<input type="file" name="file"></form><script>'
        "const files = new DataTransfer();"
        f"files.items.add(new File(['forged'], {json.dumps(filename)}, {{type: 'text/plain'}}));"
        "document.forms[0].file.files = files.files; document.forms[0].submit()</script>"
    )


def bare_form(action: str) -> str:
    """A page that posts an empty form to `action` as soon as it loads."""
    return (
        "<!doctype html><title>forged</title>"
        f'<form method="post" action="{html.escape(action)}"></form>'
        "<script>document.forms[0].submit()</script>"
    )


def submit(browser: DevTools, pages: Pages, origin: str, action: str, page: str) -> Any:
    """Open `page` (which posts to `action`) at `origin`: the (status, JSON) FAROS answered."""
    path = f"/form-{len(pages.by_path)}"
    pages.by_path[path] = page
    browser.open(origin + path, until=action)
    status = browser.evaluate("performance.getEntriesByType('navigation')[0].responseStatus")
    text = browser.evaluate("document.querySelector('pre')?.textContent ?? document.body.innerText")
    return status, json.loads(text) if text else None


def bearer(server: FarosServer, username: str, password: str = PASSWORD) -> dict[str, str]:
    login = httpx.post(
        f"{server.url}/auth/login",
        json={"username": username, "password": password},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def register(server: FarosServer, username: str) -> None:
    response = httpx.post(
        f"{server.url}/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=10,
    )
    assert response.status_code == 201, response.text


def task_titles(server: FarosServer, auth: dict[str, str]) -> list[str]:
    response = httpx.get(f"{server.url}/tasks", headers=auth, timeout=10)
    assert response.status_code == 200, response.text
    return sorted(task["title"] for task in response.json()["tasks"])


FETCH = """
(async () => {
  const call = async (method, path, body) => {
    const response = await fetch(%(api)s + path, {
      method, credentials: "include",
      headers: body ? {"Content-Type": "application/json"} : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    return [response.status, await response.json()];
  };
  return %(calls)s;
})()
"""


def in_app_page(browser: DevTools, server: FarosServer, calls: str) -> Any:
    """Run `calls` (JavaScript using `call(method, path, body)`) in the current page."""
    return browser.evaluate(FETCH % {"api": json.dumps(server.url), "calls": calls})


def file_names(server: FarosServer, auth: dict[str, str], task_id: int) -> list[str]:
    response = httpx.get(f"{server.url}/tasks/{task_id}/files", headers=auth, timeout=10)
    assert response.status_code == 200, response.text
    return sorted(found["original_filename"] for found in response.json())


@requires_browser
def test_foreign_pages_cannot_write_or_log_in_but_the_allowed_origin_can(
    server: FarosServer,
    app_site: PageServer,
    foreign_site: PageServer,
    pages: Pages,
    samesite: str,
    tmp_path: Path,
) -> None:
    suffix = str(server.port)
    victim, attacker, newcomer = f"victim_{suffix}", f"attacker_{suffix}", f"newcomer_{suffix}"
    register(server, victim)
    register(server, attacker)
    app = f"http://127.0.0.1:{app_site.port}"
    same_site = f"http://127.0.0.1:{foreign_site.port}"
    cross_site = f"http://localhost:{foreign_site.port}"
    login, registration, logout = (
        f"{server.url}/auth/{path}" for path in ("login", "register", "logout")
    )
    credentials = {"username": attacker, "password": PASSWORD}
    victim_credentials = {"username": victim, "password": PASSWORD}
    account = {"username": newcomer, "email": f"{newcomer}@example.com", "password": PASSWORD}

    with devtools_browser(tmp_path / "profile", hosts=("localhost",)) as browser:
        # The app's origin logs in with a credentialed fetch (the browser keeps the cookie)
        # and writes with the cookie alone: the allowed origin passes.
        browser.open(f"{app}/app")
        logged_in, created = in_app_page(
            browser,
            server,
            f"""[await call("POST", "/auth/login", {json.dumps(victim_credentials)}),
                 await call("POST", "/tasks", {{"title": "by fetch"}})]""",
        )
        assert logged_in[0] == 200, logged_in
        assert created[0] == 201, created
        files = f"{server.url}/tasks/{created[1]['id']}/files"

        # A same-site foreign page: the browser sends the Lax cookie, and D4 refuses.
        same_site_upload = submit(browser, pages, same_site, files, upload_form(files, "a.txt"))
        assert same_site_upload == (403, REFUSED)
        assert submit(browser, pages, same_site, logout, bare_form(logout)) == (403, REFUSED)
        # A cross-site one: a Lax cookie stays home (no credential at all); a SameSite=None
        # one goes along, and D4 refuses.
        cross_site_upload = submit(browser, pages, cross_site, files, upload_form(files, "b.txt"))
        if samesite == "lax":
            assert cross_site_upload == (401, {"detail": "Not authenticated"})
        else:
            assert cross_site_upload == (403, REFUSED)
        # The same form from the app's origin works: the refusal was about the origin.
        by_app = submit(browser, pages, app, files, upload_form(files, "app.txt"))
        assert by_app[0] == 201, by_app

        # Login CSRF: foreign pages try to sign the browser into the attacker's account, or
        # to register one, without any cookie of ours.
        for site in (same_site, cross_site):
            assert submit(browser, pages, site, login, json_form(login, credentials)) == (
                403,
                REFUSED,
            ), site
            assert submit(browser, pages, site, registration, json_form(registration, account)) == (
                403,
                REFUSED,
            ), site

        # The browser still holds the victim's live session (the forged logout revoked
        # nothing), and the app page still reads with it.
        browser.open(f"{app}/app")
        (me,) = in_app_page(browser, server, '[await call("GET", "/users/me")]')
        assert (me[0], me[1]["username"]) == (200, victim)

    victim_auth = bearer(server, victim)
    assert task_titles(server, victim_auth) == ["by fetch"]
    assert file_names(server, victim_auth, created[1]["id"]) == ["app.txt"]
    assert task_titles(server, bearer(server, attacker)) == []
    nobody = httpx.post(
        f"{server.url}/auth/login", json={"username": newcomer, "password": PASSWORD}, timeout=10
    )
    assert nobody.status_code == 401, "the forged registration created the account"
