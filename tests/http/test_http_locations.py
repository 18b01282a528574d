"""Every 201 names what it created in `Location` (#16 item 5), and that URL answers the creator.

A comment and a share have no URL of their own, so theirs is the list that holds them.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.every_backend


def location_of(response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    url: str = response.headers["location"]
    return url


async def test_register_points_at_the_profile_the_new_account_reads(api: Any) -> None:
    username = f"loc_{uuid.uuid4().hex[:12]}"
    response = await api.client.post(
        "/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": "pw-12345678"},
    )
    assert location_of(response) == "/users/me"
    token = await api.login(username, "pw-12345678")
    profile = await api.client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert profile.status_code == 200
    assert profile.json()["id"] == response.json()["id"]


async def test_created_task_is_at_its_location(api: Any) -> None:
    owner = await api.user()
    response = await api.client.post("/tasks", json={"title": "Write"}, headers=owner.auth)
    task = response.json()
    assert location_of(response) == f"/tasks/{task['id']}"
    fetched = await api.get(owner, location_of(response))
    assert fetched.status_code == 200
    assert fetched.json() == task


async def test_uploaded_file_downloads_from_its_location(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    response = await api.client.post(
        f"/tasks/{task['id']}/files",
        files={"file": ("note.txt", b"hello there", "text/plain")},
        headers=owner.auth,
    )
    assert location_of(response) == f"/files/{response.json()['id']}"
    download = await api.get(owner, location_of(response))
    assert download.status_code == 200
    assert download.content == b"hello there"


async def test_comment_is_in_the_list_at_its_location(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    response = await api.client.post(
        f"/tasks/{task['id']}/comments", json={"content": "looks good"}, headers=owner.auth
    )
    assert location_of(response) == f"/tasks/{task['id']}/comments"
    listed = await api.get(owner, location_of(response))
    assert listed.status_code == 200
    assert response.json() in listed.json()


async def test_share_is_in_the_list_at_its_location(api: Any) -> None:
    owner = await api.user()
    friend = await api.user()
    task = await api.task(owner)
    response = await api.client.post(
        f"/tasks/{task['id']}/share",
        json={"shared_with_username": friend.username, "permission": "edit"},
        headers=owner.auth,
    )
    assert location_of(response) == f"/tasks/{task['id']}/shares"
    listed = await api.get(owner, location_of(response))
    assert listed.status_code == 200
    assert listed.json() == [response.json()]


async def test_answers_that_create_nothing_carry_no_location(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    tagged = await api.client.post(f"/tasks/{task['id']}/tags", json=["x"], headers=owner.auth)
    assert tagged.status_code == 200
    assert "location" not in tagged.headers
    refused = await api.client.post("/tasks", json={"title": ""}, headers=owner.auth)
    assert refused.status_code == 422
    assert "location" not in refused.headers
