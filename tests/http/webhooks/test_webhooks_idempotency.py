"""`POST /webhooks` under an `Idempotency-Key`: a retry gets the first answer (its signing
secret included, kept as the webhook's row keeps it) and creates nothing."""

from __future__ import annotations

import uuid
from typing import Any

REPLAYED = "idempotent-replayed"
BODY = {"url": "https://hooks.example.com/x", "events": ["task.created"]}


def keyed(who: Any, key: str) -> dict[str, str]:
    return {**who.auth, "Idempotency-Key": f'"{key}"'}


async def hook_count(api: Any, who: Any) -> int:
    response = await api.get(who, "/webhooks")
    assert response.status_code == 200, response.text
    return len(response.json())


async def test_a_retry_gets_the_first_answer_and_creates_nothing(api: Any) -> None:
    alice = await api.user()
    headers = keyed(alice, str(uuid.uuid4()))
    first = await api.client.post("/webhooks", json=BODY, headers=headers)
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    again = await api.client.post("/webhooks", json=BODY, headers=headers)
    assert again.status_code == 201, again.text
    assert again.headers[REPLAYED] == "true"
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert first.headers["location"] == f"/webhooks/{first.json()['id']}"
    assert await hook_count(api, alice) == 1


async def test_another_body_is_refused_keys_are_per_user_and_no_key_creates(api: Any) -> None:
    alice, bob = await api.user(), await api.user()
    assert (await api.client.post("/webhooks", json=BODY, headers=keyed(alice, "k"))).is_success
    other = await api.client.post(
        "/webhooks", json={**BODY, "description": "other"}, headers=keyed(alice, "k")
    )
    assert other.status_code == 422, other.text
    assert other.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    theirs = await api.client.post("/webhooks", json=BODY, headers=keyed(bob, "k"))
    assert theirs.status_code == 201
    assert REPLAYED not in theirs.headers
    for _ in range(2):
        plain = await api.client.post("/webhooks", json=BODY, headers=alice.auth)
        assert plain.status_code == 201
        assert REPLAYED not in plain.headers
    assert await hook_count(api, alice) == 3
    assert await hook_count(api, bob) == 1
