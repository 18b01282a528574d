"""Concurrent writes to the same tasks: no 500, no deadlock, no lost update, no orphan row.

Each use case that changes a task locks its row (`SELECT ... FOR UPDATE`) before reading it, and
bulk updates lock their rows in id order; without that, a PATCH of `title` racing a PATCH of
`priority` would write back the stale other field, and two bulk updates locking overlapping
sets in different orders would deadlock (PostgreSQL aborts one: a 500).
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from race_kit import ROUNDS, Actor, Api, statuses, together

pytestmark = pytest.mark.postgres


async def _task_row(api: Api, task_id: int) -> Any:
    rows = await api.rows(
        "SELECT title, description, completed, priority, due_date::text AS due, tags "
        "FROM faros.tasks WHERE id = :id",
        id=task_id,
    )
    return rows[0] if rows else None


async def _owner_and_editor(api: Api) -> tuple[Actor, Actor]:
    return await api.actor("own"), await api.actor("edi")


async def test_concurrent_patches_of_different_fields_lose_no_field(api: Api) -> None:
    owner, editor = await _owner_and_editor(api)
    for _round in range(ROUNDS):
        task = await api.task(
            owner, description="before", priority="low", tags=["old"], completed=False
        )
        task_id = task["id"]
        await api.share(owner, task_id, editor, "edit")
        title = "title " + secrets.token_hex(3)
        description = "description " + secrets.token_hex(3)
        patches: list[tuple[Actor, dict[str, Any]]] = [
            (owner, {"title": title}),
            (editor, {"priority": "high"}),
            (owner, {"tags": ["a", "b"]}),
            (editor, {"description": description}),
            (owner, {"due_date": "2031-01-02"}),
            (editor, {"completed": True}),
        ]
        answers = await together(
            *(
                api.client.patch(f"/tasks/{task_id}", json=body, headers=who.auth)
                for who, body in patches
            )
        )
        assert statuses(answers) == {200: len(patches)}
        # Each answer shows its own change applied (the row it wrote).
        for answer, (_who, body) in zip(answers, patches, strict=True):
            for field, value in body.items():
                assert answer.json()[field] == value
        row = await _task_row(api, task_id)
        assert (row.title, row.description, row.priority, row.tags, row.due, row.completed) == (
            title,
            description,
            "high",
            ["a", "b"],
            "2031-01-02",
            True,
        )
        # One activity entry per PATCH, each naming only the field that request changed.
        changed = await api.rows(
            "SELECT details->'changed_fields' AS fields FROM faros.activity_logs "
            "WHERE task_id = :id AND action = 'updated' AND resource_type = 'task'",
            id=task_id,
        )
        assert sorted(tuple(item.fields) for item in changed) == sorted(
            (next(iter(body)),) for _who, body in patches
        )


async def test_concurrent_tag_adds_and_removal_keep_every_tag(api: Api) -> None:
    owner, editor = await _owner_and_editor(api)
    for _round in range(ROUNDS):
        task = await api.task(owner, tags=["keep", "drop"])
        task_id = task["id"]
        await api.share(owner, task_id, editor, "edit")
        additions = [["a", "b"], ["b", "c"], ["d"], ["a", "e", "keep"], ["f"]]
        calls = [
            api.client.post(f"/tasks/{task_id}/tags", json=tags, headers=who.auth)
            for tags, who in zip(additions, [owner, editor] * 3, strict=False)
        ]
        calls.append(api.client.delete(f"/tasks/{task_id}/tags/drop", headers=editor.auth))
        answers = await together(*calls)
        assert statuses(answers) == {200: len(calls)}
        tags = (await _task_row(api, task_id)).tags
        # Appends keep order per request but requests interleave: compare as a set, and no tag
        # appears twice.
        assert sorted(tags) == ["a", "b", "c", "d", "e", "f", "keep"]


async def test_concurrent_bulk_updates_over_overlapping_sets(api: Api) -> None:
    owner, editor = await _owner_and_editor(api)
    ids = [(await api.task(owner))["id"] for _ in range(6)]
    for task_id in ids:
        await api.share(owner, task_id, editor, "edit")
    t1, t2, t3, t4, t5, t6 = ids
    due = "2030-05-06"
    start = {"priority": "low", "tags": [], "completed": False, "description": None}
    for round_ in range(ROUNDS):
        reset = {**start, "title": f"round {round_}", "due_date": None}
        answer = await api.client.patch(
            "/tasks/bulk", json={"task_ids": ids, "updates": reset}, headers=owner.auth
        )
        assert answer.status_code == 200, answer.text
        # Overlapping sets, listed in clashing orders: locking in request order would deadlock.
        bulks: list[tuple[Actor, list[int], dict[str, Any]]] = [
            (owner, [t1, t2, t3, t4], {"priority": "high"}),
            (editor, [t6, t5, t4, t3], {"tags": ["bulk"]}),
            (owner, [t4, t1, t6], {"completed": True}),
            (editor, [t5, t2], {"description": "bulk description"}),
        ]
        singles: list[tuple[Actor, int, dict[str, Any]]] = [
            (editor, t3, {"title": "single"}),
            (owner, t6, {"due_date": due}),
        ]
        answers = await together(
            *(
                api.client.patch(
                    "/tasks/bulk", json={"task_ids": ids_, "updates": updates}, headers=who.auth
                )
                for who, ids_, updates in bulks
            ),
            *(
                api.client.patch(f"/tasks/{task_id}", json=body, headers=who.auth)
                for who, task_id, body in singles
            ),
        )
        assert statuses(answers) == {200: len(bulks) + len(singles)}
        # Every task ends with every field some request set on it, and nothing else changed.
        expected: dict[int, dict[str, Any]] = {task_id: dict(start) for task_id in ids}
        for _who, ids_, updates in bulks:
            for task_id in ids_:
                expected[task_id].update(updates)
        for task_id in ids:
            row = await _task_row(api, task_id)
            actual = {
                "priority": row.priority,
                "tags": row.tags,
                "completed": row.completed,
                "description": row.description,
            }
            assert actual == expected[task_id], task_id
        titles_and_dues = {
            task_id: ((row := await _task_row(api, task_id)).title, row.due) for task_id in ids
        }
        untouched = (f"round {round_}", None)
        assert titles_and_dues == {
            t1: untouched,
            t2: untouched,
            t3: ("single", None),
            t4: untouched,
            t5: untouched,
            t6: (f"round {round_}", due),
        }


async def test_task_delete_racing_its_comments_shares_and_edits(api: Api) -> None:
    owner, editor = await _owner_and_editor(api)
    third = await api.actor("thi")
    for _round in range(ROUNDS):
        task = await api.task(owner)
        task_id = task["id"]
        await api.share(owner, task_id, editor, "edit")
        comment = await api.comment(editor, task_id, "first")
        answers = await together(
            api.client.delete(f"/tasks/{task_id}", headers=owner.auth),
            api.client.delete(f"/comments/{comment['id']}", headers=editor.auth),
            api.client.patch(
                f"/comments/{comment['id']}", json={"content": "edited"}, headers=editor.auth
            ),
            api.client.post(
                f"/tasks/{task_id}/comments", json={"content": "late"}, headers=editor.auth
            ),
            api.client.post(
                f"/tasks/{task_id}/share",
                json={"shared_with_username": third.username, "permission": "view"},
                headers=owner.auth,
            ),
            api.client.patch(f"/tasks/{task_id}", json={"priority": "high"}, headers=editor.auth),
            api.client.post(f"/tasks/{task_id}/tags", json=["late"], headers=editor.auth),
        )
        delete_task, delete_comment, edit_comment, *task_writes = answers
        assert delete_task.status_code == 204
        # Each other request ran entirely before the delete (its success code) or after it.
        comment_gone = {"detail": "Comment not found"}
        assert delete_comment.status_code in {204, 404}
        if delete_comment.status_code == 404:
            assert delete_comment.json() == comment_gone
        assert edit_comment.status_code in {200, 404}
        if edit_comment.status_code == 404:
            assert edit_comment.json() == comment_gone
        task_gone = {
            "error": "Task Not Found",
            "message": f"Task with ID {task_id} not found",
            "task_id": task_id,
        }
        for answer, success in zip(task_writes, [201, 201, 200, 200], strict=True):
            assert answer.status_code in {success, 404}, answer.text
            if answer.status_code == 404:
                assert answer.json() == task_gone
        # Nothing of the task is left behind, and its deletion is logged exactly once.
        assert await _task_row(api, task_id) is None
        left = await api.scalar(
            "SELECT (SELECT count(*) FROM faros.task_comments WHERE task_id = :id)"
            " + (SELECT count(*) FROM faros.task_shares WHERE task_id = :id)",
            id=task_id,
        )
        assert left == 0
        snapshots = await api.rows(
            "SELECT details FROM faros.activity_logs "
            "WHERE task_id = :id AND action = 'deleted' AND resource_type = 'task'",
            id=task_id,
        )
        assert len(snapshots) == 1
        # A write that succeeded ran before the delete, so the delete's snapshot shows it.
        patch, tags = task_writes[2], task_writes[3]
        snapshot = snapshots[0].details
        assert snapshot["priority"] == ("high" if patch.status_code == 200 else "medium")
        assert snapshot["tags"] == (["late"] if tags.status_code == 200 else [])
        # Every comment write that succeeded is logged; none that failed is.
        logged = await api.rows(
            "SELECT action FROM faros.activity_logs WHERE task_id = :id "
            "AND resource_type = 'comment' AND NOT (action = 'created' AND resource_id = :first)",
            id=task_id,
            first=comment["id"],
        )
        assert sorted(row.action for row in logged) == sorted(
            action
            for action, answer in [
                ("deleted", delete_comment),
                ("updated", edit_comment),
                ("created", task_writes[0]),
            ]
            if answer.is_success
        )


async def test_comment_edit_racing_its_delete(api: Api) -> None:
    owner, editor = await _owner_and_editor(api)
    task = await api.task(owner)
    await api.share(owner, task["id"], editor, "edit")
    for _round in range(ROUNDS):
        comment = await api.comment(editor, task["id"], "draft")
        edit, delete = await together(
            api.client.patch(
                f"/comments/{comment['id']}", json={"content": "final"}, headers=editor.auth
            ),
            api.client.delete(f"/comments/{comment['id']}", headers=owner.auth),
        )
        assert delete.status_code == 204
        # An edit that lost the race answers 404, not a 200 for a comment that is gone: a 200
        # means the edit came first, so the delete saw (and logged) the edited text.
        assert edit.status_code in {200, 404}
        if edit.status_code == 404:
            assert edit.json() == {"detail": "Comment not found"}
        deleted_text = await api.scalar(
            "SELECT details->>'content' FROM faros.activity_logs "
            "WHERE resource_type = 'comment' AND action = 'deleted' AND resource_id = :id",
            id=comment["id"],
        )
        assert deleted_text == ("final" if edit.status_code == 200 else "draft")
        remaining = await api.scalar(
            "SELECT count(*) FROM faros.task_comments WHERE id = :id", id=comment["id"]
        )
        assert remaining == 0
