"""Webhook URLs that reach private addresses are refused (FAROS_WEBHOOK_ALLOW_PRIVATE off,
the session apps' default)."""

from __future__ import annotations

from typing import Any

import pytest

REFUSED = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://10.0.0.7/hook",
    "http://100.64.1.1/hook",
    "https://192.168.0.10/hook",
]


@pytest.mark.every_backend
@pytest.mark.parametrize("url", REFUSED)
async def test_private_urls_are_refused(api: Any, url: str) -> None:
    alice = await api.user()
    response = await api.client.post(
        "/webhooks", json={"url": url, "events": ["task.created"]}, headers=alice.auth
    )
    assert response.status_code == 422, response.text
    [problem] = response.json()["errors"]
    assert problem["loc"] == ["body", "url"]
    assert "refused" in problem["msg"]
    assert (await api.get(alice, "/webhooks")).json() == []


@pytest.mark.every_backend
async def test_a_public_url_is_accepted(api: Any) -> None:
    alice = await api.user()
    response = await api.client.post(
        "/webhooks",
        json={"url": "https://93.184.216.34/hook", "events": ["task.created"]},
        headers=alice.auth,
    )
    assert response.status_code == 201, response.text
