"""What a user does with the e-mails FAROS sends, against the `make run` set-up: `faros serve`
as a real process with its in-process outbox worker and the outbox-dir sender, the links read
from the `.eml` files it writes. The due-soon reminder comes from a `faros worker` started next
to the server (it runs the reminder job when it starts).

Rate limits stay on: each user's client comes through a trusted proxy (127.0.0.1) with an
address of its own, as users behind a load balancer do.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import itertools
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from email_receivers import free_port
from outbox_kit import eventually
from process_kit import FRONTEND, FarosProcess, faros_env, running
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.engine import create_engine

pytestmark = [pytest.mark.postgres, pytest.mark.system, pytest.mark.slow]

PASSWORD = "correct-horse-1"
_addresses = itertools.count(1)


@dataclass
class Server:
    url: str
    engine: AsyncEngine
    data_dir: Path
    env: dict[str, str]
    folder: Path
    process: FarosProcess


@pytest.fixture(scope="module")
def module_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mail-flows")


@pytest.fixture(scope="module")
async def server(database_factory: Any, module_folder: Path) -> AsyncIterator[Server]:
    database_url: str = await database_factory.create()
    port = free_port()
    data_dir = module_folder / "data"
    env = faros_env(
        database_url, data_dir, host="127.0.0.1", port=str(port), trusted_proxies="127.0.0.1"
    )
    engine = create_engine(database_url, pool_size=2)
    with running("serve", env, module_folder, "server") as process:
        base = f"http://127.0.0.1:{port}"

        async def healthy() -> bool:
            assert process.process.poll() is None, process.output()
            try:
                async with httpx.AsyncClient(base_url=base) as client:
                    return (await client.get("/health")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(healthy, within=120, what="faros serve to answer")
        yield Server(base, engine, data_dir, env, module_folder, process)
        # uvicorn shuts down cleanly on SIGTERM, then ends by that same signal.
        assert process.stop() in (0, -signal.SIGTERM)
    await engine.dispose()
    log = process.output()
    assert "Application shutdown complete." in log, log
    assert "Traceback" not in log, log
    assert " ERROR " not in log, log


@dataclass
class User:
    client: httpx.AsyncClient
    username: str
    email: str
    token: str = ""
    password: str = PASSWORD

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Mailbox:
    """The .eml files the server writes, read as a mail client would."""

    folder: Path
    seen: set[Path] = field(default_factory=set)

    def messages(self) -> Iterator[tuple[Path, email.message.EmailMessage]]:
        for path in sorted(self.folder.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, email.message.EmailMessage)
            yield path, message

    async def next(self, to: str, subject: str) -> email.message.EmailMessage:
        """The first not yet read e-mail to `to` with `subject`, waiting for it to arrive."""
        found: list[email.message.EmailMessage] = []

        async def arrived() -> bool:
            for path, message in self.messages():
                if path not in self.seen and message["To"] == to and message["Subject"] == subject:
                    self.seen.add(path)
                    found.append(message)
                    return True
            return False

        await eventually(arrived, what=f"{subject!r} to {to}")
        return found[0]


def parts(message: email.message.EmailMessage) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert html is not None
    return plain.get_content(), html.get_content()


def link_token(message: email.message.EmailMessage, path: str) -> str:
    """The token of the `<frontend><path>?token=` link; the text and HTML parts must agree."""
    plain, html = parts(message)
    found = re.search(re.escape(f"{FRONTEND}{path}?token=") + r"([A-Za-z0-9_\-%.~]+)", plain)
    assert found is not None, plain
    assert f'href="{FRONTEND}{path}?token={found.group(1)}"' in html
    return unquote(found.group(1))


@pytest.fixture
def mailbox(server: Server) -> Mailbox:
    return Mailbox(server.data_dir / "outbox")


@pytest.fixture
async def clients(server: Server) -> AsyncIterator[list[httpx.AsyncClient]]:
    opened: list[httpx.AsyncClient] = []
    yield opened
    for client in opened:
        await client.aclose()


@pytest.fixture
def new_user(server: Server, clients: list[httpx.AsyncClient]) -> Any:
    async def make(prefix: str = "u") -> User:
        # Each user behind the proxy from an address of its own (no traffic goes there).
        client = httpx.AsyncClient(
            base_url=server.url, headers={"X-Forwarded-For": f"198.51.100.{next(_addresses)}"}
        )
        clients.append(client)
        username = f"{prefix}_{uuid.uuid4().hex[:10]}"
        user = User(client, username, f"{username}@example.com")
        response = await client.post(
            "/auth/register",
            json={"username": username, "email": user.email, "password": PASSWORD},
        )
        assert response.status_code == 201, response.text
        user.token = await login(user)
        return user

    return make


async def login(user: User, password: str = PASSWORD) -> str:
    response = await user.client.post(
        "/auth/login", json={"username": user.username, "password": password}
    )
    assert response.status_code == 200, response.text
    user.client.cookies.clear()  # bearer only: the tests choose the transport
    token: str = response.json()["access_token"]
    return token


async def verify(user: User, mailbox: Mailbox) -> None:
    """Subscribe and verify through the e-mail, as the frontend's /verify page does."""
    response = await user.client.post("/notifications/send-verification", headers=user.auth)
    assert response.status_code == 200, response.text
    message = await mailbox.next(user.email, "Verify your FAROS email address")
    response = await user.client.post(
        "/notifications/verify", json={"token": link_token(message, "/verify")}
    )
    assert response.json() == {"message": "Email verified successfully", "username": user.username}


async def queued_to(server: Server, address: str) -> list[str]:
    """Subjects of every e-mail ever queued to `address` (the outbox keeps them all)."""
    async with server.engine.connect() as connection:
        result = await connection.execute(
            text("SELECT payload->>'subject' FROM faros.outbox WHERE payload->>'to' = :to"),
            {"to": address},
        )
        return sorted(row[0] for row in result)


async def test_subscribe_then_verify_with_the_link_from_the_email(
    new_user: Any, mailbox: Mailbox
) -> None:
    alice: User = await new_user("alice")
    subscribed = await alice.client.post("/notifications/subscribe", headers=alice.auth)
    assert subscribed.json() == {
        "message": "You are now subscribed to notifications. You will receive emails based on "
        "your preferences.",
        "email": alice.email,
    }
    sent = await alice.client.post("/notifications/send-verification", headers=alice.auth)
    assert sent.json() == {
        "message": "Verification email sent", "email": alice.email, "expires_in": "24 hours",
    }  # fmt: skip
    message = await mailbox.next(alice.email, "Verify your FAROS email address")
    plain, _html = parts(message)
    assert f"Hi {alice.username}," in plain
    assert "The link expires in 24 hours." in plain
    token = link_token(message, "/verify")

    preferences = await alice.client.get("/notifications/preferences", headers=alice.auth)
    assert preferences.json()["email_verified"] is False
    verified = await alice.client.post("/notifications/verify", json={"token": token})
    assert (verified.status_code, verified.json()) == (
        200, {"message": "Email verified successfully", "username": alice.username},
    )  # fmt: skip
    preferences = await alice.client.get("/notifications/preferences", headers=alice.auth)
    assert preferences.json()["email_verified"] is True
    # The link is single use.
    again = await alice.client.post("/notifications/verify", json={"token": token})
    assert again.status_code == 400


async def test_the_old_get_link_redirects_both_ways(new_user: Any, mailbox: Mailbox) -> None:
    bob: User = await new_user("bob")
    await bob.client.post("/notifications/send-verification", headers=bob.auth)
    token = link_token(await mailbox.next(bob.email, "Verify your FAROS email address"), "/verify")
    first = await bob.client.get("/notifications/verify", params={"token": token})
    assert first.status_code == 302
    assert first.headers["location"] == (
        f"{FRONTEND}/login?emailVerified=true&username={bob.username}"
    )
    second = await bob.client.get("/notifications/verify", params={"token": token})
    assert second.status_code == 302
    assert second.headers["location"] == (
        f"{FRONTEND}/login?emailVerified=false&error=invalid_or_expired"
    )


async def test_reset_a_forgotten_password_with_the_link_from_the_email(
    new_user: Any, mailbox: Mailbox
) -> None:
    carol: User = await new_user("carol")
    stranger: User = await new_user("stranger")  # (one reset request a minute per address)
    old_token = carol.token
    generic = {"message": "If email exists, password reset sent"}
    unknown = await stranger.client.post(
        "/auth/password-reset/request", json={"email": f"nobody-{uuid.uuid4().hex}@example.com"}
    )
    assert (unknown.status_code, unknown.json()) == (200, generic)
    known = await carol.client.post("/auth/password-reset/request", json={"email": carol.email})
    assert (known.status_code, known.json()) == (200, generic)

    message = await mailbox.next(carol.email, "Reset your FAROS password")
    plain, _html = parts(message)
    assert "The link expires in 30 minutes." in plain
    token = link_token(message, "/password-reset")
    reset = await carol.client.post(
        "/auth/password-reset/verify", json={"token": token, "new_password": "brand-new-pass-2"}
    )
    assert reset.status_code == 200, reset.text

    me = await carol.client.get("/users/me", headers={"Authorization": f"Bearer {old_token}"})
    assert me.status_code == 401  # every earlier token is void (D3)
    wrong = await carol.client.post(
        "/auth/login", json={"username": carol.username, "password": PASSWORD}
    )
    assert wrong.status_code == 401
    carol.token = await login(carol, "brand-new-pass-2")
    me = await carol.client.get("/users/me", headers=carol.auth)
    assert (me.status_code, me.json()["username"]) == (200, carol.username)
    replay = await carol.client.post(
        "/auth/password-reset/verify", json={"token": token, "new_password": "another-pass-3"}
    )
    assert replay.status_code == 400  # single use


async def test_each_event_notification_arrives_as_the_preferences_allow(
    server: Server, new_user: Any, mailbox: Mailbox
) -> None:
    owner: User = await new_user("owner")
    guest: User = await new_user("guest")
    unverified: User = await new_user("unverified")
    await verify(owner, mailbox)
    await verify(guest, mailbox)
    created = await owner.client.post(
        "/tasks", json={"title": "Ship <v2> & party"}, headers=owner.auth
    )
    task_id = created.json()["id"]

    for who, permission in ((guest, "edit"), (unverified, "edit")):
        shared = await owner.client.post(
            f"/tasks/{task_id}/share",
            json={"shared_with_username": who.username, "permission": permission},
            headers=owner.auth,
        )
        assert shared.status_code == 201, shared.text
    message = await mailbox.next(guest.email, "Task Shared: Ship <v2> & party")
    plain, html = parts(message)
    assert f'{owner.username} shared the task "Ship <v2> & party" with you (edit access).' in plain
    assert f"{FRONTEND}/tasks" in plain
    assert "Ship &lt;v2&gt; &amp; party" in html
    assert "<v2>" not in html

    comment = await guest.client.post(
        f"/tasks/{task_id}/comments", json={"content": "On it <b>now</b>"}, headers=guest.auth
    )
    assert comment.status_code == 201, comment.text
    message = await mailbox.next(owner.email, "New Comment: Ship <v2> & party")
    plain, html = parts(message)
    assert "On it <b>now</b>" in plain
    assert "On it &lt;b&gt;now&lt;/b&gt;" in html

    # task_completed is off by default: completing sends nothing until the owner turns it on.
    second = await owner.client.post("/tasks", json={"title": "Second"}, headers=owner.auth)
    second_id = second.json()["id"]
    await owner.client.post(
        f"/tasks/{second_id}/share",
        json={"shared_with_username": guest.username, "permission": "edit"},
        headers=owner.auth,
    )
    done = await guest.client.patch(
        f"/tasks/{second_id}", json={"completed": True}, headers=guest.auth
    )
    assert done.status_code == 200, done.text
    assert "Task Completed: Second" not in await queued_to(server, owner.email)
    turned_on = await owner.client.patch(
        "/notifications/preferences", json={"task_completed": True}, headers=owner.auth
    )
    assert turned_on.json()["task_completed"] is True
    done = await guest.client.patch(
        f"/tasks/{task_id}", json={"completed": True}, headers=guest.auth
    )
    assert done.status_code == 200, done.text
    message = await mailbox.next(owner.email, "Task Completed: Ship <v2> & party")
    plain, _html = parts(message)
    assert f'{guest.username} marked your task "Ship <v2> & party" as completed.' in plain

    # Nothing was ever queued to the address nobody verified.
    assert await queued_to(server, unverified.email) == []


async def test_due_soon_reminders_from_a_worker_process_next_to_the_server(
    server: Server, new_user: Any, mailbox: Mailbox
) -> None:
    owner: User = await new_user("owner")
    editor: User = await new_user("editor")
    viewer: User = await new_user("viewer")
    for who in (owner, editor, viewer):
        await verify(who, mailbox)
    today = datetime.now(UTC).date().isoformat()
    created = await owner.client.post(
        "/tasks", json={"title": "Due <today>", "due_date": today}, headers=owner.auth
    )
    assert created.status_code == 201, created.text
    for who, permission in ((editor, "edit"), (viewer, "view")):
        await owner.client.post(
            f"/tasks/{created.json()['id']}/share",
            json={"shared_with_username": who.username, "permission": permission},
            headers=owner.auth,
        )

    with running("worker", server.env, server.folder, f"worker-{time.monotonic_ns()}") as worker:
        for who in (owner, editor):
            message = await mailbox.next(who.email, "Task Due Soon: Due <today>")
            plain, html = parts(message)
            assert f'The task "Due <today>" is due on {today}.' in plain
            assert "Due &lt;today&gt;" in html
        assert worker.stop() == 0, worker.output()
    assert "Task Due Soon: Due <today>" not in await queued_to(server, viewer.email)
    assert (await queued_to(server, owner.email)).count("Task Due Soon: Due <today>") == 1
