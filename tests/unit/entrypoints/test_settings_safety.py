"""Start-up refusals of unsafe production settings (#14 item 5): CORS origins, secret key."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from faros.entrypoints.settings import (
    DEFAULT_CORS_ORIGINS,
    Settings,
    SettingsError,
    guessable_secret,
    load_settings,
)

GOOD_SECRET = "k7Qv2-Jx9_pLr4Zt8WmN3cYb6HdFs1Ue5GaKo0Ti"


def production(**variables: str) -> dict[str, str]:
    return {"FAROS_ENVIRONMENT": "production", "FAROS_SECRET_KEY": GOOD_SECRET, **variables}


def load(env: dict[str, str]) -> Settings:
    return load_settings(env, dotenv=None)


# --- FAROS_CORS_ORIGINS -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        "*",
        "null",
        "https://*.example.com",
        "https://app.example/path",
        "https://app.example?x=1",
        "https://user@app.example",
        "app.example",
        "ftp://app.example",
        "https://app.example:99999",
        "https://app.example:",
        "https://:443",
        "https://bücher.example",
        "http://[::g]:5173",
        "http://[1.2.3.4]",
    ],
)
def test_production_refuses_entries_that_are_not_origins(entry: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load(production(FAROS_CORS_ORIGINS=f"https://app.example,{entry}"))
    message = str(refused.value)
    assert message.startswith("FAROS_CORS_ORIGINS")
    assert repr(entry) in message


def test_production_keeps_real_origins_in_the_form_browsers_send() -> None:
    settings = load(
        production(
            FAROS_CORS_ORIGINS=(
                "https://App.Example/, http://localhost:5173, https://a.example:443, "
                "http://b.example:80, https://c.example:8443, http://[0:0::1]:5173, "
                "https://app.example"
            )
        )
    )
    assert settings.cors_origins == (
        "https://app.example",
        "http://localhost:5173",
        "https://a.example",
        "http://b.example",
        "https://c.example:8443",
        "http://[::1]:5173",
    )


def test_the_default_origins_pass_in_production() -> None:
    assert load(production()).cors_origins == DEFAULT_CORS_ORIGINS


def test_development_warns_keeps_the_wildcard_and_drops_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="faros.settings"):
        settings = load(
            {"FAROS_SECRET_KEY": GOOD_SECRET, "FAROS_CORS_ORIGINS": "*,null,http://a.example"}
        )
    assert settings.cors_origins == ("*", "http://a.example")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'*'" in w and "credentials" in w for w in warnings), warnings
    assert any("'null'" in w and "ignored" in w for w in warnings), warnings


# --- FAROS_SECRET_KEY ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        "a" * 40,
        "ab" * 20,
        "abcdefgh" * 5,
        "0123456789abcdef" * 2,
        "password1234password1234password",
        "a" * 20 + "b" * 20,
        "x" * 31 + "yz",
    ],
)
def test_production_refuses_a_predictable_secret(secret: str) -> None:
    assert guessable_secret(secret)
    with pytest.raises(SettingsError) as refused:
        load(production(FAROS_SECRET_KEY=secret))
    message = str(refused.value)
    assert message.startswith("FAROS_SECRET_KEY")
    assert secret not in message


def test_production_accepts_random_secrets() -> None:
    makers = (
        lambda: secrets.token_hex(16),  # 32 characters, 128 bits
        lambda: secrets.token_hex(32),
        lambda: secrets.token_urlsafe(24),
        lambda: secrets.token_urlsafe(48),
    )
    for make in makers:
        for _ in range(200):
            secret = make()
            assert not guessable_secret(secret), secret
            assert load(production(FAROS_SECRET_KEY=secret)).secret_key == secret


def test_development_does_not_judge_the_secret() -> None:
    assert load({"FAROS_SECRET_KEY": "a" * 40}).secret_key == "a" * 40


# --- the real CLI ------------------------------------------------------------------------------


def run_cli(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FAROS_")}
    # Should the settings be accepted, start-up fails fast on this database instead of
    # starting an embedded PostgreSQL and serving.
    env["FAROS_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/unreachable"
    env.update(variables)
    return subprocess.run(
        [sys.executable, "-m", "faros.entrypoints.cli", "serve"],
        cwd=tmp_path,  # no developer .env
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"FAROS_CORS_ORIGINS": "*"}, "FAROS_CORS_ORIGINS: '*'"),
        ({"FAROS_CORS_ORIGINS": "https://app.example,null"}, "FAROS_CORS_ORIGINS: 'null'"),
        ({"FAROS_SECRET_KEY": "a" * 40}, "FAROS_SECRET_KEY is too predictable"),
    ],
)
def test_faros_serve_refuses_to_start(
    tmp_path: Path, variables: dict[str, str], named: str
) -> None:
    finished = run_cli(tmp_path, **production(**variables))
    assert finished.returncode != 0
    assert f"faros: {named}" in finished.stderr, finished.stderr
    assert "Traceback" not in finished.stderr
