"""Webhook rules: the address policy, URL checks, Standard Webhooks signatures, retry window."""

from __future__ import annotations

import ipaddress
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from faros.domain.errors import FieldInvalid
from faros.domain.outbox import (
    WEBHOOK_MAX_ATTEMPTS,
    WEBHOOK_RETRY_WINDOW,
    OutboxMessage,
    retry_delay_seconds,
    retry_outlives_window,
)
from faros.domain.webhooks import (
    DISABLE_AFTER_FAILURES,
    Webhook,
    check_url,
    event_body,
    new_secret,
    refused_address,
    should_disable,
    signed_headers,
)

REFUSED = [
    "127.0.0.1",
    "127.5.5.5",
    "10.0.0.7",
    "172.16.3.4",
    "192.168.1.1",
    "169.254.169.254",
    "169.254.1.1",
    "100.64.0.1",
    "100.127.255.254",
    "0.0.0.0",  # noqa: S104 - an address refused, not bound
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.5",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.1.2.3",
    "::127.0.0.1",
    "2002:7f00:0001::",
    "2002:a9fe:a9fe::1",
    "64:ff9b::7f00:1",
    "64:ff9b::a9fe:a9fe",
    "2001:db8::1",
]
ALLOWED = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("text", REFUSED)
def test_non_public_addresses_are_refused(text: str) -> None:
    assert refused_address(ipaddress.ip_address(text)) is not None


@pytest.mark.parametrize("text", ALLOWED)
def test_public_addresses_pass(text: str) -> None:
    assert refused_address(ipaddress.ip_address(text)) is None


def test_metadata_is_named() -> None:
    assert refused_address(ipaddress.ip_address("169.254.169.254")) == "a cloud metadata address"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "ftp://example.com/hook",
        "https:///nohost",
        "https://user:pw@example.com/",
        "https://example.com:0/",
        "https://example.com:99999/",
        "https://exa mple.com/",
        "javascript:alert(1)",
        "https://example.com/" + "a" * 2000,
    ],
)
def test_urls_refused_in_production(url: str) -> None:
    with pytest.raises(FieldInvalid) as caught:
        check_url(url, allow_http=False, loc=("body", "url"))
    assert caught.value.loc == ("body", "url")


def test_http_allowed_only_in_development() -> None:
    check_url("http://example.com/hook", allow_http=True, loc=("body", "url"))
    check_url("https://example.com:8443/hook?x=1", allow_http=False, loc=("body", "url"))


def test_signature_verifies_with_the_standard_webhooks_package() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    body = event_body("msg_1", "task.created", datetime.now(UTC), {"id": 1, "title": "é"})
    timestamp = int(datetime.now(UTC).timestamp())
    headers = signed_headers(secret, "msg_1", timestamp, body)
    assert Verifier(secret).verify(body, headers)["data"] == {"id": 1, "title": "é"}
    tampered = body.replace('"id":1', '"id":2')
    with pytest.raises(Exception, match="signature"):
        Verifier(secret).verify(tampered, headers)
    with pytest.raises(Exception, match="signature"):
        Verifier(new_secret()).verify(body, headers)


def test_secrets_are_fresh_and_long() -> None:
    import base64

    first, second = new_secret(), new_secret()
    assert first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) >= 24


def test_webhook_retries_grow_and_stop_within_a_day() -> None:
    created = datetime(2030, 1, 1, tzinfo=UTC)
    message = OutboxMessage(1, "webhook", {}, 0, created)
    delays = [retry_delay_seconds(n, "webhook") for n in range(1, WEBHOOK_MAX_ATTEMPTS + 1)]
    assert delays[:4] == [5, 20, 80, 320]
    assert all(later >= earlier for earlier, later in itertools.pairwise(delays))
    elapsed = timedelta()
    attempts = 1
    for delay in delays:
        elapsed += timedelta(seconds=delay)
        if retry_outlives_window(message, created + elapsed):
            break
        attempts += 1
    assert elapsed > WEBHOOK_RETRY_WINDOW - timedelta(hours=6)
    assert attempts <= WEBHOOK_MAX_ATTEMPTS
    # Other kinds keep their ten-minute cap and are never cut by the window.
    assert retry_delay_seconds(20) == 600
    email = OutboxMessage(2, "send_email", {}, 0, created)
    assert not retry_outlives_window(email, created + timedelta(days=5))


def test_disable_after_fifty_failures_or_three_days() -> None:
    now = datetime(2030, 1, 4, tzinfo=UTC)
    hook = Webhook(1, 1, "https://x", ["task.created"], None, "whsec_AA", True, now)
    hook.consecutive_failures = DISABLE_AFTER_FAILURES - 1
    hook.failing_since = now - timedelta(days=1)
    assert not should_disable(hook, now)
    hook.consecutive_failures = DISABLE_AFTER_FAILURES
    assert should_disable(hook, now)
    hook.consecutive_failures = 3
    hook.failing_since = now - timedelta(days=3)
    assert should_disable(hook, now)
