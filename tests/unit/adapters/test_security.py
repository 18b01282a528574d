"""Password hashing (argon2id, legacy bcrypt), access tokens, and the clocks tokens depend on."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import statistics
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import bcrypt
import jwt
import pytest
from argon2 import Type as Argon2Type
from argon2 import extract_parameters
from cryptography.hazmat.primitives.asymmetric import rsa

from faros.adapters.memory.clock import ManualClock
from faros.adapters.security import Argon2PasswordHasher, JwtTokenIssuer
from faros.adapters.security.argon2_hasher import default_workers
from faros.adapters.system_clock import SystemClock
from faros.domain.errors import AuthenticationFailed
from faros.ports.clock import Clock
from faros.ports.password_hasher import PasswordHasher
from faros.ports.token_issuer import TokenIssuer

SECRET = "test-secret-that-is-at-least-32-bytes-long"
START = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
INVALID = "Invalid or expired token"
PAYLOAD = "Invalid token payload"

# =========================================================================== password hashing


@pytest.fixture(scope="module")
async def owasp_hasher() -> AsyncIterator[Argon2PasswordHasher]:
    hasher = Argon2PasswordHasher()
    yield hasher
    await hasher.aclose()


@pytest.fixture(scope="module")
async def cheap_hasher() -> AsyncIterator[Argon2PasswordHasher]:
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=1024)
    yield hasher
    await hasher.aclose()


def _bcrypt(password: str, prefix: bytes = b"$2b$") -> str:
    hashed = bcrypt.hashpw(password[:72].encode(), bcrypt.gensalt(rounds=4))
    return (prefix + hashed[4:]).decode()


async def test_hashes_are_argon2id_with_owasp_parameters(
    owasp_hasher: Argon2PasswordHasher,
) -> None:
    hashed = await owasp_hasher.hash("correct horse")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    params = extract_parameters(hashed)
    assert (params.type, params.memory_cost, params.time_cost, params.parallelism) == (
        Argon2Type.ID,
        19456,
        2,
        1,
    )
    assert not owasp_hasher.needs_rehash(hashed)


async def test_same_password_gets_a_fresh_salt(cheap_hasher: Argon2PasswordHasher) -> None:
    assert await cheap_hasher.hash("pw") != await cheap_hasher.hash("pw")


async def test_verify_accepts_the_password_and_nothing_else(
    cheap_hasher: Argon2PasswordHasher,
) -> None:
    hashed = await cheap_hasher.hash("correct horse")
    assert await cheap_hasher.verify(hashed, "correct horse")
    assert not await cheap_hasher.verify(hashed, "Correct horse")
    assert not await cheap_hasher.verify(hashed, "")


async def test_odd_unicode_never_breaks_hashing(cheap_hasher: Argon2PasswordHasher) -> None:
    for password in ("pässwörd ✓ 🔑", "lone \ud800 surrogate"):
        hashed = await cheap_hasher.hash(password)
        assert await cheap_hasher.verify(hashed, password)
        assert await cheap_hasher.verify(_bcrypt("x"), password) is False


@pytest.mark.parametrize(
    "unreadable",
    ["", "plain-text", "$argon2id$v=19$m=1024,t=1,p=1$garbage", "$2b$12$short", "$2b$"],
)
async def test_verify_says_no_to_unreadable_hashes(
    cheap_hasher: Argon2PasswordHasher, unreadable: str
) -> None:
    assert await cheap_hasher.verify(unreadable, "anything") is False


async def test_outdated_argon2_parameters_need_a_rehash(
    cheap_hasher: Argon2PasswordHasher, owasp_hasher: Argon2PasswordHasher
) -> None:
    cheap = await cheap_hasher.hash("pw")
    assert owasp_hasher.needs_rehash(cheap)
    assert await owasp_hasher.verify(cheap, "pw")  # still verifies: parameters travel in it


@pytest.mark.parametrize("prefix", [b"$2a$", b"$2b$", b"$2y$"])
async def test_legacy_bcrypt_hashes_verify_and_need_a_rehash(
    owasp_hasher: Argon2PasswordHasher, prefix: bytes
) -> None:
    legacy = _bcrypt("secret123", prefix)
    assert await owasp_hasher.verify(legacy, "secret123")
    assert not await owasp_hasher.verify(legacy, "secret124")
    assert owasp_hasher.needs_rehash(legacy)


async def test_legacy_bcrypt_reads_only_72_bytes_like_the_original(
    cheap_hasher: Argon2PasswordHasher,
) -> None:
    long_password = "x" * 72 + "tail the original never saw"
    legacy = _bcrypt(long_password)
    assert await cheap_hasher.verify(legacy, long_password)  # bcrypt 5 would raise here


async def test_burn_costs_about_one_verification(owasp_hasher: Argon2PasswordHasher) -> None:
    hashed = await owasp_hasher.hash("real password")
    await owasp_hasher.burn("warm-up")  # the first burn also makes the dummy hash

    async def timed(coro_factory: Any) -> float:
        started = time.perf_counter()
        await coro_factory()
        return time.perf_counter() - started

    verify_times, burn_times = [], []
    for _ in range(5):
        verify_times.append(await timed(lambda: owasp_hasher.verify(hashed, "wrong")))
        burn_times.append(await timed(lambda: owasp_hasher.burn("wrong")))
    ratio = statistics.median(burn_times) / statistics.median(verify_times)
    assert 0.33 < ratio < 3, (verify_times, burn_times)


async def test_hashing_runs_off_the_event_loop_on_a_bounded_pool() -> None:
    hasher = Argon2PasswordHasher(workers=2)
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.001)

    ticking = asyncio.create_task(ticker())
    try:
        hashes = await asyncio.gather(*(hasher.hash(f"pw{i}") for i in range(6)))
        workers = hasher.worker_pids()
    finally:
        done.set()
        await ticking
        await hasher.aclose()
    assert len(set(hashes)) == 6
    assert len(workers) == 2  # six jobs queued for two processes, not six
    assert os.getpid() not in workers
    assert ticks >= 10  # the loop kept running while ~6 x 20 ms of hashing went on
    assert hasher.worker_pids() == []


def _nice_and_policy(pid: int) -> tuple[int, int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[16]), int(fields[38])  # proc(5): nice (19th field), policy (41st)


@pytest.mark.skipif(os.uname().sysname != "Linux", reason="SCHED_IDLE is Linux's")
async def test_hashing_processes_run_at_the_lowest_priority() -> None:
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=8, workers=1)
    try:
        await hasher.hash("pw")
        (worker,) = hasher.worker_pids()
        assert _nice_and_policy(worker) == (19, os.SCHED_IDLE)
    finally:
        await hasher.aclose()
    # The application's own process keeps its priority.
    assert _nice_and_policy(os.getpid()) == (0, os.SCHED_OTHER)


async def test_a_dead_worker_is_replaced_and_its_job_done() -> None:
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=8, workers=1)
    try:
        hashed = await hasher.hash("pw")
        (first,) = hasher.worker_pids()
        os.kill(first, signal.SIGKILL)
        assert await hasher.verify(hashed, "pw")
        (second,) = hasher.worker_pids()
        assert second != first
    finally:
        await hasher.aclose()


async def test_a_request_that_gives_up_does_not_derail_the_next() -> None:
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=8, workers=1)
    try:
        hashed = await hasher.hash("pw")
        # Cancelled once its job is sent: its answer must not be read as the next one's.
        abandoned = asyncio.create_task(hasher.verify(hashed, "wrong"))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        abandoned.cancel()
        assert await hasher.verify(hashed, "pw") is True
        assert await hasher.verify(hashed, "wrong") is False
    finally:
        await hasher.aclose()


async def _served_in_order(hasher: Argon2PasswordHasher, *waves: list[str]) -> list[str]:
    """Queue each wave's jobs (one per caller named) behind the last, all on one worker; the
    order in which the callers were answered."""
    answered: list[str] = []

    async def job(caller: str) -> None:
        await hasher.hash("pw", caller=caller)
        answered.append(caller)

    tasks = []
    for wave in waves:
        tasks += [asyncio.create_task(job(caller)) for caller in wave]
        # Each task runs up to its turn at the hasher: the next wave queues behind this one.
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    return answered


async def test_another_callers_job_goes_before_a_floods_backlog() -> None:
    hasher = Argon2PasswordHasher(
        time_cost=1, memory_cost=8, workers=1, rest_ratio=0.0, busy_rest_ratio=0.0
    )
    try:
        answered = await _served_in_order(hasher, ["user_1"] * 8, ["ip_10.0.0.9"])
    finally:
        await hasher.aclose()
    # The flood's first job was on the worker when the login came; the login went next,
    # not after the flood's other seven.
    assert answered == ["user_1", "ip_10.0.0.9"] + ["user_1"] * 7


async def test_waiting_callers_take_turns() -> None:
    hasher = Argon2PasswordHasher(
        time_cost=1, memory_cost=8, workers=1, rest_ratio=0.0, busy_rest_ratio=0.0
    )
    try:
        answered = await _served_in_order(hasher, ["a"] * 4 + ["b"] * 4, ["c"])
    finally:
        await hasher.aclose()
    assert answered == ["a", "b", "c", "a", "b", "a", "b", "a", "b"]


async def test_a_job_that_gives_up_in_the_queue_costs_no_hash_nor_a_turn() -> None:
    hasher = _TimedHasher(time_cost=1, memory_cost=8, workers=1)
    try:
        running = asyncio.create_task(hasher.hash("first", caller="a"))
        await asyncio.sleep(0)
        queued = [asyncio.create_task(hasher.hash(f"a{n}", caller="a")) for n in range(3)]
        other = asyncio.create_task(hasher.hash("b", caller="b"))
        await asyncio.sleep(0)
        for task in queued:
            task.cancel()
        await asyncio.gather(running, other)
        assert all(task.cancelled() for task in queued)
        assert len(hasher.spans) == 2  # the first and b's: the three that gave up never ran
        # Nothing is left waiting: a lone job starts at once and the worker is not lost.
        assert await hasher.verify(await hasher.hash("c", caller="a"), "c", caller="b")
        assert len(hasher.worker_pids()) == 1
    finally:
        await hasher.aclose()


def test_the_pool_leaves_one_core_to_the_event_loop() -> None:
    assert default_workers() == max(1, (os.cpu_count() or 1) - 1)


# =========================================================================== access tokens


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def issuer(clock: ManualClock) -> JwtTokenIssuer:
    return JwtTokenIssuer(SECRET, lifetime_minutes=720, clock=clock)


_DROP = object()  # "leave this claim out" in _valid_payload()


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _signed(payload: dict[str, Any], **encode_kwargs: Any) -> str:
    return jwt.encode(payload, SECRET, algorithm="HS256", **encode_kwargs)


def _valid_payload(**changes: Any) -> dict[str, Any]:
    exp = int((START + timedelta(hours=1)).timestamp())
    payload: dict[str, Any] = {"sub": "alice", "exp": exp, "jti": "abc", "ver": 2}
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not _DROP}


def _refused(issuer: JwtTokenIssuer, token: str) -> str:
    with pytest.raises(AuthenticationFailed) as caught:
        issuer.decode(token)
    return caught.value.message


def test_issued_token_round_trips(issuer: JwtTokenIssuer) -> None:
    issued = issuer.issue("alice", token_version=3)
    claims = issuer.decode(issued.token)
    assert claims == issued.claims
    assert claims.username == "alice"
    assert claims.token_version == 3
    assert claims.expires_at == START + timedelta(minutes=720)
    assert claims.expires_at.tzinfo is UTC


def test_a_token_checked_before_still_expires(issuer: JwtTokenIssuer, clock: ManualClock) -> None:
    token = issuer.issue("alice", token_version=0).token
    assert issuer.decode(token).username == "alice"  # verified once, then known
    clock.advance(timedelta(minutes=720))
    assert _refused(issuer, token) == "Invalid or expired token"
    assert _refused(issuer, token) == "Invalid or expired token"


def test_a_known_token_with_one_character_changed_is_checked_again(
    issuer: JwtTokenIssuer,
) -> None:
    token = issuer.issue("alice", token_version=0).token
    issuer.decode(token)
    head, payload, signature = token.split(".")
    forged = ".".join((head, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")))
    assert _refused(issuer, forged) == "Invalid or expired token"
    assert issuer.decode(token).username == "alice"


def test_the_verified_tokens_kept_are_bounded(issuer: JwtTokenIssuer) -> None:
    tokens = [issuer.issue(f"user{n}", token_version=0).token for n in range(5000)]
    for token in tokens:
        issuer.decode(token)
    assert len(issuer._verified) == 4096
    # The oldest were dropped and are simply verified again.
    assert issuer.decode(tokens[0]).username == "user0"


def test_issued_token_has_the_wire_shape(issuer: JwtTokenIssuer) -> None:
    token = issuer.issue("alice", token_version=0).token
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    payload = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert set(payload) == {"sub", "exp", "iat", "jti", "ver"}
    assert payload["iat"] == int(START.timestamp())
    assert payload["exp"] - payload["iat"] == 720 * 60
    assert len(payload["jti"]) == 32
    int(payload["jti"], 16)  # uuid4 hex


def test_every_token_gets_its_own_jti(issuer: JwtTokenIssuer) -> None:
    jtis = {issuer.issue("alice", 0).claims.jti for _ in range(50)}
    assert len(jtis) == 50


def test_token_expires_on_the_clock(issuer: JwtTokenIssuer, clock: ManualClock) -> None:
    token = issuer.issue("alice", 0).token
    clock.advance(timedelta(minutes=720) - timedelta(seconds=1))
    assert issuer.decode(token).username == "alice"
    clock.advance(1)
    assert _refused(issuer, token) == INVALID


def test_legacy_token_without_version_or_jti_still_works(issuer: JwtTokenIssuer) -> None:
    token = _signed(_valid_payload(jti=_DROP, ver=_DROP))  # what the original FAROS issued
    claims = issuer.decode(token)
    assert (claims.username, claims.token_version) == ("alice", 0)
    assert len(claims.jti) == 64
    int(claims.jti, 16)


def test_each_legacy_token_gets_a_jti_of_its_own(issuer: JwtTokenIssuer) -> None:
    """Logout revokes by jti: legacy tokens must not share one (they all read "" once)."""
    exp = _valid_payload()["exp"]
    tokens = [
        _signed(_valid_payload(sub=sub, exp=exp + shift, jti=_DROP, ver=_DROP))
        for sub in ("alice", "bob")
        for shift in (0, 1)
    ]
    jtis = [issuer.decode(token).jti for token in tokens]
    assert len(set(jtis)) == 4
    assert [issuer.decode(token).jti for token in tokens] == jtis  # stable


def test_a_legacy_token_spelled_differently_keeps_its_jti(issuer: JwtTokenIssuer) -> None:
    # PyJWT accepts a signature padded with "=" (some issuers send one): another spelling of
    # the same token, which must stay revoked with it.
    token = _signed(_valid_payload(jti=_DROP, ver=_DROP))
    padded = token + "="
    assert issuer.decode(padded).username == "alice"
    assert issuer.decode(padded).jti == issuer.decode(token).jti


def test_tampered_signature_is_refused(issuer: JwtTokenIssuer) -> None:
    header, payload, signature = issuer.issue("alice", 0).token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert _refused(issuer, f"{header}.{payload}.{flipped}") == INVALID


def test_tampered_payload_is_refused(issuer: JwtTokenIssuer) -> None:
    header, _, signature = issuer.issue("alice", 0).token.split(".")
    forged = _b64(_valid_payload(sub="admin"))
    assert _refused(issuer, f"{header}.{forged}.{signature}") == INVALID


def test_token_signed_with_another_secret_is_refused(issuer: JwtTokenIssuer) -> None:
    token = jwt.encode(_valid_payload(), "another-secret-another-secret-123", algorithm="HS256")
    assert _refused(issuer, token) == INVALID


def test_alg_none_is_refused(issuer: JwtTokenIssuer) -> None:
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_valid_payload())}."
    assert _refused(issuer, unsigned) == INVALID
    assert _refused(issuer, jwt.encode(_valid_payload(), "", algorithm="none")) == INVALID


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_hs512_with_the_right_secret_is_refused(issuer: JwtTokenIssuer) -> None:
    assert _refused(issuer, jwt.encode(_valid_payload(), SECRET, algorithm="HS512")) == INVALID


def test_rs256_token_is_refused(issuer: JwtTokenIssuer) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _refused(issuer, jwt.encode(_valid_payload(), key, algorithm="RS256")) == INVALID


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"exp": _DROP}, INVALID),
        ({"exp": "tomorrow"}, INVALID),
        ({"exp": True}, INVALID),
        ({"sub": _DROP}, PAYLOAD),
        ({"sub": None}, INVALID),  # not a string, as for the original (PyJWT checks the type)
        ({"sub": ""}, PAYLOAD),
        ({"sub": 42}, INVALID),
        ({"sub": ["alice"]}, INVALID),
        ({"ver": "2"}, PAYLOAD),
        ({"jti": 7}, INVALID),
    ],
    ids=[
        "no-exp", "text-exp", "bool-exp", "no-sub", "null-sub", "empty-sub", "int-sub",
        "list-sub", "text-ver", "int-jti",
    ],
)  # fmt: skip
def test_bad_claims_are_refused(
    issuer: JwtTokenIssuer, changes: dict[str, Any], message: str
) -> None:
    assert _refused(issuer, _signed(_valid_payload(**changes))) == message


def test_expiry_is_judged_before_the_payload(issuer: JwtTokenIssuer) -> None:
    expired = int((START - timedelta(seconds=1)).timestamp())
    assert _refused(issuer, _signed(_valid_payload(sub="", exp=expired))) == INVALID


@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c", "a.b", "Bearer x.y.z"])
def test_garbage_is_refused(issuer: JwtTokenIssuer, garbage: str) -> None:
    assert _refused(issuer, garbage) == INVALID


def test_issuer_refuses_an_empty_secret(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="secret"):
        JwtTokenIssuer("", lifetime_minutes=720, clock=clock)


# =========================================================================== clocks


def test_manual_clock_is_set_and_advanced_in_utc() -> None:
    clock = ManualClock(datetime(2025, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-2))))
    assert clock.now() == datetime(2025, 1, 2, 1, 30, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    assert clock.today().isoformat() == "2025-01-02"
    clock.advance(timedelta(days=1))
    clock.advance(-30 * 60)
    assert clock.now() == datetime(2025, 1, 3, 1, 0, tzinfo=UTC)
    clock.set(START)
    assert clock.now() == START


def test_manual_clock_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock().set(datetime(2025, 1, 1))


def test_adapters_satisfy_their_ports() -> None:
    # Checked by mypy --strict on this file: a signature drift from a port fails the type check.
    hasher: PasswordHasher = Argon2PasswordHasher(time_cost=1, memory_cost=1024)
    issuer: TokenIssuer = JwtTokenIssuer(SECRET, 1, SystemClock())
    clocks: list[Clock] = [SystemClock(), ManualClock()]
    assert issuer.decode(issuer.issue("alice", 1).token).token_version == 1
    assert len({clock.now().tzinfo for clock in clocks}) == 1
    assert hasher.needs_rehash("not a hash")


def test_system_clock_is_utc_aware() -> None:
    clock = SystemClock()
    now = clock.now()
    assert now.tzinfo is UTC
    assert abs((now - datetime.now(UTC)).total_seconds()) < 5
    assert clock.today() == clock.now().date()


class _TimedHasher(Argon2PasswordHasher):
    """The real hasher, noting when each job's exchange with its worker began and ended."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.spans: list[tuple[float, float]] = []

    async def _exchange(self, workers: Any, worker: Any, job: Any, caller: str) -> Any:
        began = asyncio.get_running_loop().time()
        try:
            return await super()._exchange(workers, worker, job, caller)
        finally:
            self.spans.append((began, asyncio.get_running_loop().time()))


async def test_hashing_rests_between_hashes_only_while_others_wait() -> None:
    # 32 MiB: a hash long enough (~30 ms) to tell a rest from the loop's own delays.
    hasher = _TimedHasher(
        time_cost=1, memory_cost=32_768, workers=1, rest_ratio=1.0, busy_rest_ratio=1.0
    )
    try:
        await asyncio.gather(hasher.hash("a"), hasher.hash("b"))
        (first_began, first_ended), (second_began, second_ended) = hasher.spans
        # The second waited for the first, then rested as long as the first had taken.
        assert second_began - first_ended >= 0.95 * (first_ended - first_began)
        # Nobody waited behind the second: it left no rest, so a lone hash starts at once.
        hasher.spans.clear()
        asked = asyncio.get_running_loop().time()
        await hasher.hash("c")
        [(lone_began, _)] = hasher.spans
        assert lone_began - asked < 0.5 * (second_ended - second_began)
    finally:
        await hasher.aclose()


async def test_hashing_rests_longer_while_the_event_loop_serves_others() -> None:
    hasher = _TimedHasher(
        time_cost=1, memory_cost=32_768, workers=1, rest_ratio=1.0, busy_rest_ratio=4.0
    )
    first_done = asyncio.Event()

    async def serve_others() -> None:
        # Other requests keep the loop's thread busy in short turns while the first hash runs.
        while not first_done.is_set():
            deadline = time.thread_time() + 0.002
            while time.thread_time() < deadline:
                pass
            await asyncio.sleep(0)

    async def first() -> None:
        await hasher.hash("a")
        first_done.set()

    try:
        busy = asyncio.create_task(serve_others())
        await asyncio.gather(first(), hasher.hash("b"))
        await busy
        (first_began, first_ended), (second_began, _) = hasher.spans
        # 4x with the loop's thread on a core throughout; an idle loop's rest would be 1x.
        assert second_began - first_ended >= 1.5 * (first_ended - first_began)
    finally:
        await hasher.aclose()
