"""Notification preferences, e-mail verification and event e-mails (§3.7, §5, §8.1, D15, D16)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

PREFERENCE_KEYS = [
    "user_id",
    "email_verified",
    "email_enabled",
    "task_shared_with_me",
    "task_completed",
    "comment_on_my_task",
    "task_due_soon",
    "updated_at",
]
SUBSCRIBED = (
    "You are now subscribed to notifications. You will receive emails based on your preferences."
)


async def preferences(api: Any, who: Any) -> dict[str, Any]:
    response = await api.get(who, "/notifications/preferences")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert list(body) == PREFERENCE_KEYS
    return body


async def patch_preferences(api: Any, who: Any, body: Any) -> httpx.Response:
    response: httpx.Response = await api.client.patch(
        "/notifications/preferences", json=body, headers=who.auth
    )
    return response


# --------------------------------------------------------------------------- preferences


async def test_preferences_created_with_defaults(api: Any) -> None:
    account = await api.user()
    assert await preferences(api, account) == {
        "user_id": account.id,
        "email_verified": False,
        "email_enabled": True,
        "task_shared_with_me": True,
        "task_completed": False,
        "comment_on_my_task": True,
        "task_due_soon": True,
        "updated_at": None,
    }


async def test_patch_preferences_ignores_unknown_keys(api: Any) -> None:
    account = await api.user()
    current = await preferences(api, account)
    # The new client sends back the whole object it read, with one flag toggled.
    sent = {
        **current,
        "task_completed": True,
        "email_verified": True,
        "user_id": 1,
        "updated_at": "2020-01-01T00:00:00Z",
        "is_admin": True,
    }
    response = await patch_preferences(api, account, sent)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == PREFERENCE_KEYS
    assert body["task_completed"] is True
    assert body["email_verified"] is False
    assert body["user_id"] == account.id
    assert body["updated_at"] is not None
    assert body["updated_at"].endswith("Z")
    assert await preferences(api, account) == body
    assert (await api.get(account, "/users/me")).json()["email_verified"] is False


async def test_patch_preferences_empty_and_unchanged(api: Any) -> None:
    account = await api.user()
    # The row is created on first use, also by PATCH.
    response = await patch_preferences(api, account, {})
    assert response.status_code == 200
    assert response.json()["updated_at"] is None
    same = await patch_preferences(api, account, {"email_enabled": True})
    assert same.status_code == 200
    assert same.json()["updated_at"] is None
    changed = await patch_preferences(
        api,
        account,
        {
            "email_enabled": False,
            "comment_on_my_task": False,
            "task_due_soon": False,
            "task_shared_with_me": False,
        },
    )
    body = changed.json()
    assert (
        body["email_enabled"],
        body["comment_on_my_task"],
        body["task_due_soon"],
        body["task_shared_with_me"],
    ) == (False, False, False, False)


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"email_enabled": None}, ["body", "email_enabled"], None),
        ({"task_completed": "maybe"}, ["body", "task_completed"], "bool_parsing"),
        ({"task_due_soon": [True]}, ["body", "task_due_soon"], "bool_type"),
        ([True], ["body"], "model_attributes_type"),
    ],
)
async def test_patch_preferences_validation(
    api: Any, body: Any, loc: list[str], kind: str | None
) -> None:
    account = await api.user()
    before = await preferences(api, account)
    response = await patch_preferences(api, account, body)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["loc"] for e in errors] == [loc]
    if kind is not None:
        assert errors[0]["type"] == kind
    assert await preferences(api, account) == before


async def test_subscribe_is_a_no_op(api: Any) -> None:
    account = await api.user()
    response = await api.client.post("/notifications/subscribe", headers=account.auth)
    assert response.status_code == 200
    assert response.json() == {"message": SUBSCRIBED, "email": account.email}


async def test_notification_routes_need_auth(anon: httpx.AsyncClient) -> None:
    for method, path in (
        ("GET", "/notifications/preferences"),
        ("PATCH", "/notifications/preferences"),
        ("POST", "/notifications/subscribe"),
        ("POST", "/notifications/send-verification"),
    ):
        response = await anon.request(method, path, json={})
        assert response.status_code == 401, path
        assert response.json() == {"detail": "Not authenticated"}


# --------------------------------------------------------------------------- verification


async def test_send_verification_and_verify_by_post(
    api: Any, mail: Any, anon: httpx.AsyncClient, kit: Any
) -> None:
    account = await api.user()
    response = await api.client.post("/notifications/send-verification", headers=account.auth)
    assert response.status_code == 200
    assert response.json() == {
        "message": "Verification email sent",
        "email": account.email,
        "expires_in": "24 hours",
    }
    messages = await mail.to(account.email)
    assert [m["subject"] for m in messages] == ["Verify your FAROS email address"]
    assert f"{kit.frontend}/verify?token=" in messages[0]["text"]
    assert account.username in messages[0]["html"]
    token = await mail.token_for(account.email, "/verify")
    assert len(token) == 43

    verified = await anon.post("/notifications/verify", json={"token": token})
    assert verified.status_code == 200
    assert verified.json() == {
        "message": "Email verified successfully",
        "username": account.username,
    }
    assert (await api.get(account, "/users/me")).json()["email_verified"] is True
    prefs = await preferences(api, account)
    assert prefs["email_verified"] is True
    again = await anon.post("/notifications/verify", json={"token": token})
    assert again.status_code == 400
    assert again.json() == {"detail": "Invalid or expired verification token"}


async def test_new_verification_replaces_the_old_token(api: Any, mail: Any) -> None:
    account = await api.user()
    await api.client.post("/notifications/send-verification", headers=account.auth)
    first = await mail.token_for(account.email, "/verify")
    await api.client.post("/notifications/send-verification", headers=account.auth)
    second = await mail.token_for(account.email, "/verify")
    assert first != second
    stale = await api.client.post("/notifications/verify", json={"token": first})
    assert stale.status_code == 400
    assert (
        await api.client.post("/notifications/verify", json={"token": second})
    ).status_code == 200


@pytest.mark.postgres
async def test_verify_errors(api: Any, mail: Any, engine: AsyncEngine) -> None:
    unknown = await api.client.post("/notifications/verify", json={"token": "nope" * 10})
    assert unknown.status_code == 400
    assert unknown.json() == {"detail": "Invalid or expired verification token"}
    missing = await api.client.post("/notifications/verify")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["body"]
    no_token = await api.client.post("/notifications/verify", json={})
    assert no_token.status_code == 422
    assert no_token.json()["errors"][0]["loc"] == ["body", "token"]

    account = await api.user()
    await api.client.post("/notifications/send-verification", headers=account.auth)
    token = await mail.token_for(account.email, "/verify")
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE faros.users SET verification_expires = now() - interval '1 second' "
                "WHERE id = :id"
            ),
            {"id": account.id},
        )
    expired = await api.client.post("/notifications/verify", json={"token": token})
    assert expired.status_code == 400
    assert expired.json() == {"detail": "Verification link has expired. Please request a new one."}
    assert (await api.get(account, "/users/me")).json()["email_verified"] is False


async def test_verify_link_redirects(
    api: Any, mail: Any, anon: httpx.AsyncClient, kit: Any
) -> None:
    account = await api.user()
    await api.client.post("/notifications/send-verification", headers=account.auth)
    token = await mail.token_for(account.email, "/verify")
    response = await anon.get("/notifications/verify", params={"token": token})
    assert response.status_code == 302
    assert response.headers["location"] == (
        f"{kit.frontend}/login?emailVerified=true&username={quote(account.username, safe='')}"
    )
    assert response.content == b""
    assert (await api.get(account, "/users/me")).json()["email_verified"] is True
    # Used up: the second visit is a failure redirect (D16).
    again = await anon.get("/notifications/verify", params={"token": token})
    assert again.status_code == 302
    assert again.headers["location"] == (
        f"{kit.frontend}/login?emailVerified=false&error=invalid_or_expired"
    )
    garbage = await anon.get("/notifications/verify", params={"token": "garbage"})
    assert garbage.status_code == 302
    assert garbage.headers["location"].endswith("emailVerified=false&error=invalid_or_expired")
    missing = await anon.get("/notifications/verify")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["query", "token"]


# --------------------------------------------------------------------------- event e-mails


async def test_share_mail_only_to_verified_recipients(api: Any, mail: Any) -> None:
    owner = await api.user()
    unverified = await api.user()
    verified = await api.user()
    await api.verify_email(verified, mail)
    task = await api.task(owner, title="Groceries")
    await api.share(owner, task["id"], unverified)
    await api.share(owner, task["id"], verified, "edit")
    assert await mail.subjects(unverified.email) == []
    subjects = await mail.subjects(verified.email)
    assert subjects == ["Verify your FAROS email address", "Task Shared: Groceries"]
    message = (await mail.to(verified.email))[-1]
    assert owner.username in message["text"]
    assert "Groceries" in message["text"]
    assert "edit" in message["text"]
    assert "http://localhost:5173/tasks" in message["text"]


@pytest.mark.parametrize("switch", ["email_enabled", "task_shared_with_me"])
async def test_share_mail_respects_preferences(api: Any, mail: Any, switch: str) -> None:
    owner = await api.user()
    recipient = await api.user()
    await api.verify_email(recipient, mail)
    await patch_preferences(api, recipient, {switch: False})
    task = await api.task(owner)
    await api.share(owner, task["id"], recipient)
    assert await mail.subjects(recipient.email) == ["Verify your FAROS email address"]


async def test_comment_mail_to_owner_from_others_only(api: Any, mail: Any) -> None:
    owner = await api.user()
    viewer = await api.user()
    await api.verify_email(owner, mail)
    task = await api.task(owner, title="Essay")
    await api.share(owner, task["id"], viewer, "view")
    await api.comment(owner, task["id"], "my own note")
    long_comment = "y" * 150
    await api.comment(viewer, task["id"], long_comment)
    subjects = await mail.subjects(owner.email)
    assert subjects == ["Verify your FAROS email address", "New Comment: Essay"]
    message = (await mail.to(owner.email))[-1]
    assert viewer.username in message["text"]
    assert "y" * 97 + "..." in message["text"]
    assert "y" * 98 not in message["text"]
    # Switched off: nothing more.
    await patch_preferences(api, owner, {"comment_on_my_task": False})
    await api.comment(viewer, task["id"], "again")
    assert len(await mail.subjects(owner.email)) == 2


async def test_completion_mail_needs_the_flag_and_another_actor(api: Any, mail: Any) -> None:
    owner = await api.user()
    editor = await api.user()
    await api.verify_email(owner, mail)
    first = await api.task(owner, title="Default off")
    await api.share(owner, first["id"], editor, "edit")
    await api.client.patch(f"/tasks/{first['id']}", json={"completed": True}, headers=editor.auth)
    assert await mail.subjects(owner.email) == ["Verify your FAROS email address"]

    await patch_preferences(api, owner, {"task_completed": True})
    second = await api.task(owner, title="Now on")
    await api.share(owner, second["id"], editor, "edit")
    own = await api.task(owner, title="Mine")
    await api.client.patch(f"/tasks/{own['id']}", json={"completed": True}, headers=owner.auth)
    await api.client.patch(f"/tasks/{second['id']}", json={"completed": True}, headers=editor.auth)
    # Completing an already completed task is no completion.
    await api.client.patch(f"/tasks/{second['id']}", json={"completed": True}, headers=editor.auth)
    assert await mail.subjects(owner.email) == [
        "Verify your FAROS email address",
        "Task Completed: Now on",
    ]
    message = (await mail.to(owner.email))[-1]
    assert editor.username in message["text"]

    # D15: a bulk completion by a collaborator follows the same rule.
    third = await api.task(owner, title="Bulk done")
    await api.share(owner, third["id"], editor, "edit")
    response = await api.client.patch(
        "/tasks/bulk",
        json={"task_ids": [third["id"]], "updates": {"completed": True}},
        headers=editor.auth,
    )
    assert response.status_code == 200
    assert (await mail.subjects(owner.email))[-1] == "Task Completed: Bulk done"


async def test_event_mails_are_delivered_by_the_worker(
    api: Any, mail: Any, container: Any, outbox_dir: Any, kit: Any
) -> None:
    owner = await api.user()
    recipient = await api.user()
    await api.verify_email(recipient, mail)
    task = await api.task(owner, title="Delivered")
    await api.share(owner, task["id"], recipient)
    while await container.outbox.run_once():
        pass
    subjects = sorted(
        message["Subject"]
        for message in (kit.read_eml(path) for path in outbox_dir.glob("*.eml"))
        if message["To"] == recipient.email
    )
    assert subjects == ["Task Shared: Delivered", "Verify your FAROS email address"]
