"""The permission matrix of §1.9, generated from ONE table of task-scoped routes.

Every route, caller (owner, edit, view, stranger, revoked sharer, anonymous) and target (an
existing resource, a missing one) is one test case. Expectations come from the level ranks:

* anonymous → 401 `Not authenticated` (authentication comes first, §1.8);
* missing task → Family-A 404 (comment/file routes: their own 404 detail);
* rank below what the route needs → Family-A 403;
* comment routes: at least VIEW, then author (or, for delete, the task owner) — else the
  Family-B 403 `User <id> is not authorized to access comment_id=<cid>`;
* otherwise the route's success status.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar

pytestmark = pytest.mark.every_backend

OWNER, EDIT, VIEW, NONE = 3, 2, 1, 0
RANK = {"owner": OWNER, "edit": EDIT, "view": VIEW, "stranger": NONE, "revoked": NONE}
CALLERS = ["owner", "edit", "view", "stranger", "revoked", "anonymous"]
MISSING_ID = 2_147_480_000


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # placeholders: {task} {owner_comment} {view_comment} {file} {viewer} {target}
    needs: int | str  # a rank, or "author" / "author_or_owner" for comment routes
    success: int
    body: Any = None
    upload: bool = False

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


# The one table.
ROUTES = [
    Route("GET", "/tasks/{task}", VIEW, 200),
    Route("PATCH", "/tasks/{task}", EDIT, 200, {"title": "changed"}),
    Route("DELETE", "/tasks/{task}", OWNER, 204),
    Route("POST", "/tasks/{task}/tags", EDIT, 200, ["new-tag"]),
    Route("DELETE", "/tasks/{task}/tags/seed", EDIT, 200),
    Route("GET", "/tasks/{task}/shares", OWNER, 200),
    Route("POST", "/tasks/{task}/share", OWNER, 201, {"shared_with_username": "{target}"}),
    Route("PUT", "/tasks/{task}/share/{viewer}", OWNER, 200, {"permission": "edit"}),
    Route("DELETE", "/tasks/{task}/share/{viewer}", OWNER, 204),
    Route("GET", "/tasks/{task}/comments", VIEW, 200),
    Route("POST", "/tasks/{task}/comments", VIEW, 201, {"content": "hello"}),
    Route("PATCH", "/comments/{owner_comment}", "author", 200, {"content": "edited"}),
    Route("PATCH", "/comments/{view_comment}", "author", 200, {"content": "edited"}),
    Route("DELETE", "/comments/{owner_comment}", "author_or_owner", 204),
    Route("DELETE", "/comments/{view_comment}", "author_or_owner", 204),
    Route("GET", "/tasks/{task}/files", VIEW, 200),
    Route("POST", "/tasks/{task}/files", EDIT, 201, upload=True),
    Route("GET", "/files/{file}", VIEW, 200),
    Route("DELETE", "/files/{file}", EDIT, 204),
    Route("GET", "/activity/tasks/{task}", VIEW, 200),
]


@dataclass
class World:
    """One owner's task with every kind of relation to it, fresh for each case."""

    ids: dict[str, int]
    tokens: dict[str, str]
    users: dict[str, Any]


@pytest.fixture(scope="module")
async def module_client(app: Litestar, kit: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with kit.new_client(app) as http:
        yield http


@pytest.fixture(scope="module")
async def people(module_client: httpx.AsyncClient, kit: Any) -> dict[str, Any]:
    api = kit.Api(module_client)
    return {role: await api.user(f"pm{role[:3]}") for role in RANK}


@pytest.fixture(scope="module")
async def shared_world(module_client: httpx.AsyncClient, people: dict[str, Any], kit: Any) -> World:
    return await build_world(kit.Api(module_client), people)


async def build_world(api: Any, people: dict[str, Any]) -> World:
    owner = people["owner"]
    task = await api.task(owner, title="Matrix " + secrets.token_hex(3), tags=["seed"])
    await api.share(owner, task["id"], people["edit"], "edit")
    await api.share(owner, task["id"], people["view"], "view")
    await api.share(owner, task["id"], people["revoked"], "edit")
    await api.unshare(owner, task["id"], people["revoked"])
    owner_comment = await api.comment(owner, task["id"], "by owner")
    view_comment = await api.comment(people["view"], task["id"], "by viewer")
    stored = await api.upload(owner, task["id"])
    ids = {
        "task": task["id"],
        "owner_comment": owner_comment["id"],
        "view_comment": view_comment["id"],
        "file": stored["id"],
    }
    return World(ids, {r: p.token for r, p in people.items()}, people)


def expected_for(
    route: Route, caller: str, exists: bool, people: dict[str, Any], ids: dict[str, int], kit: Any
) -> tuple[int, Any]:
    """(status, body or None) that §1.9 prescribes."""
    if caller == "anonymous":
        return 401, kit.not_authenticated
    target = _target_name(route.path)
    if not exists:
        if target == "owner_comment" or target == "view_comment":
            return 404, {"detail": "Comment not found"}
        if target == "file":
            return 404, {"detail": f"File with ID {MISSING_ID} not found"}
        return 404, kit.not_found(MISSING_ID)
    rank = RANK[caller]
    if isinstance(route.needs, int):
        return (route.success, None) if rank >= route.needs else (403, kit.forbidden)
    # Comment routes: VIEW on the task first, then authorship (or ownership, for delete).
    if rank < VIEW:
        return 403, kit.forbidden
    author = "owner" if target == "owner_comment" else "view"
    allowed = caller == author or (route.needs == "author_or_owner" and caller == "owner")
    if allowed:
        return route.success, None
    comment_id = ids[target]
    caller_id = people[caller].id
    return 403, {"detail": f"User {caller_id} is not authorized to access comment_id={comment_id}"}


def _target_name(path: str) -> str:
    for name in ("owner_comment", "view_comment", "file"):
        if "{" + name + "}" in path:
            return name
    return "task"


CASES = [
    pytest.param(
        route, caller, exists, id=f"{route.id}-{caller}-{'existing' if exists else 'missing'}"
    )
    for route in ROUTES
    for caller in CALLERS
    for exists in (True, False)
]


@pytest.mark.parametrize(("route", "caller", "exists"), CASES)
async def test_permission_matrix(
    route: Route,
    caller: str,
    exists: bool,
    module_client: httpx.AsyncClient,
    people: dict[str, Any],
    shared_world: World,
    kit: Any,
) -> None:
    if exists:
        ids = shared_world.ids
        status, _ = expected_for(route, caller, exists, people, ids, kit)
        if status == route.success and route.method != "GET":
            # A permitted change gets a world of its own; refusals and reads share one.
            ids = (await build_world(kit.Api(module_client), people)).ids
    else:
        ids = dict.fromkeys(("task", "owner_comment", "view_comment", "file"), MISSING_ID)
    # Sharing target: someone the task is not shared with (only the owner gets that far).
    target = people["stranger"].username
    path = route.path.format(
        task=ids["task"],
        owner_comment=ids["owner_comment"],
        view_comment=ids["view_comment"],
        file=ids["file"],
        viewer=people["view"].username,
    )
    headers = {} if caller == "anonymous" else {"Authorization": f"Bearer {people[caller].token}"}
    kwargs: dict[str, Any] = {"headers": headers}
    if route.upload:
        kwargs["files"] = {"file": ("matrix.txt", b"matrix", "text/plain")}
    elif route.body is not None:
        body = route.body
        if isinstance(body, dict):
            body = {k: (target if v == "{target}" else v) for k, v in body.items()}
        kwargs["json"] = body
    response = await module_client.request(route.method, path, **kwargs)
    status, body = expected_for(route, caller, exists, people, ids, kit)
    assert response.status_code == status, response.text
    if body is not None:
        assert response.json() == body
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    if status == 403 and body == kit.forbidden and exists:
        # A refused request changed nothing: the task is still there, unchanged.
        check = await module_client.get(
            f"/tasks/{ids['task']}", headers={"Authorization": f"Bearer {people['owner'].token}"}
        )
        assert check.status_code == 200
        assert check.json()["title"].startswith("Matrix ")
        assert check.json()["tags"] == ["seed"]
