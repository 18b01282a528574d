"""The HTTP sender against real sockets: the address policy at delivery, the pinned
connection (Host and TLS name kept), no redirects, bounded answers and time."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from faros.adapters.webhooks.http_sender import Address, HttpWebhookSender

HEADERS = {"content-type": "application/json", "webhook-id": "msg_1"}


class PinnedSender(HttpWebhookSender):
    """Resolves every name to 127.0.0.1, as a DNS answer would (names under .test)."""

    async def _resolve(self, host: str, port: int) -> list[Address]:
        if host.endswith(".test"):
            return [ipaddress.ip_address("127.0.0.1")]
        return await super()._resolve(host, port)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook",
        "http://localhost:{port}/hook",
        "http://[::1]:{port}/hook",
        "http://[::ffff:127.0.0.1]:{port}/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/hook",
        "http://2130706433:{port}/hook",  # 127.0.0.1 written as one number
    ],
)
async def test_private_targets_are_refused_at_delivery(receiver: Any, url: str) -> None:
    target = url.format(port=receiver.port)
    sender = HttpWebhookSender(allow_private=False)
    assert await sender.refusal(target) is not None
    result = await sender.send(target, HEADERS, "{}")
    assert not result.succeeded
    assert result.error is not None
    assert result.error.startswith("refused:")
    assert receiver.requests == []
    assert await HttpWebhookSender(allow_private=True).refusal(target) is None


async def test_an_unresolvable_host_is_not_refused_at_creation() -> None:
    sender = HttpWebhookSender(allow_private=False)
    assert await sender.refusal("https://no-such-host.invalid/hook") is None
    result = await sender.send("https://no-such-host.invalid/hook", HEADERS, "{}")
    assert result.error is not None


async def test_the_connection_goes_to_the_checked_address_with_the_original_host(
    receiver: Any,
) -> None:
    sender = PinnedSender(allow_private=True)
    url = f"http://hooks.test:{receiver.port}/in?x=1"
    result = await sender.send(url, HEADERS, '{"a":1}')
    assert result.succeeded, result
    [request] = receiver.requests
    assert request.headers["host"] == f"hooks.test:{receiver.port}"
    assert request.path == "/in?x=1"
    assert request.body == b'{"a":1}'
    assert request.headers["webhook-id"] == "msg_1"


async def test_an_internationalised_host_goes_as_idna(receiver: Any) -> None:
    sender = PinnedSender(allow_private=True)
    result = await sender.send(f"http://bücher.test:{receiver.port}/", HEADERS, "{}")
    assert result.succeeded, result
    assert receiver.requests[0].headers["host"] == f"xn--bcher-kva.test:{receiver.port}"


async def test_redirects_are_not_followed(receiver: Any) -> None:
    receiver.status = 302
    result = await HttpWebhookSender(allow_private=True).send(receiver.url, HEADERS, "{}")
    assert result.response_code == 302
    assert not result.succeeded
    assert len(receiver.requests) == 1


async def test_a_huge_answer_is_read_only_in_part(receiver: Any) -> None:
    receiver.answer = b"x" * (4 * 1024 * 1024)
    result = await HttpWebhookSender(allow_private=True).send(receiver.url, HEADERS, "{}")
    assert result.succeeded


async def test_a_silent_receiver_is_cut_off() -> None:
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        sender = HttpWebhookSender(allow_private=True, timeout_seconds=0.5)
        result = await sender.send(f"http://127.0.0.1:{port}/", HEADERS, "{}")
    finally:
        server.close()
    assert result.error == "no answer within 0.5 seconds"


# --------------------------------------------------------------------------- TLS


def _certificates(folder: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A CA, a server certificate for `name` signed by it: (server context, client context)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "FAROS test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


@contextlib.asynccontextmanager
async def _tls_receiver(context: ssl.SSLContext) -> AsyncIterator[int]:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_tls_is_verified_against_the_original_host_name(tmp_path: Path) -> None:
    server, client = _certificates(tmp_path, "hooks.test")
    async with _tls_receiver(server) as port:
        sender = PinnedSender(allow_private=True, tls=client)
        good = await sender.send(f"https://hooks.test:{port}/", HEADERS, "{}")
        assert good.response_code == 204, good
        # Same address, same certificate, another name: the certificate does not match it.
        wrong = await sender.send(f"https://other.test:{port}/", HEADERS, "{}")
        assert wrong.response_code is None
        assert wrong.error is not None
        assert "certificate" in wrong.error.lower() or "hostname" in wrong.error.lower()
