"""FairGate: at most `size` inside, waiters let in strictly in arrival order."""

from __future__ import annotations

import asyncio

import pytest

from faros.adapters.postgres import fair_gate
from faros.adapters.postgres.fair_gate import FairGate


async def test_waiters_enter_in_arrival_order_even_against_late_comers() -> None:
    gate = FairGate(1)
    await gate.enter()
    order: list[str] = []

    async def visit(name: str) -> None:
        await gate.enter()
        order.append(name)
        await asyncio.sleep(0)
        gate.leave()

    waiting = [asyncio.create_task(visit(f"w{n}")) for n in range(4)]
    await asyncio.sleep(0)  # all four are queued now
    gate.leave()
    # Arrives right after the slot was freed: a plain asyncio.Queue would let it jump ahead.
    await asyncio.gather(visit("late"), *waiting)
    assert order == ["w0", "w1", "w2", "w3", "late"]


async def test_no_more_than_size_are_inside() -> None:
    gate = FairGate(3)
    inside = peak = 0

    async def visit() -> None:
        nonlocal inside, peak
        await gate.enter()
        inside += 1
        peak = max(peak, inside)
        await asyncio.sleep(0)
        inside -= 1
        gate.leave()

    await asyncio.gather(*(visit() for _ in range(20)))
    assert peak == 3


async def test_a_wait_past_the_pool_timeout_is_an_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fair_gate, "POOL_TIMEOUT_SECONDS", 0.05)
    gate = FairGate(1)
    await gate.enter()
    with pytest.raises(TimeoutError):
        await gate.enter()
    gate.leave()
    await gate.enter()  # the timed-out waiter left no slot taken
    gate.leave()
