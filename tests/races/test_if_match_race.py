"""If-Match under concurrency (issue 17): the version is compared under the row lock the write
holds until its commit, so of writers sending the same tag exactly one wins and the others get
412 with the task the winner left; a concurrent comment (which changes the task's view, so its
version) is never lost between a writer's check and its write."""

from __future__ import annotations

from typing import Any

import pytest
from race_kit import ROUNDS, Actor, Api, statuses, together

pytestmark = pytest.mark.postgres


async def _version(api: Api, task_id: int) -> int:
    return int(await api.scalar("SELECT version FROM faros.tasks WHERE id = :id", id=task_id))


async def test_two_patches_with_the_same_if_match_one_wins(api: Api) -> None:
    owner, editor = await api.actor("own"), await api.actor("edi")
    for _round in range(ROUNDS):
        task = await api.task(owner, priority="low")
        task_id = task["id"]
        await api.share(owner, task_id, editor, "edit")
        read = await api.client.get(f"/tasks/{task_id}", headers=owner.auth)
        etag = read.headers["etag"]
        assert etag == f'"{task_id}-2"'  # created, then shared
        writers: list[tuple[Actor, dict[str, Any]]] = [
            (owner, {"title": "the owner's"}),
            (editor, {"priority": "high"}),
        ]
        answers = await together(
            *(
                api.client.patch(
                    f"/tasks/{task_id}", json=body, headers={**who.auth, "If-Match": etag}
                )
                for who, body in writers
            )
        )
        assert statuses(answers) == {200: 1, 412: 1}
        won = next(a for a in answers if a.status_code == 200)
        lost = next(a for a in answers if a.status_code == 412)
        # The loser is shown what the winner wrote, under the tag the winner answered with.
        assert lost.json()["task"] == won.json()
        assert lost.headers["etag"] == won.headers["etag"] == f'"{task_id}-3"'
        assert await _version(api, task_id) == 3
        # Only the winner's change is in the row, and only its activity entry was written.
        row = (
            await api.rows("SELECT title, priority FROM faros.tasks WHERE id = :id", id=task_id)
        )[0]
        assert (row.title == "the owner's") != (row.priority == "high")
        updates = await api.scalar(
            "SELECT count(*) FROM faros.activity_logs "
            "WHERE resource_type = 'task' AND resource_id = :id AND action = 'updated'",
            id=task_id,
        )
        assert updates == 1


async def test_many_writers_on_one_tag_exactly_one_wins(api: Api) -> None:
    owner = await api.actor("own")
    task = await api.task(owner, tags=[])
    task_id = task["id"]
    etag = f'"{task_id}-1"'
    answers = await together(
        *(
            api.client.post(
                f"/tasks/{task_id}/tags", json=[f"t{n}"], headers={**owner.auth, "If-Match": etag}
            )
            for n in range(8)
        )
    )
    assert statuses(answers) == {200: 1, 412: 7}
    assert await _version(api, task_id) == 2


async def test_a_comment_between_read_and_write_fails_the_write(api: Api) -> None:
    owner, viewer = await api.actor("own"), await api.actor("vie")
    for _round in range(ROUNDS):
        task = await api.task(owner)
        task_id = task["id"]
        await api.share(owner, task_id, viewer, "view")
        etag = f'"{task_id}-2"'
        patch, comment = await together(
            api.client.patch(
                f"/tasks/{task_id}",
                json={"completed": True},
                headers={**owner.auth, "If-Match": etag},
            ),
            api.client.post(
                f"/tasks/{task_id}/comments", json={"content": "hi"}, headers=viewer.auth
            ),
        )
        assert comment.status_code == 201
        # Either the PATCH came first (200, then the comment: version 4), or the comment did
        # (version 3) and the PATCH's tag is stale (412 showing the comment).
        if patch.status_code == 200:
            assert await _version(api, task_id) == 4
        else:
            assert patch.status_code == 412
            assert [c["content"] for c in patch.json()["task"]["comments"]] == ["hi"]
            assert await _version(api, task_id) == 3
