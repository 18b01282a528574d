from __future__ import annotations

from typing import Any, Protocol

from faros.domain.comments import Comment
from faros.domain.files import StoredFile
from faros.domain.sharing import Share
from faros.domain.tasks import TaskView


class EventData(Protocol):
    """The `data` of a webhook event: what the matching GET answers, as JSON values."""

    def task(self, view: TaskView) -> dict[str, Any]: ...

    def comment(self, comment: Comment) -> dict[str, Any]: ...

    def share(self, share: Share) -> dict[str, Any]: ...

    def file(self, stored: StoredFile) -> dict[str, Any]: ...
