"""Reproduction (copy into tests/races/): two PATCHes of different preference flags lose one."""

import asyncio

from race_kit import Api


async def test_concurrent_preference_patches_lose_no_flag(api: Api) -> None:
    lost = 0
    for _ in range(20):
        who = await api.actor("pr")
        await api.client.get("/notifications/preferences", headers=who.auth)  # row exists
        first, second = await asyncio.gather(
            api.client.patch(
                "/notifications/preferences", headers=who.auth, json={"task_completed": True}
            ),
            api.client.patch(
                "/notifications/preferences", headers=who.auth, json={"comment_on_my_task": False}
            ),
        )
        assert (first.status_code, second.status_code) == (200, 200)
        final = (await api.client.get("/notifications/preferences", headers=who.auth)).json()
        lost += not (final["task_completed"] is True and final["comment_on_my_task"] is False)
    assert lost == 0, f"{lost} of 20 rounds lost a flag"  # today: most rounds
