"""Idempotency-Key on the creating routes (draft-ietf-httpapi-idempotency-key-header, #17).

The first successful answer to a key is kept 24 hours with a fingerprint of the request; a
retry with the same key and request gets it again with `Idempotent-Replayed: true` and creates
nothing; the same key on another request is a 422; a key whose first request is still running
is a 409. Requests without the header are untouched.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from faros.adapters.postgres.engine import create_engine
from faros.entrypoints.http.openapi_idempotency import EXAMPLE_KEY

pytestmark = pytest.mark.every_backend

REPLAYED = "idempotent-replayed"


def key_header(key: str | None = None) -> dict[str, str]:
    return {"Idempotency-Key": f'"{key or uuid.uuid4()}"'}


async def task_total(api: Any, who: Any) -> int:
    response = await api.get(who, "/tasks")
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


async def expire(request: pytest.FixtureRequest, backend: str, user_id: int, key: str) -> None:
    """Age a kept key past its 24 hours, in whichever store the app uses."""
    past = datetime.now(UTC) - timedelta(seconds=1)
    if backend == "memory":
        store = request.getfixturevalue("memory_store")
        stored = store.idempotency[(user_id, key)]
        store.idempotency[(user_id, key)] = replace(stored, expires_at=past)
        return
    # The app's database fixture is set up already (so no async set-up runs in this loop).
    engine = create_engine(request.getfixturevalue("database_url"), pool_size=1)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(
                text(
                    "UPDATE faros.idempotency_keys SET expires_at = :past"
                    " WHERE user_id = :uid AND key = :key"
                ),
                {"past": past, "uid": user_id, "key": key},
            )
            assert result.rowcount == 1
    finally:
        await engine.dispose()


async def test_a_retry_gets_the_first_answer_and_creates_nothing(api: Any) -> None:
    owner = await api.user()
    headers = {**owner.auth, **key_header()}
    first = await api.client.post("/tasks", json={"title": "Once"}, headers=headers)
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    again = await api.client.post("/tasks", json={"title": "Once"}, headers=headers)
    assert again.status_code == 201
    assert again.headers[REPLAYED] == "true"
    assert again.content == first.content  # byte for byte
    assert again.headers["location"] == first.headers["location"] == f"/tasks/{first.json()['id']}"
    assert again.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert await task_total(api, owner) == 1


async def test_without_the_header_every_request_creates(api: Any) -> None:
    owner = await api.user()
    for _ in range(2):
        response = await api.client.post("/tasks", json={"title": "Twice"}, headers=owner.auth)
        assert response.status_code == 201
        assert REPLAYED not in response.headers
    assert await task_total(api, owner) == 2


async def test_the_same_key_on_another_request_is_a_422(api: Any) -> None:
    owner = await api.user()
    key = str(uuid.uuid4())
    headers = {**owner.auth, **key_header(key)}
    created = await api.client.post("/tasks", json={"title": "A"}, headers=headers)
    assert created.status_code == 201
    other_body = await api.client.post("/tasks", json={"title": "B"}, headers=headers)
    assert other_body.status_code == 422
    body = other_body.json()
    assert body["detail"] == (
        "Idempotency-Key: Value error, This Idempotency-Key was already used with a different "
        "request"
    )
    assert body["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert body["errors"][0]["input"] == key
    other_path = await api.client.post(
        f"/tasks/{created.json()['id']}/comments", json={"title": "A"}, headers=headers
    )
    assert other_path.status_code == 422
    assert await task_total(api, owner) == 1


async def test_keys_belong_to_their_user(api: Any) -> None:
    alice, bob = await api.user(), await api.user()
    key = key_header()
    for who in (alice, bob):
        response = await api.client.post(
            "/tasks", json={"title": "Same"}, headers={**who.auth, **key}
        )
        assert response.status_code == 201
        assert REPLAYED not in response.headers
        assert await task_total(api, who) == 1


async def test_an_expired_key_can_be_used_again(
    api: Any, backend: str, request: pytest.FixtureRequest
) -> None:
    owner = await api.user()
    key = str(uuid.uuid4())
    headers = {**owner.auth, **key_header(key)}
    assert (
        await api.client.post("/tasks", json={"title": "1"}, headers=headers)
    ).status_code == 201
    await expire(request, backend, owner.id, key)
    # Even with another body: the old answer is gone, so this is a first request.
    fresh = await api.client.post("/tasks", json={"title": "2"}, headers=headers)
    assert fresh.status_code == 201
    assert REPLAYED not in fresh.headers
    replay = await api.client.post("/tasks", json={"title": "2"}, headers=headers)
    assert replay.headers[REPLAYED] == "true"
    assert replay.json() == fresh.json()
    assert await task_total(api, owner) == 2


@pytest.mark.parametrize(
    "value",
    [
        "",
        '""',
        '"' + "k" * 256 + '"',
        '"unterminated',
        '"a"b"',
        '"bad\\escape"',
        "two words",
        "a,b",
        '"caf\u00e9"'.encode(),
        '"tab\there"',
    ],
)
async def test_a_malformed_key_is_a_400_and_creates_nothing(api: Any, value: str | bytes) -> None:
    owner = await api.user()
    response = await api.client.post(
        "/tasks", json={"title": "x"}, headers={**owner.auth, "Idempotency-Key": value}
    )
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("Idempotency-Key must be")
    assert await task_total(api, owner) == 0


async def test_a_repeated_header_is_a_400(api: Any) -> None:
    owner = await api.user()
    response = await api.client.post(
        "/tasks",
        json={"title": "x"},
        headers=httpx.Headers(
            [*owner.auth.items(), ("Idempotency-Key", '"a"'), ("Idempotency-Key", '"b"')]
        ),
    )
    assert response.status_code == 400


async def test_the_draft_form_and_a_bare_token_name_the_same_key(api: Any) -> None:
    owner = await api.user()
    longest = "k" * 255
    for bare, quoted in (("abc-123", '"abc-123"'), (longest, f'"{longest}"')):
        first = await api.client.post(
            "/tasks", json={"title": "t"}, headers={**owner.auth, "Idempotency-Key": quoted}
        )
        assert first.status_code == 201
        again = await api.client.post(
            "/tasks", json={"title": "t"}, headers={**owner.auth, "Idempotency-Key": bare}
        )
        assert again.headers[REPLAYED] == "true"
    escaped = '"say \\"hi\\""'
    assert (
        await api.client.post(
            "/tasks", json={"title": "t"}, headers={**owner.auth, "Idempotency-Key": escaped}
        )
    ).status_code == 201
    assert await task_total(api, owner) == 3


async def test_a_failed_request_keeps_no_key_so_its_retry_runs(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    ghost = f"g{uuid.uuid4().hex[:12]}"
    headers = {**owner.auth, **key_header()}
    body = {"shared_with_username": ghost, "permission": "view"}
    missing = await api.client.post(f"/tasks/{task['id']}/share", json=body, headers=headers)
    assert missing.status_code == 404  # claimed, then rolled back with the failed write
    await api.register(ghost)
    retried = await api.client.post(f"/tasks/{task['id']}/share", json=body, headers=headers)
    assert retried.status_code == 201, retried.text
    assert REPLAYED not in retried.headers
    # Now the share exists: without a key a second share is a 409; with the key, a replay.
    again = await api.client.post(f"/tasks/{task['id']}/share", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers[REPLAYED] == "true"
    assert again.content == retried.content
    plain = await api.client.post(f"/tasks/{task['id']}/share", json=body, headers=owner.auth)
    assert plain.status_code == 409


async def test_a_comment_retry_adds_no_second_comment(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    headers = {**owner.auth, **key_header()}
    url = f"/tasks/{task['id']}/comments"
    first = await api.client.post(url, json={"content": "hello"}, headers=headers)
    again = await api.client.post(url, json={"content": "hello"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers[REPLAYED] == "true"
    assert again.content == first.content
    assert again.headers["location"] == url
    listed = await api.get(owner, url)
    assert len(listed.json()) == 1


async def test_an_upload_retry_stores_no_second_file(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    url = f"/tasks/{task['id']}/files"
    headers = {**owner.auth, **key_header()}
    data = b"report " * 5000

    async def send(content: bytes, name: str = "r.txt") -> httpx.Response:
        # httpx draws a fresh multipart boundary per request, as most clients do: the
        # fingerprint covers the part, not the raw body.
        return await api.client.post(
            url, files={"file": (name, content, "text/plain")}, headers=headers
        )

    first = await send(data)
    assert first.status_code == 201, first.text
    again = await send(data)
    assert again.status_code == 201
    assert again.headers[REPLAYED] == "true"
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert (await send(data + b"!")).status_code == 422
    assert (await send(data, name="other.txt")).status_code == 422
    listed = await api.get(owner, url)
    assert [item["id"] for item in listed.json()] == [first.json()["id"]]
    download = await api.get(owner, first.headers["location"])
    assert download.content == data


async def test_a_bulk_update_retry_answers_the_first_result(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner, title="Before")
    headers = {**owner.auth, **key_header()}
    body = {"task_ids": [task["id"]], "updates": {"completed": True}}
    first = await api.client.patch("/tasks/bulk", json=body, headers=headers)
    assert first.status_code == 200, first.text
    assert REPLAYED not in first.headers
    renamed = await api.client.patch(
        f"/tasks/{task['id']}", json={"title": "After", "completed": False}, headers=owner.auth
    )
    assert renamed.status_code == 200
    again = await api.client.patch("/tasks/bulk", json=body, headers=headers)
    assert again.status_code == 200
    assert again.headers[REPLAYED] == "true"
    assert again.content == first.content  # the stored answer, not a second update
    now = (await api.get(owner, f"/tasks/{task['id']}")).json()
    assert (now["title"], now["completed"]) == ("After", False)


async def test_concurrent_first_uses_create_exactly_once(api: Any) -> None:
    owner = await api.user()
    headers = {**owner.auth, **key_header()}
    responses = await asyncio.gather(
        *(api.client.post("/tasks", json={"title": "Race"}, headers=headers) for _ in range(4))
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, [r.text for r in responses]
    fresh = [r for r in responses if r.status_code == 201 and REPLAYED not in r.headers]
    assert len(fresh) == 1
    for replay in (r for r in responses if r.status_code == 201 and r is not fresh[0]):
        assert replay.content == fresh[0].content
    assert await task_total(api, owner) == 1


@pytest.mark.postgres
async def test_a_retry_while_the_first_runs_is_a_409(api: Any, engine: Any) -> None:
    owner = await api.user()
    key = str(uuid.uuid4())
    headers = {**owner.auth, **key_header(key)}
    lock = text("SELECT pg_advisory_lock(CAST(x'69646d70' AS int), hashtext(:lock))")
    unlock = text("SELECT pg_advisory_unlock(CAST(x'69646d70' AS int), hashtext(:lock))")
    # Another connection holds the key, as the first request's transaction does while it runs.
    async with engine.connect() as holder:
        await holder.execute(lock, {"lock": f"{owner.id}:{key}"})
        busy = await api.client.post("/tasks", json={"title": "t"}, headers=headers)
        assert busy.status_code == 409
        assert busy.json() == {
            "detail": "A request with this Idempotency-Key is still being processed; retry later"
        }
        # Another key of the same user is free.
        other = await api.client.post(
            "/tasks", json={"title": "t"}, headers=key_header() | owner.auth
        )
        assert other.status_code == 201
        await holder.execute(unlock, {"lock": f"{owner.id}:{key}"})
        await holder.commit()
    done = await api.client.post("/tasks", json={"title": "t"}, headers=headers)
    assert done.status_code == 201
    assert REPLAYED not in done.headers
    assert await task_total(api, owner) == 2


async def test_the_documented_answers_are_the_server_s(api: Any, client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/tasks"]["post"]
    assert {"in": "header", "name": "Idempotency-Key", "required": False}.items() <= next(
        p for p in operation["parameters"] if p["name"] == "Idempotency-Key"
    ).items()
    assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]

    def documented(status: str) -> Any:
        examples = operation["responses"][status]["content"]["application/json"]["examples"]
        return examples[f"idempotency_key_{NAMES[status]}"]["value"]

    owner = await api.user()
    key = {"Idempotency-Key": f'"{EXAMPLE_KEY}"'}
    created = await api.client.post("/tasks", json={"title": "a"}, headers=owner.auth | key)
    assert created.status_code == 201
    reused = await api.client.post("/tasks", json={"title": "b"}, headers=owner.auth | key)
    assert reused.json() == documented("422")
    bad = await api.client.post(
        "/tasks", json={"title": "b"}, headers=owner.auth | {"Idempotency-Key": ""}
    )
    assert bad.json() == documented("400")
    assert documented("409") == {
        "detail": "A request with this Idempotency-Key is still being processed; retry later"
    }


NAMES = {"400": "malformed", "409": "in_use", "422": "reused"}
