"""The whole FAROS flow through a client generated from the live document (#16, 8).

Run as `python flow.py BASE_URL` with the package that openapi-python-client generated from
`/openapi.json` importable as `faros_client`. Every call goes through the generated operations
and models; no request is written by hand. Exits non-zero (an AssertionError or the generated
client's `UnexpectedStatus`) at the first answer the document did not promise.

The same file is type-checked with `mypy --strict` against the generated package, so a
document that makes clients cast or ignore types (a task's priority that cannot be passed back
into an update, a download typed as nothing) fails the test before anything runs.
"""

from __future__ import annotations

import secrets
import sys
from http import HTTPStatus
from io import BytesIO
from typing import Any, TypeVar

import httpx
from faros_client import AuthenticatedClient, Client
from faros_client.api.activity import activity_feed, task_timeline
from faros_client.api.auth import login, logout, register
from faros_client.api.comments import add_comment, list_comments
from faros_client.api.files import delete_file, download_file, list_files, upload_file
from faros_client.api.sharing import share_task
from faros_client.api.tasks import (
    create_task,
    delete_task,
    get_task,
    list_tasks,
    shared_with_me,
    update_task,
)
from faros_client.api.users import get_avatar, profile, upload_avatar
from faros_client.models import (
    ActivityOut,
    AvatarOut,
    AvatarUpload,
    CommentIn,
    CommentOut,
    FileInfoOut,
    FileUpload,
    FileUploadedOut,
    LoginIn,
    MessageOut,
    Priority,  # enums: one type shared by requests and answers
    RegisterIn,
    SharedTaskOut,
    ShareIn,
    ShareOut,
    SharePermission,
    TaskCreateIn,
    TaskOut,
    TaskPageOut,
    TaskUpdateIn,
    TimelineEntryOut,
    TokenOut,
    UserCreatedOut,
    UserProfileOut,
)
from faros_client.types import File, Response

T = TypeVar("T")

PASSWORD = "correct horse battery staple 1"
# A 1x1 PNG: the smallest image the avatar upload accepts.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7V\x1d\xc5"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def expect(response: Response[Any], status: HTTPStatus, kind: type[T]) -> T:
    """The parsed body of an answer that has `status` and parsed as `kind`."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert isinstance(response.parsed, kind), (kind, response.parsed)
    return response.parsed


def expect_list(response: Response[Any], kind: type[T]) -> list[T]:
    """The parsed items of a 200 answer whose body is a list of `kind`."""
    assert response.status_code == HTTPStatus.OK, (response.status_code, response.content[:500])
    items = response.parsed
    assert isinstance(items, list), items
    assert all(isinstance(item, kind) for item in items), items
    return items


def downloaded(response: Response[Any]) -> bytes:
    """The bytes of a 200 download, as the generated client hands them over (a `File`)."""
    return expect(response, HTTPStatus.OK, File).payload.read()


def sign_up(
    base_url: str, anonymous: Client, name: str
) -> tuple[UserCreatedOut, AuthenticatedClient]:
    """Register `name` and log in: the new user and a client carrying its bearer token."""
    body = RegisterIn(username=name, email=f"{name}@example.com", password=PASSWORD)
    user = expect(
        register.sync_detailed(client=anonymous, body=body), HTTPStatus.CREATED, UserCreatedOut
    )
    token = expect(
        login.sync_detailed(client=anonymous, body=LoginIn(username=name, password=PASSWORD)),
        HTTPStatus.OK,
        TokenOut,
    )
    bearer = AuthenticatedClient(
        base_url=base_url, token=token.access_token, raise_on_unexpected_status=True
    )
    return user, bearer


def tasks_flow(owner: AuthenticatedClient, guest: AuthenticatedClient, guest_name: str) -> None:
    """Tasks, filters, an update, sharing, comments, files, activity and deletion."""
    urgent = expect(
        create_task.sync_detailed(
            client=owner,
            body=TaskCreateIn(title="Write the report", priority=Priority.HIGH, tags=["work"]),
        ),
        HTTPStatus.CREATED,
        TaskOut,
    )
    later = expect(
        create_task.sync_detailed(client=owner, body=TaskCreateIn(title="Water the plants")),
        HTTPStatus.CREATED,
        TaskOut,
    )
    assert urgent.priority == Priority.HIGH, urgent
    assert later.priority == Priority.MEDIUM, later

    # A filter takes the priority a task was answered with.
    page = expect(
        list_tasks.sync_detailed(client=owner, priority=urgent.priority, tags="work"),
        HTTPStatus.OK,
        TaskPageOut,
    )
    assert [task.id for task in page.tasks] == [urgent.id], page

    # So does an update: a priority as the server answered it goes back in, no conversion.
    updated = expect(
        update_task.sync_detailed(
            urgent.id,
            client=owner,
            body=TaskUpdateIn(completed=True, priority=later.priority, description="Due Friday"),
        ),
        HTTPStatus.OK,
        TaskOut,
    )
    assert (updated.completed, updated.priority) == (True, later.priority), updated

    share = ShareIn(shared_with_username=guest_name, permission=SharePermission.EDIT)
    expect(
        share_task.sync_detailed(urgent.id, client=owner, body=share), HTTPStatus.CREATED, ShareOut
    )
    shared = expect_list(shared_with_me.sync_detailed(client=guest), SharedTaskOut)
    assert [(entry.task.id, entry.permission) for entry in shared] == [
        (urgent.id, SharePermission.EDIT)
    ], shared

    comment = expect(
        add_comment.sync_detailed(urgent.id, client=guest, body=CommentIn(content="On it.")),
        HTTPStatus.CREATED,
        CommentOut,
    )
    seen = expect(get_task.sync_detailed(urgent.id, client=guest), HTTPStatus.OK, TaskOut)
    assert seen.title == "Write the report", seen
    comments = expect_list(list_comments.sync_detailed(urgent.id, client=owner), CommentOut)
    assert [entry.id for entry in comments] == [comment.id], comments

    data = f"Minutes of the meeting, {secrets.token_hex(8)}\n".encode()
    upload = FileUpload(
        file=File(payload=BytesIO(data), file_name="minutes.txt", mime_type="text/plain")
    )
    stored = expect(
        upload_file.sync_detailed(urgent.id, client=owner, body=upload),
        HTTPStatus.CREATED,
        FileUploadedOut,
    )
    assert (stored.original_filename, stored.file_size) == ("minutes.txt", len(data)), stored
    listed = expect_list(list_files.sync_detailed(urgent.id, client=guest), FileInfoOut)
    assert [entry.id for entry in listed] == [stored.id], listed
    # The guest downloads through the share; the bytes come back as they went in.
    assert downloaded(download_file.sync_detailed(stored.id, client=guest)) == data

    feed = expect_list(activity_feed.sync_detailed(client=owner), ActivityOut)
    done = {(entry.action, entry.resource_type) for entry in feed}
    expected = {("created", "task"), ("updated", "task"), ("shared", "task"), ("uploaded", "file")}
    assert expected <= done, done
    timeline = expect_list(task_timeline.sync_detailed(urgent.id, client=guest), TimelineEntryOut)
    assert timeline, timeline

    expect(delete_file.sync_detailed(stored.id, client=owner), HTTPStatus.NO_CONTENT, object)
    expect(delete_task.sync_detailed(urgent.id, client=owner), HTTPStatus.NO_CONTENT, object)
    gone = get_task.sync_detailed(urgent.id, client=owner)
    assert gone.status_code == HTTPStatus.NOT_FOUND, (gone.status_code, gone.content)


def avatar_flow(anonymous: Client, user: UserCreatedOut, bearer: AuthenticatedClient) -> None:
    """Upload an avatar, then fetch it without credentials at the URL the upload answered."""
    body = AvatarUpload(file=File(payload=BytesIO(PNG), file_name="me.png", mime_type="image/png"))
    answer = expect(upload_avatar.sync_detailed(client=bearer, body=body), HTTPStatus.OK, AvatarOut)
    # The answered URL is /users/{user_id}/{segment}; the generated operation takes the parts.
    owner_id, segment = answer.avatar_url.rsplit("/", 2)[-2:]
    assert int(owner_id) == user.id, answer
    assert downloaded(get_avatar.sync_detailed(int(owner_id), segment, client=anonymous)) == PNG


def cookie_flow(base_url: str, name: str) -> None:
    """A non-browser client that keeps the login cookie is not taken for a cross-site page (D4).

    The generated `Client` keeps cookies (its httpx client has a jar). Its second login and its
    next registration are unsafe requests carrying the auth cookie and no bearer header, and
    neither `Origin` nor `Sec-Fetch-Site`: no browser sent them, so they must pass.
    """
    sent: list[httpx.Request] = []
    keeper = Client(
        base_url=base_url,
        raise_on_unexpected_status=True,
        httpx_args={"event_hooks": {"request": [sent.append]}},
    )
    credentials = LoginIn(username=name, password=PASSWORD)
    expect(login.sync_detailed(client=keeper, body=credentials), HTTPStatus.OK, TokenOut)
    assert "access_token" in keeper.get_httpx_client().cookies, "the login cookie was not kept"

    again = expect(login.sync_detailed(client=keeper, body=credentials), HTTPStatus.OK, TokenOut)
    other = RegisterIn(username=f"{name}x", email=f"{name}x@example.com", password=PASSWORD)
    expect(register.sync_detailed(client=keeper, body=other), HTTPStatus.CREATED, UserCreatedOut)
    for request in sent[1:]:
        assert "access_token=" in request.headers.get("cookie", ""), request.headers
        assert "authorization" not in request.headers, request.headers

    # A write authenticated by the cookie alone: the generated types ask for an
    # AuthenticatedClient, and one with an empty credential sends no bearer.
    by_cookie = AuthenticatedClient(
        base_url=base_url, token="", prefix="", raise_on_unexpected_status=True
    ).with_cookies(dict(keeper.get_httpx_client().cookies))
    expect(logout.sync_detailed(client=by_cookie), HTTPStatus.OK, MessageOut)
    # The cookie's token (the second login's) is revoked: the logout was really its.
    revoked = AuthenticatedClient(
        base_url=base_url, token=again.access_token, raise_on_unexpected_status=True
    )
    answer = profile.sync_detailed(client=revoked)
    assert answer.status_code == HTTPStatus.UNAUTHORIZED, (answer.status_code, answer.content)


def main(base_url: str) -> None:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    run = secrets.token_hex(4)
    owner_name, guest_name = f"owner{run}", f"guest{run}"
    owner_user, owner = sign_up(base_url, anonymous, owner_name)
    _, guest = sign_up(base_url, anonymous, guest_name)
    me = expect(profile.sync_detailed(client=owner), HTTPStatus.OK, UserProfileOut)
    assert me.username == owner_name, me

    tasks_flow(owner, guest, guest_name)
    avatar_flow(anonymous, owner_user, owner)
    cookie_flow(base_url, guest_name)

    expect(logout.sync_detailed(client=owner), HTTPStatus.OK, MessageOut)
    after = profile.sync_detailed(client=owner)
    assert after.status_code == HTTPStatus.UNAUTHORIZED, (after.status_code, after.content)


if __name__ == "__main__":
    main(sys.argv[1])
    print("flow complete")
