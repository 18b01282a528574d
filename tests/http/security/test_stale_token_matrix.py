"""The permission matrix's stale-credential callers (API.md §1.3, §1.9, D3).

`tests/http/test_http_permissions.py` holds the ONE table of task-, comment- and file-scoped
routes and runs it for the owner, edit and view sharers, a stranger, a revoked sharer and an
anonymous caller. This module runs the same table for the callers whose token is no longer
good: an edit sharer who changed the password since (the old token), one who logged out (the
revoked token) and one whose user row was deleted (there is no deletion endpoint, so the row
is deleted in the database). Authentication comes first (§1.8): each gets exactly 401 with
its §1.3 detail and `WWW-Authenticate: Bearer`, and nothing changes.
"""

from __future__ import annotations

import importlib.util
import secrets
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = pytest.mark.postgres


def _permission_table() -> ModuleType:
    name = "faros_tests_http_permissions"
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    path = Path(__file__).resolve().parents[1] / "test_http_permissions.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ROUTES = _permission_table().ROUTES
EXPECTED = {
    "password_changed": {"detail": "Invalid or expired token"},
    "logged_out": {"detail": "Invalid or expired token"},
    "deleted": {"detail": "User not found"},
}


@pytest.fixture(scope="module")
async def stale_world(app: Any, kit: Any, engine: AsyncEngine) -> dict[str, Any]:
    async with kit.new_client(app) as http:
        api = kit.Api(http)
        owner = await api.user("stow")
        viewer = await api.user("stvw")
        task = await api.task(owner, title="Stale " + secrets.token_hex(3), tags=["seed"])
        stale: dict[str, str] = {}
        for role in EXPECTED:
            person = await api.user(f"st{role[:2]}")
            await api.share(owner, task["id"], person, "edit")
            stale[role] = person.token
            if role == "password_changed":
                changed = await http.patch(
                    "/users/me/change-password",
                    json={"current_password": kit.password, "new_password": "changed-pass-9"},
                    headers=person.auth,
                )
                assert changed.status_code == 200, changed.text
            elif role == "logged_out":
                assert (await http.post("/auth/logout", headers=person.auth)).status_code == 200
            else:
                async with engine.begin() as connection:
                    await connection.execute(
                        text("DELETE FROM faros.users WHERE id = :id"), {"id": person.id}
                    )
            http.cookies.clear()
        await api.share(owner, task["id"], viewer, "view")
        owner_comment = await api.comment(owner, task["id"], "by owner")
        view_comment = await api.comment(viewer, task["id"], "by viewer")
        stored = await api.upload(owner, task["id"])
        return {
            "owner": owner,
            "viewer": viewer,
            "tokens": stale,
            "ids": {
                "task": task["id"],
                "owner_comment": owner_comment["id"],
                "view_comment": view_comment["id"],
                "file": stored["id"],
            },
        }


CASES = [
    pytest.param(route, caller, id=f"{route.id}-{caller}")
    for route in ROUTES
    for caller in EXPECTED
]


@pytest.mark.parametrize(("route", "caller"), CASES)
async def test_stale_credentials_get_401(
    route: Any, caller: str, stale_world: dict[str, Any], anon: httpx.AsyncClient
) -> None:
    ids = stale_world["ids"]
    path = route.path.format(
        task=ids["task"],
        owner_comment=ids["owner_comment"],
        view_comment=ids["view_comment"],
        file=ids["file"],
        viewer=stale_world["viewer"].username,
    )
    kwargs: dict[str, Any] = {
        "headers": {"Authorization": f"Bearer {stale_world['tokens'][caller]}"}
    }
    if route.upload:
        kwargs["files"] = {"file": ("stale.txt", b"stale", "text/plain")}
    elif isinstance(route.body, dict):
        target = stale_world["owner"].username
        kwargs["json"] = {k: (target if v == "{target}" else v) for k, v in route.body.items()}
    elif route.body is not None:
        kwargs["json"] = route.body
    response = await anon.request(route.method, path, **kwargs)
    assert response.status_code == 401, response.text
    assert response.json() == EXPECTED[caller]
    assert response.headers["www-authenticate"] == "Bearer"
    # Refused before any route logic: the task, its comments and its file are as they were.
    owner = stale_world["owner"]
    task = await anon.get(f"/tasks/{ids['task']}", headers=owner.auth)
    assert task.status_code == 200
    assert task.json()["title"].startswith("Stale ")
    assert task.json()["tags"] == ["seed"]
    comments = await anon.get(f"/tasks/{ids['task']}/comments", headers=owner.auth)
    assert [c["content"] for c in comments.json()] == ["by owner", "by viewer"]
    files = await anon.get(f"/tasks/{ids['task']}/files", headers=owner.auth)
    assert [f["id"] for f in files.json()] == [ids["file"]]
