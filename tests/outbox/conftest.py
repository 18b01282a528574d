"""The outbox against real PostgreSQL, each test on a database of its own (see outbox_kit)."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
for _folder in (_TESTS / "contract", _TESTS / "outbox"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

from outbox_kit import own_engine, own_uow, own_url  # noqa: E402, F401  (fixtures, by name)
