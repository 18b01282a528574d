"""One RFC 5322 rendering of an ``EmailMessage`` for every transport that speaks MIME."""

from __future__ import annotations

import email.message
import email.policy
from datetime import UTC, datetime
from email.utils import format_datetime, make_msgid, parseaddr

from faros.domain.emails import EmailMessage
from faros.domain.text import one_line

# Used for the Message-ID when the sender has no usable domain (``faros@localhost`` has one).
_FALLBACK_DOMAIN = "faros.invalid"


def build_mime(message: EmailMessage, sender: str) -> email.message.EmailMessage:
    """Return a multipart/alternative message: plain text first, HTML last (the preferred one).

    The subject is made one line here too, not only where it is composed: a message queued
    before titles refused line breaks must still be sendable, and a header can never be
    injected through it. Raises ``ValueError`` for other header values with CR or LF in them.
    """
    mime = email.message.EmailMessage(policy=email.policy.SMTP)
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = one_line(message.subject)
    mime["Date"] = format_datetime(datetime.now(UTC))
    # make_msgid() without a domain asks DNS for this host's FQDN, which can stall for seconds.
    mime["Message-ID"] = make_msgid(domain=_domain_of(sender))
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    return mime


def to_bytes(mime: email.message.EmailMessage) -> bytes:
    """Serialise with CRLF line ends and RFC 2047 encoded headers, as RFC 5322 asks."""
    return mime.as_bytes(policy=email.policy.SMTP)


def _domain_of(sender: str) -> str:
    _, address = parseaddr(sender)
    _, at, domain = address.rpartition("@")
    return domain if at and domain else _FALLBACK_DOMAIN
