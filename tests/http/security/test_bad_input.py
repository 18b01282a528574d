"""Bad input at the HTTP boundary (OWASP API4:2023 and API8:2023; issue #8).

Oversize, deeply nested, mistyped, mis-encoded and hostile input each gets a clear 4xx — never
a 500 — and a refused request changes nothing (checked by reading the data back). Text that
PostgreSQL can store comes back exactly as sent; NUL, which it cannot store, is a 422 at the
boundary for every string of a body or query (validation.py).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

MIB = 1024 * 1024
TOO_LARGE = {"detail": "Request body too large"}


async def _task_count(client: httpx.AsyncClient, who: Any) -> int:
    page = await client.get("/tasks", params={"limit": 1}, headers=who.auth)
    assert page.status_code == 200
    total: int = page.json()["total"]
    return total


async def _unchanged(client: httpx.AsyncClient, who: Any, task: dict[str, Any]) -> None:
    current = await client.get(f"/tasks/{task['id']}", headers=who.auth)
    assert current.status_code == 200
    for key in ("title", "description", "tags", "priority", "completed", "due_date"):
        assert current.json()[key] == task[key], key


def _assert_422(response: httpx.Response, kind: str | None = None) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    body: dict[str, Any] = response.json()
    assert isinstance(body["detail"], str)
    assert body["errors"]
    if kind is not None:
        assert body["errors"][0]["type"] == kind, body
    return body


# --- Size -----------------------------------------------------------------------------------------


async def test_body_over_one_mib_is_413(
    api: Any, client: httpx.AsyncClient, container: Any
) -> None:
    me = await api.user("big")
    assert container.settings.max_body_bytes == MIB
    body = json.dumps({"title": "x", "description": "d" * MIB}).encode()
    response = await client.post(
        "/tasks", content=body, headers={**me.auth, "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert await _task_count(client, me) == 0


async def test_body_of_exactly_the_limit_is_read(api: Any, client: httpx.AsyncClient) -> None:
    me = await api.user("big")
    prefix = b'{"title": "x", "pad": "'
    body = prefix + b"p" * (MIB - len(prefix) - 2) + b'"}'
    assert len(body) == MIB
    response = await client.post(
        "/tasks", content=body, headers={**me.auth, "content-type": "application/json"}
    )
    assert response.status_code == 201, response.text


async def test_chunked_body_without_length_is_cut_at_the_limit(
    api: Any, client: httpx.AsyncClient
) -> None:
    me = await api.user("big")
    sent = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"title": "x", "description": "'
        for _ in range(64):  # 4 MiB if it were all read
            sent += 1
            yield b"d" * (64 * 1024)
        yield b'"}'

    response = await client.post(
        "/tasks", content=stream(), headers={**me.auth, "content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert await _task_count(client, me) == 0


# --- Structure and encoding -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"title": "x", "tags": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
        b'{"title": "x", "tags": ' + b"[" * 40 + b"]" * 40 + b"}",
        b"[" * 100_000,  # unterminated as well
    ],
    ids=["100k arrays", "100k objects", "5k in a field", "40 in a field", "unterminated"],
)
async def test_deeply_nested_json_is_422(body: bytes, api: Any, client: httpx.AsyncClient) -> None:
    me = await api.user("deep")
    response = await client.post(
        "/tasks", content=body, headers={**me.auth, "content-type": "application/json"}
    )
    _assert_422(response, "json_invalid")
    assert await _task_count(client, me) == 0


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json-patch",
        "image/png",
    ],
)
async def test_wrong_content_types_are_422(
    content_type: str, api: Any, client: httpx.AsyncClient
) -> None:
    me = await api.user("ctype")
    response = await client.post(
        "/tasks", content=b'{"title": "x"}', headers={**me.auth, "content-type": content_type}
    )
    _assert_422(response, "model_attributes_type")
    assert await _task_count(client, me) == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"title": "\xff\xfe"}',
        b'{"title": "\xc3"}',
        b'{"title": "\xed\xa0\x80"}',  # a UTF-8-encoded surrogate
        b"\xef\xbb\xbf\xff",
        b'{"title": "ok", "\xff": 1}',
    ],
)
async def test_invalid_utf8_json_is_422(body: bytes, api: Any, client: httpx.AsyncClient) -> None:
    me = await api.user("utf")
    response = await client.post(
        "/tasks", content=body, headers={**me.auth, "content-type": "application/json"}
    )
    _assert_422(response, "json_invalid")
    assert await _task_count(client, me) == 0


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\ud83d x", "\\u0000", "a\\u0000b"])
async def test_unstorable_json_escapes_are_422(
    escape: str, api: Any, client: httpx.AsyncClient
) -> None:
    me = await api.user("esc")
    for field in ("title", "description"):
        body = '{"title": "ok", "%s": "%s"}' % (field, escape)  # noqa: UP031 - raw escapes
        response = await client.post(
            "/tasks", content=body.encode(), headers={**me.auth, "content-type": "application/json"}
        )
        payload = _assert_422(response, "value_error")
        assert payload["errors"][0]["loc"] == ["body", field]
        json.dumps(payload, ensure_ascii=False).encode("utf-8")  # the echo itself is valid UTF-8
    assert await _task_count(client, me) == 0


@pytest.mark.parametrize(
    "query",
    [b"search=%ff%fe", b"search=\xff\xfe", b"search=%ed%a0%80", b"search=%c3", b"tags=%ff"],
)
async def test_invalid_utf8_in_query_strings_is_harmless(
    query: bytes, api: Any, client: httpx.AsyncClient
) -> None:
    me = await api.user("qutf")
    await api.task(me, title="plain")
    response = await client.get("/tasks?" + query.decode("latin-1"), headers=me.auth)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 0  # matched literally (as U+FFFD): nothing has it


# --- Numbers --------------------------------------------------------------------------------------

HUGE_IDS = [2**31, 2**31 + 1, 2**63, 2**63 + 1, 10**30, -(2**31) - 1, -(2**63) - 1]


@pytest.mark.parametrize("number", HUGE_IDS)
async def test_ids_past_the_serial_range_are_404(
    number: int, api: Any, client: httpx.AsyncClient
) -> None:
    me = await api.user("ids")
    task_404 = {
        "error": "Task Not Found",
        "message": f"Task with ID {number} not found",
        "task_id": number,
    }
    for method, path, body, expected in [
        ("GET", f"/tasks/{number}", None, task_404),
        ("PATCH", f"/tasks/{number}", {"title": "x"}, task_404),
        ("DELETE", f"/tasks/{number}", None, task_404),
        ("POST", f"/tasks/{number}/tags", ["a"], task_404),
        ("DELETE", f"/tasks/{number}/tags/a", None, task_404),
        ("GET", f"/tasks/{number}/shares", None, task_404),
        ("GET", f"/tasks/{number}/comments", None, task_404),
        ("POST", f"/tasks/{number}/comments", {"content": "x"}, task_404),
        ("GET", f"/tasks/{number}/files", None, task_404),
        ("GET", f"/activity/tasks/{number}", None, task_404),
        ("PATCH", f"/comments/{number}", {"content": "x"}, {"detail": "Comment not found"}),
        ("DELETE", f"/comments/{number}", None, {"detail": "Comment not found"}),
        ("GET", f"/files/{number}", None, {"detail": f"File with ID {number} not found"}),
        ("DELETE", f"/files/{number}", None, {"detail": f"File with ID {number} not found"}),
        ("GET", f"/users/{number}/avatar.png", None, {"detail": "Avatar not found"}),
    ]:
        response = await client.request(method, path, json=body, headers=me.auth)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json() == expected, (method, path)


async def test_huge_ids_in_bulk_updates_are_404(api: Any, client: httpx.AsyncClient) -> None:
    me = await api.user("bulk")
    mine = await api.task(me, title="keep")
    ids = [mine["id"], 2**31, 2**63, -(2**63) - 1, 10**30]
    response = await client.patch(
        "/tasks/bulk", json={"task_ids": ids, "updates": {"title": "changed"}}, headers=me.auth
    )
    assert response.status_code == 404, response.text
    assert response.json() == {"detail": f"Tasks not found: [{', '.join(map(str, ids[1:]))}]"}
    await _unchanged(client, me, mine)


@pytest.mark.parametrize(
    ("path", "name", "value"),
    [
        ("/tasks", "skip", "-1"),
        ("/tasks", "skip", str(2**63)),
        ("/tasks", "skip", "1e400"),
        ("/tasks", "limit", "0"),
        ("/tasks", "limit", "-5"),
        ("/tasks", "limit", "101"),
        ("/tasks", "limit", str(10**40)),
        ("/tasks", "limit", "NaN"),
        ("/activity", "offset", "-1"),
        ("/activity", "offset", str(2**31)),
        ("/activity", "limit", "0"),
        ("/activity", "limit", str(2**63)),
        ("/users/search?query=a&x=", "limit", "51"),
        ("/users/search?query=a&x=", "limit", "-1"),
    ],
)
async def test_out_of_range_paging_is_422(
    path: str, name: str, value: str, api: Any, client: httpx.AsyncClient
) -> None:
    me = await api.user("page")
    separator = "&" if "?" in path else "?"
    response = await client.get(f"{path}{separator}{name}={value}", headers=me.auth)
    body = _assert_422(response)
    assert body["errors"][0]["loc"] == ["query", name]


# --- Search text is literal -----------------------------------------------------------------------

HOSTILE = [
    "100% sure",
    "snake_case",
    "back\\slash",
    "it's",
    "'; DROP TABLE faros.tasks; --",
    '" OR 1=1 --',
    "%' OR '1'='1",
]


async def test_search_treats_wildcards_and_sql_literally(
    api: Any, client: httpx.AsyncClient
) -> None:
    me = await api.user("srch")
    for title in [*HOSTILE, "plain words", "another plain one"]:
        await api.task(me, title=title)
    for needle, expected in [
        ("%", ["100% sure", "%' OR '1'='1"]),
        ("_", ["snake_case"]),
        ("\\", ["back\\slash"]),
        ("'", ["it's", "'; DROP TABLE faros.tasks; --", "%' OR '1'='1"]),
        ("'; DROP TABLE", ["'; DROP TABLE faros.tasks; --"]),
        ('" OR 1=1', ['" OR 1=1 --']),
        ("%' OR '1'='1", ["%' OR '1'='1"]),
        ("%%", []),
        ("s_a", []),
    ]:
        response = await client.get("/tasks", params={"search": needle}, headers=me.auth)
        assert response.status_code == 200, response.text
        assert sorted(t["title"] for t in response.json()["tasks"]) == sorted(expected), needle
    # The tasks table is still there, with every row.
    assert await _task_count(client, me) == len(HOSTILE) + 2


async def test_user_search_treats_wildcards_literally(api: Any, client: httpx.AsyncClient) -> None:
    me = await api.user("usrch")
    for needle in ["%", "%%", "'; DROP TABLE faros.users; --", "\\"]:
        response = await client.get(
            "/users/search", params={"query": needle, "limit": 50}, headers=me.auth
        )
        assert response.status_code == 200, response.text
        assert response.json() == []  # no D11 username can hold these characters
    dotted = await api.user("a.b")
    response = await client.get(
        "/users/search", params={"query": dotted.username[:6], "limit": 50}, headers=me.auth
    )
    found = [u["username"] for u in response.json()]
    assert dotted.username in found
    underscore = await client.get(
        "/users/search", params={"query": "_", "limit": 50}, headers=me.auth
    )
    assert all("_" in u["username"] for u in underscore.json())


# --- Text fields: stored exactly, or a clear 4xx (control characters: test_http_text_rules.py) --

STORABLE = [
    "rocket 🚀 launch",
    "مرحبا بالعالم",
    "left \u202eright-to-left override",
    "e\u0301 combining",
    "zero\u200bwidth",
    "tab\there",
    "\U0010ffff max code point",
]


@pytest.mark.parametrize("text", STORABLE)
async def test_unicode_and_control_characters_are_stored_exactly(
    text: str, api: Any, client: httpx.AsyncClient
) -> None:
    me = await api.user("uni")
    other = await api.user("uni")
    created = await client.post(
        "/tasks",
        json={"title": text, "description": text, "tags": [text[:50]]},
        headers=me.auth,
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert (task["title"], task["description"], task["tags"]) == (text, text, [text[:50]])
    updated = await client.patch(
        f"/tasks/{task['id']}",
        json={"title": text + "!", "tags": [text[:49] + "!"]},
        headers=me.auth,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["title"] == text + "!"
    tagged = await client.post(f"/tasks/{task['id']}/tags", json=[text[:40]], headers=me.auth)
    assert tagged.status_code == 200
    assert text[:40] in tagged.json()["tags"]
    comment = await client.post(
        f"/tasks/{task['id']}/comments", json={"content": text}, headers=me.auth
    )
    assert comment.status_code == 201
    assert comment.json()["content"] == text
    listed = await client.get(f"/tasks/{task['id']}/comments", headers=me.auth)
    assert [c["content"] for c in listed.json()] == [text]
    found = await client.get("/tasks", params={"search": text}, headers=me.auth)
    assert [t["id"] for t in found.json()["tasks"]] == [task["id"]]
    # Usernames are D11's safe charset: such a name is refused with 422 at registration, and
    # sharing with it finds nobody.
    registered = await client.post(
        "/auth/register",
        json={
            "username": f"u{text}"[:50],
            "email": f"{other.username}x@example.com",
            "password": "long-enough-1",
        },
    )
    _assert_422(registered)
    shared = await client.post(
        f"/tasks/{task['id']}/share", json={"shared_with_username": text}, headers=me.auth
    )
    assert shared.status_code == 404
    assert shared.json() == {"detail": f"User '{text}' not found"}


NUL_REQUESTS = [
    ("POST", "/tasks", {"title": "a\x00b"}, ["body", "title"]),
    ("POST", "/tasks", {"title": "ok", "description": "\x00"}, ["body", "description"]),
    ("POST", "/tasks", {"title": "ok", "tags": ["fine", "\x00"]}, ["body", "tags", 1]),
    ("PATCH", "/tasks/{task}", {"title": "a\x00"}, ["body", "title"]),
    ("PATCH", "/tasks/{task}", {"description": "\x00x"}, ["body", "description"]),
    ("PATCH", "/tasks/{task}", {"tags": ["\x00"]}, ["body", "tags", 0]),
    ("POST", "/tasks/{task}/tags", ["\x00"], ["body", 0]),
    (
        "PATCH",
        "/tasks/bulk",
        {"task_ids": ["{task}"], "updates": {"title": "\x00"}},
        ["body", "updates", "title"],
    ),
    ("POST", "/tasks/{task}/comments", {"content": "\x00"}, ["body", "content"]),
    ("PATCH", "/comments/{comment}", {"content": "hi\x00"}, ["body", "content"]),
    (
        "POST",
        "/tasks/{task}/share",
        {"shared_with_username": "\x00"},
        ["body", "shared_with_username"],
    ),
    (
        "POST",
        "/auth/register",
        {"username": "ab\x00c", "email": "n@example.com", "password": "long-enough-1"},
        ["body", "username"],
    ),
    ("POST", "/auth/login", {"username": "\x00", "password": "x"}, ["body", "username"]),
    ("POST", "/auth/password-reset/request", {"email": "a\x00@b.c"}, ["body", "email"]),
    (
        "POST",
        "/auth/password-reset/verify",
        {"token": "\x00", "new_password": "long-enough-1"},
        ["body", "token"],
    ),
    ("POST", "/notifications/verify", {"token": "\x00"}, ["body", "token"]),
    (
        "PATCH",
        "/users/me/change-password",
        {"current_password": "\x00", "new_password": "long-enough-1"},
        ["body", "current_password"],
    ),
    ("GET", "/tasks?search=%00", None, ["query", "search"]),
    ("GET", "/tasks?tags=a%00", None, ["query", "tags"]),
    ("GET", "/users/search?query=%00", None, ["query", "query"]),
    ("GET", "/activity?action=%00", None, ["query", "action"]),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "loc"),
    NUL_REQUESTS,
    ids=[f"{m} {p} {loc[-1]}" for m, p, _, loc in NUL_REQUESTS],
)
async def test_nul_in_any_string_is_422_and_changes_nothing(
    method: str, path: str, body: Any, loc: list[Any], api: Any, client: httpx.AsyncClient
) -> None:
    me = await api.user("nul")
    task = await api.task(me, title="before", description="same", tags=["t"])
    comment = await api.comment(me, task["id"], "before")

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return int(task["id"]) if value == "{task}" else value
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    target = path.replace("{task}", str(task["id"])).replace("{comment}", str(comment["id"]))
    response = await client.request(method, target, json=fill(body), headers=me.auth)
    payload = _assert_422(response, "value_error")
    assert payload["errors"][0]["loc"] == loc
    assert "NUL" in payload["detail"]
    await _unchanged(client, me, task)
    comments = await client.get(f"/tasks/{task['id']}/comments", headers=me.auth)
    assert [c["content"] for c in comments.json()] == ["before"]
    assert await _task_count(client, me) == 1


async def test_nul_in_path_segments_finds_nothing(api: Any, client: httpx.AsyncClient) -> None:
    me = await api.user("nulp")
    task = await api.task(me, title="keep", tags=["t"])
    tag = await client.delete(f"/tasks/{task['id']}/tags/t%00", headers=me.auth)
    assert tag.status_code == 404
    assert tag.json()["error"] == "Tag Not Found"
    share = await client.delete(f"/tasks/{task['id']}/share/x%00y", headers=me.auth)
    assert share.status_code == 404
    await _unchanged(client, me, task)


# --- File names -----------------------------------------------------------------------------------

HOSTILE_NAMES = [
    "../../etc/passwd.txt",
    "..\\..\\windows\\win.ini.txt",
    "/absolute/path.txt",
    "dir/sub/file.txt",
    "C:\\temp\\x.txt",
    "a\x00b.txt",
    "line\r\nbreak.txt",
    'quote".txt',
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
async def test_file_names_with_path_separators_never_escape_storage(
    name: str, api: Any, client: httpx.AsyncClient, container: Any
) -> None:
    """The name is data, never a path: refused with a 4xx, or kept only as the display name."""
    me = await api.user("fname")
    task = await api.task(me)
    root = container.settings.upload_dir.resolve()
    before = {p.resolve() for p in root.parent.rglob("*")}
    response = await client.post(
        f"/tasks/{task['id']}/files",
        files={"file": (name, b"hello", "text/plain")},
        headers=me.auth,
    )
    assert response.status_code in (201, 400, 422), response.text
    if response.status_code == 201:  # only a bare name may be stored (IE paths are cut)
        stored_name = response.json()["original_filename"]
        assert "/" not in stored_name
        assert "\\" not in stored_name
    listed = await client.get(f"/tasks/{task['id']}/files", headers=me.auth)
    if response.status_code != 201:
        assert listed.json() == []
        return
    # Whatever it is called, the bytes landed inside the upload folder.
    added = {p.resolve() for p in root.parent.rglob("*")} - before
    assert added
    assert all(p.is_relative_to(root) for p in added), added
    stored = response.json()
    download = await client.get(f"/files/{stored['id']}", headers=me.auth)
    assert download.status_code == 200
    assert download.content == b"hello"
    disposition = download.headers["content-disposition"]
    assert "\r" not in disposition
    assert "\n" not in disposition
    assert disposition.startswith("attachment; filename")
    if 'filename="' in disposition:  # the plain form: a quote or backslash would break out
        plain = disposition.split('filename="', 1)[1]
        assert plain.endswith('"')
        assert '"' not in plain[:-1]
        assert "\\" not in plain
