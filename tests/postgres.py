"""A throwaway PostgreSQL server for tests: initdb + pg_ctl in a temporary folder, 127.0.0.1 on a free port.

Debian's `postgresql` package provides the binaries (`.ci/run` installs it when missing). The server refuses
to run as root, so as root it runs as the `postgres` user the package creates. Without binaries the tests
that need it skip with the reason, except when REGIOBOT_REQUIRE_POSTGRES=1 (set by `.ci/run`): CI must run
them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REQUIRE_ENV = "REGIOBOT_REQUIRE_POSTGRES"


def _binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and Path(found).resolve().parent.joinpath("initdb").exists():
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running cluster; `url(db)` addresses one of its databases, `create(db)` makes a fresh one."""

    def __init__(self) -> None:
        self.bin = _binaries()
        if self.bin is None:
            raise RuntimeError(
                "PostgreSQL fehlt (initdb/pg_ctl nicht gefunden; Debian: apt-get install postgresql)"
            )
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise RuntimeError("als root braucht PostgreSQL den Benutzer postgres") from exc
        self.folder = Path(tempfile.mkdtemp(prefix="regiobot-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        if self.user is not None:
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "regiobot", "-A", "trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off -c max_connections=100"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.user is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://regiobot@127.0.0.1:{self.port}/{database}"

    def create(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        time.sleep(0.1)
        shutil.rmtree(self.folder, ignore_errors=True)
