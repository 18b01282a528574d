"""WebhookService rules that depend on the deployment: `https` only in production, the
address check unless private addresses are allowed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from faros.adapters.memory import MemoryUnitOfWorkFactory
from faros.adapters.memory.clock import ManualClock
from faros.adapters.webhooks.http_sender import HttpWebhookSender
from faros.domain.errors import FieldInvalid
from faros.domain.idempotency import IdempotentReplay, StoredResponse
from faros.domain.services.idempotency import IdempotentCall
from faros.domain.services.webhooks import WebhookService
from faros.domain.users import NewUser, User
from faros.domain.webhooks import Webhook

NOW = datetime(2030, 1, 1, tzinfo=UTC)


async def _service(*, allow_http: bool, allow_private: bool) -> tuple[WebhookService, User]:
    uow = MemoryUnitOfWorkFactory()
    async with uow() as unit:
        user = await unit.users.add(NewUser("alice", "alice@example.com", "x", NOW))
        await unit.commit()
    sender = HttpWebhookSender(allow_private=allow_private)
    service = WebhookService(
        uow, ManualClock(NOW), sender, allow_http=allow_http, allow_private=allow_private
    )
    return service, user


async def test_production_takes_https_only() -> None:
    service, alice = await _service(allow_http=False, allow_private=False)
    with pytest.raises(FieldInvalid) as caught:
        await service.create(alice, "http://93.184.216.34/hook", ["task.created"], None)
    assert "https" in caught.value.message
    created = await service.create(alice, "https://93.184.216.34/hook", ["task.created"], None)
    with pytest.raises(FieldInvalid):
        await service.update(alice, created.id, {"url": "http://93.184.216.34/hook"})


async def test_development_takes_http_too() -> None:
    service, alice = await _service(allow_http=True, allow_private=False)
    created = await service.create(alice, "http://93.184.216.34/hook", ["task.created"], None)
    assert created.url == "http://93.184.216.34/hook"


@pytest.mark.parametrize("allow_private", [False, True])
async def test_private_hosts_only_with_the_setting(allow_private: bool) -> None:
    service, alice = await _service(allow_http=True, allow_private=allow_private)
    url = "http://127.0.0.1:9/hook"
    if allow_private:
        assert (await service.create(alice, url, ["task.created"], None)).url == url
    else:
        with pytest.raises(FieldInvalid, match="loopback"):
            await service.create(alice, url, ["task.created"], None)


class _Resolver(HttpWebhookSender):
    """Refuses the host from the second look on, as if its DNS now named a private address."""

    def __init__(self) -> None:
        super().__init__(allow_private=False)
        self.looks = 0

    async def refusal(self, url: str) -> str | None:
        self.looks += 1
        return None if self.looks == 1 else "a private address"


async def test_a_keyed_retry_gets_its_answer_though_the_host_now_resolves_elsewhere() -> None:
    uow = MemoryUnitOfWorkFactory()
    async with uow() as unit:
        alice = await unit.users.add(NewUser("alice", "alice@example.com", "x", NOW))
        await unit.commit()
    sender = _Resolver()
    service = WebhookService(uow, ManualClock(NOW), sender, allow_http=False, allow_private=False)
    answer = StoredResponse(201, "application/json", b"{}", "/webhooks/1")
    call: IdempotentCall[Webhook] = IdempotentCall("k", lambda: b"f" * 32, lambda _: answer)
    url = "https://hooks.example.com/x"
    await service.create(alice, url, ["task.created"], None, call)
    with pytest.raises(IdempotentReplay) as replayed:
        await service.create(alice, url, ["task.created"], None, call)
    assert replayed.value.response == answer
    with pytest.raises(FieldInvalid, match="refused"):  # a new key looks at the host again
        await service.create(alice, url, ["task.created"], None, replace(call, key="k2"))
    assert sender.looks == 2
