"""Concurrent duplicates (D23): exactly one request wins, the others get the contract's 409.

Shares are unique per (task, user) and users per username and per lower(e-mail); the inserts
use ON CONFLICT DO NOTHING, and the sharing use case also locks the task, so a duplicate that
lost the race answers 409 with the same body a sequential duplicate gets — never a 500.
"""

from __future__ import annotations

import pytest
from race_kit import PASSWORD, ROUNDS, Api, statuses, together, unique

pytestmark = pytest.mark.postgres

CONTENDERS = 5


async def test_concurrent_shares_of_one_task_to_one_user(api: Api) -> None:
    owner = await api.actor("own")
    for _round in range(ROUNDS):
        target = await api.actor("tgt")
        await api.verify_email(target)  # e-mails go to verified addresses only
        title = unique("shared")
        task_id = (await api.task(owner, title=title))["id"]
        answers = await together(
            *(
                api.client.post(
                    f"/tasks/{task_id}/share",
                    json={"shared_with_username": target.username, "permission": permission},
                    headers=owner.auth,
                )
                for permission in ["view", "edit"] * (CONTENDERS // 2) + ["view"]
            )
        )
        assert statuses(answers) == {201: 1, 409: CONTENDERS - 1}
        for answer in answers:
            if answer.status_code == 409:
                assert answer.json() == {"detail": "Task already shared with this user"}
        winner = next(answer.json() for answer in answers if answer.status_code == 201)
        shares = await api.rows(
            "SELECT id, permission FROM faros.task_shares WHERE task_id = :id", id=task_id
        )
        assert [(row.id, row.permission) for row in shares] == [
            (winner["id"], winner["permission"])
        ]
        # Only the winner's side effects were committed: one log entry, one e-mail.
        logged = await api.scalar(
            "SELECT count(*) FROM faros.activity_logs WHERE task_id = :id AND action = 'shared'",
            id=task_id,
        )
        mailed = await api.scalar(
            "SELECT count(*) FROM faros.outbox WHERE kind = 'send_email' "
            "AND payload->>'to' = :to AND payload->>'subject' = :subject",
            to=target.email,
            subject=f"Task Shared: {title}",
        )
        assert (logged, mailed) == (1, 1)


async def test_concurrent_registrations_of_one_username(api: Api) -> None:
    for _round in range(ROUNDS):
        username = unique("dup")
        answers = await together(
            *(
                api.client.post(
                    "/auth/register",
                    json={
                        "username": username,
                        "email": f"{username}.{n}@example.com",
                        "password": PASSWORD,
                    },
                )
                for n in range(CONTENDERS)
            )
        )
        assert statuses(answers) == {201: 1, 409: CONTENDERS - 1}
        for answer in answers:
            if answer.status_code == 409:
                assert answer.json() == {
                    "error": "Duplicate User",
                    "message": f"Username '{username}' is already registered",
                    "field": "username",
                }
        count = await api.scalar("SELECT count(*) FROM faros.users WHERE username = :u", u=username)
        assert count == 1


async def test_concurrent_registrations_of_one_username_in_different_cases(api: Api) -> None:
    """New usernames are unique ignoring case; no unique index says so, a lock does."""
    for _round in range(ROUNDS):
        base = unique("case")  # "case_<hex>": its prefix alone is spelled five ways
        rest = base.removeprefix("case")
        spellings = [prefix + rest for prefix in ("case", "CASE", "Case", "cAse", "caSe")]
        answers = await together(
            *(
                api.client.post(
                    "/auth/register",
                    json={
                        "username": username,
                        "email": f"{unique('m')}@example.com",
                        "password": PASSWORD,
                    },
                )
                for username in spellings
            )
        )
        assert statuses(answers) == {201: 1, 409: CONTENDERS - 1}
        for answer, username in zip(answers, spellings, strict=True):
            if answer.status_code == 409:
                assert answer.json() == {
                    "error": "Duplicate User",
                    "message": f"Username '{username}' is already registered",
                    "field": "username",
                }
        count = await api.scalar(
            "SELECT count(*) FROM faros.users WHERE lower(username) = :u", u=base.lower()
        )
        assert count == 1


async def test_concurrent_registrations_of_one_email_in_different_cases(api: Api) -> None:
    for _round in range(ROUNDS):
        local = unique("mail")
        spellings = [
            f"{local}@example.com",
            f"{local.upper()}@example.com",
            f"{local}@EXAMPLE.COM",
            f"{local.capitalize()}@Example.Com",
            f"{local.upper()}@EXAMPLE.COM",
        ]
        answers = await together(
            *(
                api.client.post(
                    "/auth/register",
                    json={"username": unique("reg"), "email": email, "password": PASSWORD},
                )
                for email in spellings
            )
        )
        assert statuses(answers) == {201: 1, 409: CONTENDERS - 1}
        for answer, email in zip(answers, spellings, strict=True):
            if answer.status_code == 409:
                assert answer.json() == {
                    "error": "Duplicate User",
                    "message": f"Email '{email}' is already registered",
                    "field": "email",
                }
        count = await api.scalar(
            "SELECT count(*) FROM faros.users WHERE lower(email) = :e",
            e=f"{local}@example.com",
        )
        assert count == 1
