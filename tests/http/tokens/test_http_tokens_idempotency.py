"""`POST /tokens` under an `Idempotency-Key`: a retry gets the same answer, secret included,
and the secret is still stored nowhere (it is derived, the kept answer holds a placeholder)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = pytest.mark.every_backend

REPLAYED = "idempotent-replayed"
BODY = {"name": "nightly", "scopes": ["tasks:read"], "expires_in_days": 30}


def keyed(who: Any, key: str) -> dict[str, str]:
    return {**who.auth, "Idempotency-Key": f'"{key}"'}


async def token_count(client: httpx.AsyncClient, who: Any) -> int:
    response = await client.get("/tokens", headers=who.auth)
    assert response.status_code == 200, response.text
    return len(response.json())


async def test_a_retry_gets_the_same_answer_and_a_working_secret(
    api: Any, client: httpx.AsyncClient
) -> None:
    alice = await api.user()
    headers = keyed(alice, str(uuid.uuid4()))
    first = await client.post("/tokens", json=BODY, headers=headers)
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    again = await client.post("/tokens", json=BODY, headers=headers)
    assert again.status_code == 201, again.text
    assert again.headers[REPLAYED] == "true"
    assert again.content == first.content  # byte for byte, the secret included
    assert again.headers["location"] == first.headers["location"] == "/tokens"
    assert await token_count(client, alice) == 1
    secret = again.json()["token"]
    assert secret.startswith("faros_pat_")
    assert len(secret) == len("faros_pat_") + 43  # 256 bits, base64url
    used = await client.get("/tasks", headers={"Authorization": f"Bearer {secret}"})
    assert used.status_code == 200, used.text


async def test_the_same_key_with_another_body_is_refused(
    api: Any, client: httpx.AsyncClient
) -> None:
    alice = await api.user()
    headers = keyed(alice, "tokens-once")
    assert (await client.post("/tokens", json=BODY, headers=headers)).status_code == 201
    other = await client.post("/tokens", json={**BODY, "name": "other"}, headers=headers)
    assert other.status_code == 422, other.text
    assert other.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await token_count(client, alice) == 1


async def test_secrets_differ_by_user_key_and_body(api: Any, client: httpx.AsyncClient) -> None:
    alice, bob = await api.user(), await api.user()
    made = [
        await client.post("/tokens", json=BODY, headers=keyed(alice, "k1")),
        await client.post("/tokens", json=BODY, headers=keyed(bob, "k1")),  # keys are per user
        await client.post("/tokens", json=BODY, headers=keyed(alice, "k2")),
        await client.post("/tokens", json={**BODY, "name": "b"}, headers=keyed(alice, "k3")),
        await client.post("/tokens", json=BODY, headers=alice.auth),
        await client.post("/tokens", json=BODY, headers=alice.auth),
    ]
    assert [response.status_code for response in made] == [201] * 6
    assert not any(REPLAYED in response.headers for response in made)
    assert len({response.json()["token"] for response in made}) == 6
    assert await token_count(client, alice) == 5
    assert await token_count(client, bob) == 1


@pytest.mark.postgres
async def test_the_secret_is_stored_nowhere(
    api: Any, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await api.user()
    headers = keyed(alice, "stored-nowhere")
    made = await client.post("/tokens", json=BODY, headers=headers)
    assert made.status_code == 201, made.text
    again = await client.post("/tokens", json=BODY, headers=headers)
    assert again.headers[REPLAYED] == "true"
    secret = made.json()["token"]
    async with engine.connect() as connection:
        kept = (
            await connection.execute(
                text("SELECT * FROM faros.idempotency_keys WHERE user_id = :uid AND key = :key"),
                {"uid": alice.id, "key": "stored-nowhere"},
            )
        ).one()
        token = (
            await connection.execute(
                text("SELECT * FROM faros.api_tokens WHERE id = :id"), {"id": made.json()["id"]}
            )
        ).one()
    for row in (kept, token):
        for value in row:
            as_bytes = value if isinstance(value, bytes) else str(value).encode()
            assert secret.encode() not in as_bytes
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()


async def test_a_replay_still_answers_once_the_token_is_revoked(
    api: Any, client: httpx.AsyncClient
) -> None:
    """The kept answer is what the first request was told, as for every idempotent route."""
    alice = await api.user()
    headers = keyed(alice, "then-revoked")
    first = await client.post("/tokens", json=BODY, headers=headers)
    revoked = await client.delete(f"/tokens/{first.json()['id']}", headers=alice.auth)
    assert revoked.status_code == 204
    again = await client.post("/tokens", json=BODY, headers=headers)
    assert again.headers[REPLAYED] == "true"
    assert again.content == first.content
    assert await token_count(client, alice) == 0
    refused = await client.get(
        "/tasks", headers={"Authorization": f"Bearer {first.json()['token']}"}
    )
    assert refused.status_code == 401
