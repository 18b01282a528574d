"""Contract of the EmailSender port: every adapter delivers the same message to a real receiver,
and every way delivery can fail surfaces as ``EmailDeliveryError`` (which the outbox retries).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

import pytest
from blob_fixtures import aws_credentials, moto_endpoint  # noqa: F401  (fixtures found by name)
from email_receivers import (
    RESEND_API_KEY,
    RESEND_FAILING_PREFIX,
    FolderInbox,
    Inbox,
    ResendInbox,
    SesInbox,
    SmtpInbox,
    TlsFiles,
    canonical_body,
    free_port,
    make_tls_files,
    password_authenticator,
    verify_ses_identity,
)

from faros.adapters.email.outbox_dir import OutboxDirEmailSender
from faros.adapters.email.resend import ResendEmailSender
from faros.adapters.email.ses import SesEmailSender
from faros.adapters.email.smtp import SmtpEmailSender
from faros.domain.emails import EmailMessage, task_shared
from faros.ports.email_sender import EmailDeliveryError, EmailSender

SENDER_ADDRESS = "faros@example.com"
SENDER = f"FAROS <{SENDER_ADDRESS}>"
# Not moto's default region: mail only flows if the adapter really talks to this one, where
# the sender identity is verified.
REGION = "eu-west-1"
ADAPTERS = ["outbox-dir", pytest.param("smtp", marks=pytest.mark.smtp), "resend", "ses"]


def fresh_recipient() -> str:
    # Receivers live for the whole session; a new address per test keeps tests apart.
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


def tricky_message(to: str) -> EmailMessage:
    """Non-ASCII everywhere, a subject long enough to be folded, and markup to keep escaped."""
    return task_shared(
        to,
        actor="Zoë <admin> & co",
        task_title="Überprüfung «Q3» <script>alert(1)</script> — 日本語のタスク ✓ " + "lang " * 8,
        permission="edit",
        frontend_url="https://faros.example.com",
    )


# --------------------------------------------------------------------------- receivers


@pytest.fixture(scope="session")
def smtp_inbox() -> Iterator[SmtpInbox]:
    with SmtpInbox() as inbox:
        yield inbox


@pytest.fixture(scope="session")
def resend_inbox() -> Iterator[ResendInbox]:
    with ResendInbox() as inbox:
        yield inbox


@pytest.fixture(scope="session")
async def ses_endpoint_url(moto_endpoint: str) -> str:
    await verify_ses_identity(moto_endpoint, SENDER_ADDRESS, REGION)
    return moto_endpoint


@pytest.fixture(params=ADAPTERS)
def inbox(request: pytest.FixtureRequest, tmp_path: Path) -> Inbox:
    """The receiver for one adapter; session receivers are started only when asked for."""
    kind: str = request.param
    if kind == "outbox-dir":
        return FolderInbox(tmp_path / "outbox")
    if kind == "smtp":
        smtp: SmtpInbox = request.getfixturevalue("smtp_inbox")
        return smtp
    if kind == "resend":
        resend: ResendInbox = request.getfixturevalue("resend_inbox")
        return resend
    return SesInbox(request.getfixturevalue("ses_endpoint_url"), REGION)


@pytest.fixture
async def sender(inbox: Inbox) -> AsyncIterator[EmailSender]:
    """The adapter pointed at ``inbox``."""
    if isinstance(inbox, FolderInbox):
        yield OutboxDirEmailSender(inbox.directory, SENDER)
    elif isinstance(inbox, SmtpInbox):
        yield SmtpEmailSender(inbox.host, inbox.port, SENDER)
    elif isinstance(inbox, ResendInbox):
        resend = ResendEmailSender(RESEND_API_KEY, SENDER, base_url=inbox.base_url)
        yield resend
        await resend.aclose()
    else:
        assert isinstance(inbox, SesInbox)
        ses = SesEmailSender(SENDER, region=REGION, endpoint_url=inbox.endpoint_url)
        yield ses
        await ses.close()


# --------------------------------------------------------------------------- delivery


async def test_delivers_sender_recipient_subject_and_both_bodies(
    sender: EmailSender, inbox: Inbox
) -> None:
    to = fresh_recipient()
    message = tricky_message(to)

    await sender.send(message)

    [got] = await inbox.messages_to(to)
    assert parseaddr(got.sender) == ("FAROS", SENDER_ADDRESS)
    assert got.to == [to]
    assert got.subject == message.subject
    assert canonical_body(got.text) == canonical_body(message.text)
    assert canonical_body(got.html) == canonical_body(message.html)
    assert "&lt;script&gt;" in got.html
    assert "<script>" not in got.html


async def test_a_subject_with_line_breaks_is_sent_on_one_line(
    sender: EmailSender, inbox: Inbox
) -> None:
    """A message queued before titles refused control characters (#14 item 12) still goes out,
    its subject on one line and no header injected from it."""
    to = fresh_recipient()
    message = EmailMessage(to, "Task Shared: T\r\nBcc: x@evil.example\x07", "text", "<p>html</p>")

    await sender.send(message)

    [got] = await inbox.messages_to(to)
    assert got.subject == "Task Shared: T Bcc: x@evil.example "
    assert got.to == [to]
    if got.mime is not None:
        assert got.mime["Bcc"] is None


# Resend takes JSON and builds the MIME itself, so only the adapters that send ours are checked.
MIME_ADAPTERS = ["outbox-dir", pytest.param("smtp", marks=pytest.mark.smtp), "ses"]


@pytest.mark.parametrize("inbox", MIME_ADAPTERS, indirect=True)
async def test_mime_is_multipart_alternative_with_date_and_message_id(
    sender: EmailSender, inbox: Inbox
) -> None:
    to = fresh_recipient()

    await sender.send(tricky_message(to))

    [got] = await inbox.messages_to(to)
    assert got.mime is not None
    assert got.mime.get_content_type() == "multipart/alternative"
    parts = [(part.get_content_type(), part.get_content_charset()) for part in got.mime.walk()]
    assert parts[1:] == [("text/plain", "utf-8"), ("text/html", "utf-8")]
    sent_at = parsedate_to_datetime(got.mime["Date"])
    assert abs(datetime.now(UTC) - sent_at) < timedelta(minutes=1)
    assert re.fullmatch(r"<[^<>@\s]+@example\.com>", got.mime["Message-ID"])


async def test_each_send_delivers_exactly_one_message(sender: EmailSender, inbox: Inbox) -> None:
    to = fresh_recipient()
    first = EmailMessage(to, "first", "one", "<p>one</p>")
    # One 3000-character line: SMTP allows 998, so the body must be transfer-encoded intact.
    second = EmailMessage(to, "second", "two", "<p>" + "x" * 3000 + "</p>")

    await sender.send(first)
    await sender.send(second)

    got = sorted(await inbox.messages_to(to), key=lambda message: message.subject)
    assert [message.subject for message in got] == ["first", "second"]
    assert canonical_body(got[1].html) == second.html


# --------------------------------------------------------------------------- failures

FAILURES = [
    "outbox-dir-not-writable",
    pytest.param("smtp-server-down", marks=pytest.mark.smtp),
    "resend-answers-500",
    "resend-answers-401",
    "ses-endpoint-down",
]


@pytest.fixture(params=FAILURES)
async def failing_sender(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[EmailSender]:
    kind: str = request.param
    if kind == "outbox-dir-not-writable":
        occupied = tmp_path / "outbox"
        occupied.write_text("a file where the folder should be")
        yield OutboxDirEmailSender(occupied, SENDER)
    elif kind == "smtp-server-down":
        yield SmtpEmailSender("127.0.0.1", free_port(), SENDER, timeout=2.0)
    elif kind.startswith("resend-"):
        inbox: ResendInbox = request.getfixturevalue("resend_inbox")
        if kind == "resend-answers-500":
            failing_url = inbox.base_url + RESEND_FAILING_PREFIX
            resend = ResendEmailSender(RESEND_API_KEY, SENDER, base_url=failing_url)
        else:
            resend = ResendEmailSender("re_revoked_key", SENDER, base_url=inbox.base_url)
        yield resend
        await resend.aclose()
    else:
        request.getfixturevalue("aws_credentials")  # so the failure is the network, not signing
        ses = SesEmailSender(SENDER, region=REGION, endpoint_url=f"http://127.0.0.1:{free_port()}")
        yield ses
        await ses.close()


async def test_failure_raises_delivery_error(
    failing_sender: EmailSender, request: pytest.FixtureRequest
) -> None:
    with pytest.raises(EmailDeliveryError) as raised:
        await failing_sender.send(tricky_message(fresh_recipient()))

    reason = str(raised.value)
    for status in ("500", "401"):
        if request.node.callspec.params["failing_sender"].endswith(status):
            assert status in reason
    assert RESEND_API_KEY not in reason
    assert "re_revoked_key" not in reason


# --------------------------------------------------------------------------- outbox folder


async def test_outbox_dir_writes_one_eml_and_logs_only_its_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "outbox"
    message = tricky_message(fresh_recipient())

    with caplog.at_level(logging.INFO, logger="faros.adapters.email"):
        await OutboxDirEmailSender(folder, SENDER).send(message)

    [written] = list(folder.iterdir())  # nothing else: the temporary file was renamed
    assert re.fullmatch(r"\d{8}T\d{12}Z-[0-9a-f]{8}\.eml", written.name)
    assert str(written) in caplog.text
    assert "Überprüfung" not in caplog.text
    assert message.to not in caplog.text


# --------------------------------------------------------------------------- SMTP security


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trusting_test_ca(tls_files: TlsFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    # The sender trusts the system store; OpenSSL lets SSL_CERT_FILE stand in for it.
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.ca))


@pytest.mark.smtp
@pytest.mark.usefixtures("trusting_test_ca")
async def test_smtp_starttls_then_login(tls_files: TlsFiles) -> None:
    with SmtpInbox(
        tls_context=tls_files.server_context(),
        require_starttls=True,
        auth_required=True,
        authenticator=password_authenticator("mailer", "s3cret"),
    ) as inbox:
        to = fresh_recipient()
        secure = SmtpEmailSender(
            inbox.host, inbox.port, SENDER, username="mailer", password="s3cret", tls="starttls"
        )
        await secure.send(tricky_message(to))
        assert len(await inbox.messages_to(to)) == 1

        wrong = SmtpEmailSender(
            inbox.host, inbox.port, SENDER, username="mailer", password="guess", tls="starttls"
        )
        with pytest.raises(EmailDeliveryError, match="SMTPAuthenticationError"):
            await wrong.send(tricky_message(fresh_recipient()))


@pytest.mark.smtp
@pytest.mark.usefixtures("trusting_test_ca")
async def test_smtp_implicit_tls(tls_files: TlsFiles) -> None:
    with SmtpInbox(ssl_context=tls_files.server_context()) as inbox:
        to = fresh_recipient()
        await SmtpEmailSender(inbox.host, inbox.port, SENDER, tls="tls").send(tricky_message(to))
        assert len(await inbox.messages_to(to)) == 1


@pytest.mark.smtp
async def test_smtp_refuses_a_certificate_it_cannot_verify(tls_files: TlsFiles) -> None:
    with SmtpInbox(ssl_context=tls_files.server_context()) as inbox:
        untrusting = SmtpEmailSender(inbox.host, inbox.port, SENDER, tls="tls")
        with pytest.raises(EmailDeliveryError, match="SSLCertVerificationError"):
            await untrusting.send(tricky_message(fresh_recipient()))
