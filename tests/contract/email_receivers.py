"""Real receivers for the e-mail sender contract suite, each reading back what arrived.

Every receiver answers ``messages_to(address)`` with what it got for that recipient, so tests
isolate themselves by using a fresh recipient address rather than by resetting servers.
"""

from __future__ import annotations

import email.message
import email.policy
import ipaddress
import json
import socket
import ssl
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol, Self

import aioboto3
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def free_port() -> int:
    """A port nothing listens on right now (also how tests get a 'server down' address)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Delivered:
    """One message as a receiver saw it; ``mime`` is None where no MIME travels (Resend)."""

    sender: str
    to: list[str]
    subject: str
    text: str
    html: str
    mime: email.message.EmailMessage | None = None


def canonical_body(body: str) -> str:
    """MIME turns line ends into CRLF and ends every part with one; compare past that."""
    return body.replace("\r\n", "\n").rstrip("\n")


def parse_mime(raw: bytes) -> Delivered:
    mime = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(mime, email.message.EmailMessage)
    text = mime.get_body(("plain",))
    html = mime.get_body(("html",))
    assert text is not None, "no text/plain part"
    assert html is not None, "no text/html part"
    return Delivered(
        sender=str(mime["From"]),
        to=[str(mime["To"])],
        subject=str(mime["Subject"]),
        text=text.get_content(),
        html=html.get_content(),
        mime=mime,
    )


class Inbox(Protocol):
    async def messages_to(self, address: str) -> list[Delivered]: ...


# --------------------------------------------------------------------------- outbox folder


class FolderInbox:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def messages_to(self, address: str) -> list[Delivered]:
        parsed = [parse_mime(path.read_bytes()) for path in sorted(self.directory.glob("*.eml"))]
        return [message for message in parsed if address in message.to]


# --------------------------------------------------------------------------- SMTP (aiosmtpd)


class _Collector:
    """aiosmtpd handler: keeps the envelope and the bytes of every message accepted."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


class SmtpInbox:
    """An aiosmtpd server on a free port; keyword options go to aiosmtpd's ``SMTP``."""

    def __init__(self, **options: Any) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self._collector = _Collector()
        self._controller = Controller(
            self._collector, hostname=self.host, port=self.port, **options
        )

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._controller.stop()

    async def messages_to(self, address: str) -> list[Delivered]:
        found = []
        for mail_from, rcpt_tos, raw in self._collector.received:
            if address in rcpt_tos:
                message = parse_mime(raw)
                # The envelope decides delivery; it must agree with the headers people read.
                assert rcpt_tos == message.to
                assert mail_from in message.sender
                found.append(message)
        return found


def password_authenticator(login: str, password: str) -> Any:
    """An aiosmtpd authenticator accepting exactly one login and password."""

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and data == (login.encode(), password.encode())
        # handled=False: aiosmtpd itself then answers 535 to a wrong password.
        return AuthResult(success=ok, handled=False, auth_data=data)

    return authenticate


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca: Path
    certificate: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificate, self.key)
        return context


def make_tls_files(folder: Path) -> TlsFiles:
    """A throw-away CA and a certificate it signed for 127.0.0.1 and localhost."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "FAROS test CA")])
    ca = (
        _certificate(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    leaf = (
        _certificate(subject, ca_name, key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.certificate.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def _certificate(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


# --------------------------------------------------------------------------- Resend (fake API)

RESEND_API_KEY = "re_test_" + uuid.uuid4().hex
# A base URL under this prefix makes the fake answer 500, like Resend having a bad day.
RESEND_FAILING_PREFIX = "/always-500"
_RESEND_FIELDS = {"from": str, "to": list, "subject": str, "text": str, "html": str}


class _ResendHandler(BaseHTTPRequestHandler):
    server: _ResendServer

    def do_POST(self) -> None:
        if self.path.startswith(RESEND_FAILING_PREFIX):
            self._answer(500, {"statusCode": 500, "name": "application_error"})
        elif self.path != "/emails":
            self._answer(404, {"statusCode": 404, "name": "not_found"})
        elif self.headers.get("Authorization") != f"Bearer {RESEND_API_KEY}":
            self._answer(401, {"statusCode": 401, "name": "invalid_api_key"})
        elif self.headers.get_content_type() != "application/json":
            self._answer(415, {"statusCode": 415, "name": "invalid_content_type"})
        else:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if set(body) != set(_RESEND_FIELDS) or not all(
                isinstance(body[name], kind) for name, kind in _RESEND_FIELDS.items()
            ):
                self._answer(422, {"statusCode": 422, "name": "validation_error"})
                return
            self.server.received.append(body)
            self._answer(200, {"id": str(uuid.uuid4())})

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


class _ResendServer(ThreadingHTTPServer):
    received: list[dict[str, Any]]


class ResendInbox:
    """A local stand-in for api.resend.com that validates and records ``POST /emails``."""

    def __init__(self) -> None:
        self._server = _ResendServer(("127.0.0.1", 0), _ResendHandler)
        self._server.received = []
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    async def messages_to(self, address: str) -> list[Delivered]:
        return [
            Delivered(body["from"], body["to"], body["subject"], body["text"], body["html"])
            for body in self._server.received
            if address in body["to"]
        ]


# --------------------------------------------------------------------------- SES (moto server)
# The moto server itself and dummy AWS credentials come from blob_fixtures (shared with S3).


async def verify_ses_identity(endpoint_url: str, address: str, region: str) -> None:
    """SES (and moto) reject mail from an address that was not verified first."""
    session = aioboto3.Session()
    async with session.client("ses", region_name=region, endpoint_url=endpoint_url) as client:
        await client.verify_email_identity(EmailAddress=address)


class SesInbox:
    """Reads what the moto server accepted straight from its SES backend.

    `ThreadedMotoServer` runs in the test process, so its backends are this process's. (Its
    `/moto-api/data.json` dump is not usable: it fails with 500 once the S3 tests, which share
    the server, have left multipart uploads behind.)
    """

    def __init__(self, endpoint_url: str, region: str) -> None:
        self.endpoint_url = endpoint_url
        self.region = region

    async def messages_to(self, address: str) -> list[Delivered]:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        stored = ses_backends[DEFAULT_ACCOUNT_ID][self.region].sent_messages
        return [
            parse_mime(entry.raw_data.encode())
            for entry in stored
            if any(address in destination for destination in entry.destinations)
        ]
