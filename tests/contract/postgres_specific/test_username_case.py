"""Usernames that differ only in case, as a database of the original FAROS may hold them.

New usernames must differ from every existing one ignoring case, but names stored before that
rule stay usable: each is still found exactly (login stays exact, D11) and can be updated.
Such rows cannot be made through the repository, so they are inserted with plain SQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.domain.errors import DuplicateUser
from faros.domain.users import NewUser
from faros.ports.unit_of_work import UnitOfWorkFactory

from .helpers import NOW, unique

pytestmark = pytest.mark.postgres


async def test_names_differing_only_in_case_stay_but_get_no_new_sibling(
    engine: AsyncEngine, uow_factory: UnitOfWorkFactory
) -> None:
    name = unique("case")
    legacy = [name, name.upper()]
    async with engine.begin() as connection:
        for spelling in legacy:
            await connection.execute(
                text(
                    "INSERT INTO faros.users (username, email, hashed_password)"
                    " VALUES (:name, :email, 'h')"
                ),
                {"name": spelling, "email": f"{unique()}@example.com"},
            )
    async with uow_factory() as uow:
        found = [await uow.users.by_username(spelling) for spelling in legacy]
        assert [user.username if user else None for user in found] == legacy
        assert await uow.users.by_username(name.capitalize()) is None
        upper = found[1]
        assert upper is not None
        upper.email_verified = True
        await uow.users.update(upper)  # its sibling is no clash for a change of another field
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(DuplicateUser) as caught:
            await uow.users.add(NewUser(name.capitalize(), f"{unique()}@example.com", "h", NOW))
    assert (caught.value.field, caught.value.value) == ("username", name.capitalize())
