"""Webhooks over HTTP: management, events signed and delivered to a real receiver, retries,
permissions checked when an event is emitted, disabling after failures."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook as Verifier

ALL_EVENTS = [
    "task.created",
    "task.updated",
    "task.completed",
    "task.deleted",
    "comment.created",
    "share.created",
    "share.removed",
    "file.uploaded",
]


async def _hook(api: Any, who: Any, url: str, events: list[str] | None = None) -> dict[str, Any]:
    response = await api.client.post(
        "/webhooks", json={"url": url, "events": events or ALL_EVENTS}, headers=who.auth
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _events(receiver: Any, secret: str) -> list[dict[str, Any]]:
    """Every request the receiver got, each verified with the Standard Webhooks package."""
    verifier = Verifier(secret)
    return [verifier.verify(request.body, request.headers) for request in receiver.requests]


async def test_create_list_read_change_delete(api: Any) -> None:
    alice = await api.user()
    response = await api.client.post(
        "/webhooks",
        json={"url": "https://hooks.example.com/x", "events": ["task.created"], "description": "d"},
        headers=alice.auth,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/webhooks/{created['id']}"
    assert created["secret"].startswith("whsec_")
    assert created["enabled"] is True
    assert created["events"] == ["task.created"]

    listed = (await api.get(alice, "/webhooks")).json()
    assert [hook["id"] for hook in listed] == [created["id"]]
    assert "secret" not in listed[0]
    read = await api.get(alice, f"/webhooks/{created['id']}")
    assert read.status_code == 200
    assert "secret" not in read.json()

    changed = await api.client.patch(
        f"/webhooks/{created['id']}",
        json={"events": ["task.deleted", "task.deleted"], "enabled": False},
        headers=alice.auth,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["events"] == ["task.deleted"]
    assert changed.json()["enabled"] is False

    empty = await api.client.patch(f"/webhooks/{created['id']}", json={}, headers=alice.auth)
    assert empty.status_code == 400
    assert empty.json() == {"detail": "No fields provided for update"}

    deleted = await api.client.delete(f"/webhooks/{created['id']}", headers=alice.auth)
    assert deleted.status_code == 204
    assert (await api.get(alice, f"/webhooks/{created['id']}")).status_code == 404


async def test_only_the_owner_sees_a_webhook(api: Any) -> None:
    alice, mallory = await api.user(), await api.user()
    hook = await _hook(api, alice, "https://hooks.example.com/a")
    base = f"/webhooks/{hook['id']}"
    client, auth = api.client, mallory.auth
    answers = [
        await client.get(base, headers=auth),
        await client.patch(base, json={"enabled": False}, headers=auth),
        await client.get(f"{base}/deliveries", headers=auth),
        await client.post(f"{base}/ping", headers=auth),
        await client.post(f"{base}/deliveries/1/redeliver", headers=auth),
        await client.delete(base, headers=auth),
    ]
    assert [answer.status_code for answer in answers] == [404] * 6
    assert (await api.get(mallory, "/webhooks")).json() == []
    assert (await api.get(alice, base)).json()["enabled"] is True


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"url": "https://x.example/h", "events": []}, ["body", "events"]),
        ({"url": "https://x.example/h", "events": ["task.exploded"]}, ["body", "events", 0]),
        ({"url": "ftp://x.example/h", "events": ["task.created"]}, ["body", "url"]),
        ({"url": "https://u:p@x.example/h", "events": ["task.created"]}, ["body", "url"]),
        ({"events": ["task.created"]}, ["body", "url"]),
    ],
)
async def test_invalid_webhooks_are_422(api: Any, body: dict[str, Any], where: list[Any]) -> None:
    alice = await api.user()
    response = await api.client.post("/webhooks", json=body, headers=alice.auth)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == where


async def test_task_events_are_signed_and_carry_what_get_answers(
    api: Any, receiver: Any, outbox: Any
) -> None:
    alice = await api.user()
    hook = await _hook(api, alice, receiver.url)
    task = await api.task(alice, title="Report")
    await api.comment(alice, task["id"], "first")
    done = await api.client.patch(
        f"/tasks/{task['id']}", json={"completed": True}, headers=alice.auth
    )
    assert done.status_code == 200
    await outbox()

    events = _events(receiver, hook["secret"])
    types = [event["type"] for event in events]
    assert sorted(types) == sorted(
        ["task.created", "comment.created", "task.updated", "task.completed"]
    )
    for request in receiver.requests:
        assert request.method == "POST"
        assert request.path == "/hook"
        assert request.headers["webhook-signature"].startswith("v1,")
        assert request.headers["content-type"] == "application/json"
    by_type = {event["type"]: event for event in events}
    assert by_type["task.created"]["data"] == task
    now = (await api.get(alice, f"/tasks/{task['id']}")).json()
    assert by_type["task.completed"]["data"] == now
    assert by_type["comment.created"]["data"]["content"] == "first"
    assert len({event["id"] for event in events}) == 4

    deliveries = (await api.get(alice, f"/webhooks/{hook['id']}/deliveries")).json()
    assert len(deliveries) == 4
    assert {d["status"] for d in deliveries} == {"succeeded"}
    assert {d["response_code"] for d in deliveries} == {200}
    assert {d["attempt"] for d in deliveries} == {1}
    assert {d["event"] for d in deliveries} == set(types)


async def test_a_receiver_that_is_down_gets_the_event_once_back(
    api: Any, receiver: Any, outbox: Any, clock: Any
) -> None:
    alice = await api.user()
    hook = await _hook(api, alice, receiver.url, ["task.created"])
    await receiver.stop()
    task = await api.task(alice)
    await outbox()
    deliveries = (await api.get(alice, f"/webhooks/{hook['id']}/deliveries")).json()
    assert [(d["status"], d["attempt"], d["response_code"]) for d in deliveries] == [
        ("failed", 1, None)
    ]
    assert deliveries[0]["error"]

    await receiver.start()  # the same port again
    await outbox()
    assert receiver.requests == []  # not due yet: the backoff holds
    clock.advance(timedelta(seconds=6))
    await outbox()
    events = _events(receiver, hook["secret"])
    assert [event["data"]["id"] for event in events] == [task["id"]]
    deliveries = (await api.get(alice, f"/webhooks/{hook['id']}/deliveries")).json()
    assert [(d["status"], d["attempt"]) for d in deliveries] == [("succeeded", 2), ("failed", 1)]
    assert deliveries[0]["event_id"] == deliveries[1]["event_id"]
    assert (await api.get(alice, f"/webhooks/{hook['id']}")).json()["consecutive_failures"] == 0


async def test_an_error_status_is_retried_and_recorded(
    api: Any, receiver: Any, outbox: Any
) -> None:
    alice = await api.user()
    hook = await _hook(api, alice, receiver.url, ["task.created"])
    receiver.status = 503
    await api.task(alice)
    await outbox()
    deliveries = (await api.get(alice, f"/webhooks/{hook['id']}/deliveries")).json()
    assert [(d["status"], d["response_code"]) for d in deliveries] == [("failed", 503)]
    read = (await api.get(alice, f"/webhooks/{hook['id']}")).json()
    assert read["consecutive_failures"] == 1
    assert read["failing_since"] is not None


async def test_a_removed_share_stops_the_events(api: Any, receiver: Any, outbox: Any) -> None:
    alice, bob = await api.user(), await api.user()
    hook = await _hook(api, bob, receiver.url)
    task = await api.task(alice)
    await api.share(alice, task["id"], bob)
    edit = {"title": "shared edit"}
    assert (
        await api.client.patch(f"/tasks/{task['id']}", json=edit, headers=alice.auth)
    ).status_code == 200
    await api.unshare(alice, task["id"], bob)
    hidden = {"title": "after the share"}
    assert (
        await api.client.patch(f"/tasks/{task['id']}", json=hidden, headers=alice.auth)
    ).status_code == 200
    await api.comment(alice, task["id"], "private")
    await outbox()
    events = _events(receiver, hook["secret"])
    # Delivered concurrently, so in any order; nothing after the share was removed.
    assert sorted(event["type"] for event in events) == [
        "share.created",
        "share.removed",
        "task.updated",
    ]
    titles = [e["data"].get("title") for e in events if e["type"] == "task.updated"]
    assert titles == ["shared edit"]


async def test_files_and_deletes_reach_subscribers(api: Any, receiver: Any, outbox: Any) -> None:
    alice = await api.user()
    hook = await _hook(api, alice, receiver.url, ["file.uploaded", "task.deleted"])
    task = await api.task(alice)
    stored = await api.upload(alice, task["id"])
    assert (await api.client.delete(f"/tasks/{task['id']}", headers=alice.auth)).status_code == 204
    await outbox()
    by_type = {event["type"]: event for event in _events(receiver, hook["secret"])}
    assert by_type["file.uploaded"]["data"] == stored
    assert by_type["task.deleted"]["data"]["id"] == task["id"]


async def test_ping_and_redeliver(api: Any, receiver: Any, outbox: Any) -> None:
    alice = await api.user()
    hook = await _hook(api, alice, receiver.url)
    ping = await api.client.post(f"/webhooks/{hook['id']}/ping", headers=alice.auth)
    assert ping.status_code == 202, ping.text
    await outbox()
    [event] = _events(receiver, hook["secret"])
    assert event["type"] == "webhook.ping"
    assert event["id"] == ping.json()["event_id"]
    [delivery] = (await api.get(alice, f"/webhooks/{hook['id']}/deliveries")).json()
    again = await api.client.post(
        f"/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver", headers=alice.auth
    )
    assert again.status_code == 202, again.text
    await outbox()
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    missing = await api.client.post(
        f"/webhooks/{hook['id']}/deliveries/999999/redeliver", headers=alice.auth
    )
    assert missing.status_code == 404


async def test_a_webhook_failing_for_three_days_is_disabled_and_its_owner_told(
    api: Any, receiver: Any, outbox: Any, clock: Any, container: Any
) -> None:
    alice = await api.user()
    hook = await _hook(api, alice, receiver.url, ["task.created"])
    receiver.status = 500
    await api.task(alice)
    await outbox()
    skipped = timedelta(days=3, seconds=1)
    clock.advance(skipped)
    try:
        alice.token = await api.login(alice.username)  # the first token has expired
        await api.task(alice)
        await outbox()
    finally:
        clock.advance(-skipped)
    alice.token = await api.login(alice.username)
    read = (await api.get(alice, f"/webhooks/{hook['id']}")).json()
    assert read["enabled"] is False
    assert "in a row failed" in read["disabled_reason"]
    mails = list(container.settings.outbox_dir.glob("*"))
    texts = [path.read_text(errors="replace") for path in mails]
    assert any("Webhook disabled" in text and alice.email in text for text in texts)
    # Disabled: new events are no longer queued for it.
    before = len(receiver.requests)
    await api.task(alice)
    await outbox()
    assert len(receiver.requests) == before
    enabled = await api.client.patch(
        f"/webhooks/{hook['id']}", json={"enabled": True}, headers=alice.auth
    )
    assert enabled.json()["enabled"] is True
    assert enabled.json()["consecutive_failures"] == 0
    assert json.loads(json.dumps(enabled.json()))["disabled_reason"] is None


def test_every_webhook_route_is_marked_login_only(app: Any) -> None:
    # The personal-access-token guard reads this flag: tokens may not manage webhooks.
    routes = [route for route in app.routes if route.path.startswith("/webhooks")]
    handlers = [
        handler
        for route in routes
        for handler in route.route_handlers
        if "OPTIONS" not in handler.http_methods  # Litestar's own CORS answers
    ]
    assert len(handlers) == 8
    assert all(handler.opt.get("login_only") is True for handler in handlers)
    others = [r for r in app.routes if r.path.startswith("/tasks")]
    assert not any(h.opt.get("login_only") for r in others for h in r.route_handlers)


async def test_retries_back_off_and_stop_after_a_day(
    api: Any, receiver: Any, outbox: Any, clock: Any
) -> None:
    alice = await api.user()
    hook = await _hook(api, alice, receiver.url, ["task.created"])
    receiver.status = 500
    await api.task(alice)
    await outbox()
    step, steps = timedelta(hours=6), 6
    try:
        for _ in range(steps):  # 36 hours, one due retry per step
            clock.advance(step)
            await outbox()
    finally:
        clock.advance(-step * steps)
    alice.token = await api.login(alice.username)
    deliveries = (await api.get(alice, f"/webhooks/{hook['id']}/deliveries")).json()
    # At 0, 6, 12, 18 and 24 hours; a retry after that would fall outside the day.
    assert [d["attempt"] for d in deliveries] == [5, 4, 3, 2, 1]
    assert {d["status"] for d in deliveries} == {"failed"}
    assert len({d["event_id"] for d in deliveries}) == 1
    assert len(receiver.requests) == 5
    read = (await api.get(alice, f"/webhooks/{hook['id']}")).json()
    assert read["enabled"] is True  # 5 failures within a day: not disabled
    assert read["consecutive_failures"] == 5
