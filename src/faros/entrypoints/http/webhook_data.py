"""The `data` of webhook events: exactly what the matching GET answers, as JSON values."""

from __future__ import annotations

from typing import Any

import msgspec

from faros.domain.comments import Comment
from faros.domain.files import StoredFile
from faros.domain.sharing import Share
from faros.domain.tasks import TaskView
from faros.entrypoints.http.schemas import CommentOut, FileUploadedOut, ShareOut, TaskOut, out


def _json(value: object) -> dict[str, Any]:
    built: dict[str, Any] = msgspec.to_builtins(value)
    return built


class WireEventData:
    """`EventData` in the wire shapes: TaskOut, CommentOut, ShareOut, FileUploadedOut."""

    def task(self, view: TaskView) -> dict[str, Any]:
        return _json(out(view, TaskOut))

    def comment(self, comment: Comment) -> dict[str, Any]:
        return _json(out(comment, CommentOut))

    def share(self, share: Share) -> dict[str, Any]:
        return _json(out(share, ShareOut))

    def file(self, stored: StoredFile) -> dict[str, Any]:
        return _json(out(stored, FileUploadedOut))
