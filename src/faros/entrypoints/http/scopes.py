"""What an access token needs for each protected route: the one table of it.

A route's requirement is, in this order of precedence:

1. `LOGIN_ONLY` for every path under `LOGIN_ONLY_PATHS` (`/tokens`, `/webhooks`): a token can
   never make, see or revoke tokens, nor manage webhooks — whoever holds one leaked token must
   not be able to mint more, or to send the account's events elsewhere;
2. the route's own `opt={"scope": ...}` (`SCOPE_OPT`), on a handler, router or controller: a
   new router may declare its requirement where it is written (`LOGIN_ONLY_OPT` for a whole
   router that needs a login);
3. `ROUTE_SCOPES`, by operationId (the handler's name).

A protected route with none of these is closed to tokens (refused like a login-only one), and
tests/http/tokens/test_token_scopes.py fails for it, so a new route cannot slip through.
JWT and cookie callers are never asked: they may do everything their user may.
"""

from __future__ import annotations

from typing import Any, Final

from faros.domain.api_tokens import LOGIN_ONLY, Need

SCOPE_OPT: Final = "scope"
LOGIN_ONLY_OPT: Final = {SCOPE_OPT: LOGIN_ONLY}
"""`opt=` of a router or route that no access token may use."""
LOGIN_ONLY_PATHS: Final = ("/tokens", "/webhooks")

_READ_TASKS: Final = "tasks:read"
_WRITE_TASKS: Final = "tasks:write"

ROUTE_SCOPES: Final[dict[str, Need]] = {
    # tasks
    "list_tasks": _READ_TASKS,
    "get_task": _READ_TASKS,
    "task_stats": _READ_TASKS,
    "shared_with_me": _READ_TASKS,
    "create_task": _WRITE_TASKS,
    "update_task": _WRITE_TASKS,
    "bulk_update": _WRITE_TASKS,
    "delete_task": _WRITE_TASKS,
    "add_tags": _WRITE_TASKS,
    "remove_tag": _WRITE_TASKS,
    # sharing: who may see a task is part of the task
    "list_shares": _READ_TASKS,
    "share_task": _WRITE_TASKS,
    "change_share": _WRITE_TASKS,
    "unshare_task": _WRITE_TASKS,
    # comments: read with the task, written with a scope of their own
    "list_comments": _READ_TASKS,
    "add_comment": "comments:write",
    "edit_comment": "comments:write",
    "delete_comment": "comments:write",
    # files
    "list_files": "files:read",
    "download_file": "files:read",
    "upload_file": "files:write",
    "delete_file": "files:write",
    # activity
    "activity_feed": "activity:read",
    "activity_stats": "activity:read",
    "task_timeline": "activity:read",
    # the account: tokens read it; changing it needs a login (there is no account:write)
    "profile": "account:read",
    "search_users": "account:read",
    "get_preferences": "account:read",
    "subscribe": "account:read",  # changes nothing (kept for older clients)
    "change_password": LOGIN_ONLY,
    "upload_avatar": LOGIN_ONLY,
    "update_preferences": LOGIN_ONLY,
    "send_verification": LOGIN_ONLY,
}


def requirement(path: str, opt: dict[str, Any], operation_id: str) -> Need | None:
    """What a token needs for this route; `None` when the route is missing from the table."""
    if any(path == root or path.startswith(f"{root}/") for root in LOGIN_ONLY_PATHS):
        return LOGIN_ONLY
    declared: Need | None = opt.get(SCOPE_OPT)
    if declared is not None:
        return declared
    return ROUTE_SCOPES.get(operation_id)
