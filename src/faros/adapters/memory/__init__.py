"""In-memory adapters: the fakes the unit tests run on, and a database-free development mode."""

from faros.adapters.memory.store import MemoryStore
from faros.adapters.memory.unit_of_work import MemoryUnitOfWork, MemoryUnitOfWorkFactory

__all__ = ["MemoryStore", "MemoryUnitOfWork", "MemoryUnitOfWorkFactory"]
