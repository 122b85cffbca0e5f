"""A throwaway PostgreSQL server for the test suite and the benchmark scripts.

    with ThrowawayPostgres() as server:            # initdb + pg_ctl start on a free loopback port
        url = server.create_database("hltracker")   # postgresql://postgres@127.0.0.1:<port>/hltracker
    # stopped and deleted

It runs the PostgreSQL server binaries of this machine (`initdb`, `pg_ctl`; found on PATH, through
`pg_config --bindir`, or in Debian's /usr/lib/postgresql/<version>/bin). PostgreSQL refuses to run as
root, so under root the server runs as the `postgres` system user the Debian package creates. The
cluster trusts loopback connections and runs without fsync: it is for tests, never for data.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Self

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found: install them with `sudo apt-get install postgresql` "
    "(Debian/Ubuntu), `sudo dnf install postgresql-server` (Fedora) or `brew install postgresql` (macOS)"
)
_SUPERUSER = "postgres"
_SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (the message says how to install them)."""


def find_bindir() -> Path:
    """The folder holding `initdb` and `pg_ctl`; raises PostgresUnavailable when there is none."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip())
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: _version(p.parent.parent.name))
    if versions:
        return versions[-1].parent
    raise PostgresUnavailable(INSTALL_HINT)


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temp folder, listening on 127.0.0.1 only, deleted by `stop()`."""

    def __init__(self, port: int | None = None):
        self.bindir = find_bindir()
        self.port = port or _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="hltracker-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self._user = _SUPERUSER if os.geteuid() == 0 else None
        self._started = False

    @property
    def dsn(self) -> str:
        """The URL of the `postgres` maintenance database."""
        return self.url("postgres")

    def url(self, database: str) -> str:
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> Self:
        if self._user:
            try:
                entry = pwd.getpwnam(self._user)
            except KeyError:
                raise PostgresUnavailable(
                    "running as root needs the `postgres` system user to run the server as (the Debian "
                    "`postgresql` package creates it)"
                ) from None
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", _SUPERUSER, "--auth=trust", "--encoding=UTF8", "--no-locale",
            "--no-sync",
        )
        options = " ".join(
            f"-c {setting}"
            for setting in (
                "listen_addresses=127.0.0.1", f"port={self.port}", f"unix_socket_directories={self.folder}",
                "fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200",
            )
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        self._started = True
        return self

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database `name` (copied from `template` when given: fast, and it must have no sessions);
        returns its URL."""
        for part in filter(None, (name, template)):
            if not _SAFE_NAME.match(part):
                raise ValueError(f"database name {part!r}: lowercase letters, digits and _ only")
        import psycopg  # the store's driver; imported here so finding the binaries needs nothing

        with psycopg.connect(self.dsn, autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)

    def stop(self) -> None:
        if self._started:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
            self._started = False
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        done = subprocess.run(
            [str(self.bindir / tool), *args], capture_output=True, text=True, user=self._user,
            cwd=self.folder, env={**os.environ, "LC_ALL": "C"},
        )
        if check and done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}\n{log}")
