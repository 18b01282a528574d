"""How the document describes binary bodies (#16 item 3), checked against what is really sent.

Downloads list every type the server sends, `application/octet-stream` first: generators such
as openapi-python-client 0.29 read only that type as bytes, and take the first type they know.
Uploads name their multipart bodies (`FileUpload`, `AvatarUpload`) and the types the `file`
part may declare (`encoding.contentType`).
"""

from __future__ import annotations

from email.message import Message
from typing import Any

import pytest
from litestar import Litestar

BINARY = {"type": "string", "format": "binary"}
OCTET = "application/octet-stream"
AVATAR_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"]


@pytest.fixture(scope="module")
async def document(app: Litestar, kit: Any) -> dict[str, Any]:
    async with kit.new_client(app) as http:
        response = await http.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def essence(content_type: str) -> str:
    message = Message()
    message["content-type"] = content_type
    return message.get_content_type()


def success(document: dict[str, Any], path: str) -> dict[str, Any]:
    response: dict[str, Any] = document["paths"][path]["get"]["responses"]["200"]
    return response


async def test_download_is_documented_as_bytes_with_its_headers(
    document: dict[str, Any],
) -> None:
    answer = success(document, "/files/{file_id}")
    types = list(answer["content"])
    assert types[0] == OCTET
    assert {"application/pdf", "text/plain", "image/png"} <= set(types)
    assert all(media == {"schema": BINARY} for media in answer["content"].values())
    headers = answer["headers"]
    assert set(headers) == {"Content-Disposition", "Content-Length", "X-Content-Type-Options"}
    assert all(header["required"] for header in headers.values())
    assert "filename*=utf-8''" in headers["Content-Disposition"]["description"]


async def test_avatar_is_documented_as_its_image_types(document: dict[str, Any]) -> None:
    answer = success(document, "/users/{user_id}/{segment}")
    assert list(answer["content"]) == [OCTET, *AVATAR_TYPES]
    assert all(media == {"schema": BINARY} for media in answer["content"].values())
    assert set(answer["headers"]) == {"Cache-Control", "Content-Length", "X-Content-Type-Options"}


@pytest.mark.parametrize(
    ("path", "name", "part_types"),
    [
        ("/users/me/avatar", "AvatarUpload", AVATAR_TYPES),
        (
            "/tasks/{task_id}/files",
            "FileUpload",
            [
                OCTET,
                "application/msword",
                "application/pdf",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "image/gif",
                "image/jpeg",
                "image/png",
                "text/plain",
            ],
        ),
    ],
)
async def test_uploads_name_their_body_and_the_part_types(
    document: dict[str, Any], path: str, name: str, part_types: list[str]
) -> None:
    body = document["paths"][path]["post"]["requestBody"]
    assert body["required"] is True
    media = body["content"]["multipart/form-data"]
    assert media["schema"] == {"$ref": f"#/components/schemas/{name}"}
    assert media["encoding"]["file"]["contentType"].split(", ") == part_types
    schema = document["components"]["schemas"][name]
    assert schema["type"] == "object"
    assert schema["required"] == ["file"]
    assert schema["properties"]["file"]["type"] == "string"
    assert schema["properties"]["file"]["format"] == "binary"


@pytest.mark.every_backend
@pytest.mark.parametrize(
    ("name", "sample", "declared"),
    [
        ("a.pdf", "PDF", "application/pdf"),
        ("a.txt", None, "text/plain"),
        ("a.png", "PNG", "image/png"),
        ("a.jpeg", "JPEG", "image/jpeg"),
        ("a.gif", "GIF", "image/gif"),
        ("a.doc", "DOC", "application/msword"),
        ("a.docx", "DOCX", OCTET),
        ("a.pdf", "PDF", None),  # no declared type: sent as application/octet-stream
    ],
)
async def test_every_download_type_sent_is_documented(
    api: Any,
    files: Any,
    document: dict[str, Any],
    name: str,
    sample: str | None,
    declared: str | None,
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    data = getattr(files, sample) if sample else b"plain words"
    body, headers = files.raw_multipart(
        f'form-data; name="file"; filename="{name}"', data, content_type=declared
    )
    uploaded = await api.client.post(
        f"/tasks/{task['id']}/files", content=body, headers={**headers, **owner.auth}
    )
    assert uploaded.status_code == 201, uploaded.text
    download = await api.get(owner, f"/files/{uploaded.json()['id']}")
    assert download.status_code == 200
    assert download.content == data
    answer = success(document, "/files/{file_id}")
    assert essence(download.headers["content-type"]) in answer["content"]
    for header in answer["headers"]:
        assert header.lower() in download.headers, header


@pytest.mark.every_backend
@pytest.mark.parametrize("sample", ["PNG", "JPEG", "GIF", "WEBP"])
async def test_every_avatar_type_sent_is_documented(
    api: Any, anon: Any, files: Any, document: dict[str, Any], sample: str
) -> None:
    account = await api.user()
    data = getattr(files, sample)
    uploaded = await api.client.post(
        "/users/me/avatar", files={"file": ("picture", data, OCTET)}, headers=account.auth
    )
    assert uploaded.status_code == 200, uploaded.text
    image = await anon.get(uploaded.json()["avatar_url"])
    assert image.status_code == 200
    answer = success(document, "/users/{user_id}/{segment}")
    sent = essence(image.headers["content-type"])
    assert sent in answer["content"]
    assert sent != OCTET  # the octet-stream entry is for generators only
    for header in answer["headers"]:
        assert header.lower() in image.headers, header
