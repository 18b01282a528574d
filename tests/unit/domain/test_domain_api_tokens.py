"""The pure rules of personal access tokens."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from faros.domain import api_tokens
from faros.domain.api_tokens import (
    LOGIN_ONLY,
    PREFIX,
    ApiToken,
    InsufficientScope,
    allow,
    canonical_scopes,
    expiry,
    is_live,
    is_personal,
    new_secret,
    same_hash,
    secret_hash,
    touch_due,
)

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
TOKEN = ApiToken(
    id=1,
    user_id=1,
    name="ci",
    scopes=("tasks:read",),
    token_hash="0" * 64,
    created_at=NOW,
    expires_at=NOW + timedelta(days=1),
)


def test_secrets_carry_the_prefix_and_256_random_bits() -> None:
    secrets = {new_secret() for _ in range(100)}
    assert len(secrets) == 100
    for secret in secrets:
        assert secret.startswith(PREFIX)
        assert is_personal(secret)
        assert len(secret) - len(PREFIX) == 43  # 32 bytes, base64url without padding


def test_a_jwt_is_not_taken_for_a_token() -> None:
    assert not is_personal("eyJhbGciOiJIUzI1NiJ9.e30.sig")
    assert not is_personal("FAROS_PAT_x")


def test_the_stored_hash_is_the_secrets_sha256() -> None:
    secret = "faros_pat_abc"
    assert secret_hash(secret) == hashlib.sha256(b"faros_pat_abc").hexdigest()
    assert same_hash(secret_hash(secret), secret_hash(secret))
    assert not same_hash(secret_hash(secret), secret_hash("faros_pat_abd"))


def test_scopes_are_kept_once_in_the_listed_order() -> None:
    assert canonical_scopes(["files:read", "tasks:read", "files:read"]) == (
        "tasks:read",
        "files:read",
    )
    assert canonical_scopes([]) == ()


@pytest.mark.parametrize("days", [0, -1, 366])
def test_expiry_is_one_day_to_a_year(days: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.365"):
        expiry(NOW, days)


def test_a_token_lives_until_its_expiry() -> None:
    assert expiry(NOW, 1) == NOW + timedelta(days=1)
    assert expiry(NOW, 365) == NOW + timedelta(days=365)
    assert is_live(TOKEN, TOKEN.expires_at - timedelta(microseconds=1))
    assert not is_live(TOKEN, TOKEN.expires_at)


def test_a_use_is_recorded_once_a_minute() -> None:
    assert touch_due(TOKEN, NOW)
    used = replace(TOKEN, last_used_at=NOW)
    assert not touch_due(used, NOW + api_tokens.TOUCH_INTERVAL - timedelta(seconds=1))
    assert touch_due(used, NOW + api_tokens.TOUCH_INTERVAL)


def test_allow_checks_the_scope_and_refuses_login_only_and_unmapped_routes() -> None:
    allow(("tasks:read", "files:read"), "files:read")
    with pytest.raises(InsufficientScope) as refused:
        allow(("tasks:read",), "tasks:write")
    assert refused.value.scope == "tasks:write"
    for need in (LOGIN_ONLY, None):
        with pytest.raises(InsufficientScope) as refused:
            allow(api_tokens.SCOPES, need)
        assert refused.value.scope is None


# --------------------------------------------------------------------------- idempotent secrets


def test_a_derived_secret_depends_on_every_input_and_is_256_bits() -> None:
    server = api_tokens.derivation_key("server secret")
    nonce = api_tokens.new_placeholder()
    base = api_tokens.derived_secret(server, 1, "k", b"\x01" * 32, nonce)
    assert base == api_tokens.derived_secret(server, 1, "k", b"\x01" * 32, nonce)
    assert base.startswith(api_tokens.PREFIX)
    assert len(base64.urlsafe_b64decode(base.removeprefix(api_tokens.PREFIX) + "=")) == 32
    others = {
        api_tokens.derived_secret(api_tokens.derivation_key("other"), 1, "k", b"\x01" * 32, nonce),
        api_tokens.derived_secret(server, 2, "k", b"\x01" * 32, nonce),
        api_tokens.derived_secret(server, 1, "k2", b"\x01" * 32, nonce),
        api_tokens.derived_secret(server, 1, "k", b"\x02" * 32, nonce),
        api_tokens.derived_secret(server, 1, "k", b"\x01" * 32, api_tokens.new_placeholder()),
    }
    assert base not in others
    assert len(others) == 5


def test_the_secret_goes_back_where_its_placeholder_was() -> None:
    placeholder = api_tokens.new_placeholder()
    kept = json.dumps({"id": 1, "name": "faros_pat_withheld_x", "token": placeholder}).encode()
    body = api_tokens.with_secret(kept, lambda nonce: f"secret-for-{nonce}")
    assert json.loads(body) == {
        "id": 1,
        "name": "faros_pat_withheld_x",
        "token": f"secret-for-{placeholder}",
    }
    with pytest.raises(ValueError, match="placeholder"):
        api_tokens.with_secret(b'{"token": "faros_pat_abc"}', lambda nonce: nonce)
