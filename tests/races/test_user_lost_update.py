"""Two writes to one user at once (verify e-mail, change password) must both survive."""

import asyncio
from urllib.parse import unquote

from race_kit import PASSWORD, VERIFY_TOKEN, Api

NEW_PASSWORD = "brand-new-pass-1"


async def test_verify_email_racing_change_password_loses_nothing(api: Api) -> None:
    lost = 0
    for _ in range(20):
        who = await api.actor("lu")
        await api.client.post("/notifications/send-verification", headers=who.auth)
        body = await api.scalar(
            "SELECT payload->>'text' FROM faros.outbox WHERE payload->>'to' = :to "
            "ORDER BY id DESC LIMIT 1",
            to=who.email,
        )
        match = VERIFY_TOKEN.search(body)
        assert match is not None
        token = unquote(match.group(1))
        verify, change = await asyncio.gather(
            api.client.post("/notifications/verify", json={"token": token}),
            api.client.patch(
                "/users/me/change-password",
                headers=who.auth,
                json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            ),
        )
        assert (verify.status_code, change.status_code) == (200, 200)
        # change-password set a fresh auth cookie; a cookie-carrying POST without Origin is
        # refused by the CSRF check, so log in as a fresh bearer client would.
        api.client.cookies.clear()
        login = await api.client.post(
            "/auth/login", json={"username": who.username, "password": NEW_PASSWORD}
        )
        api.client.cookies.clear()
        verified = await api.scalar(
            "SELECT email_verified FROM faros.users WHERE id = :id", id=who.id
        )
        lost += login.status_code != 200 or not verified
    assert lost == 0, f"{lost} of 20 rounds lost the password change or the verification"
