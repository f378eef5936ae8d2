"""A throwaway PostgreSQL cluster for tests and benchmarks, from the machine's own binaries.

:func:`shared_cluster` starts one cluster per process (``initdb`` + ``pg_ctl`` in a temporary
directory, trust authentication, listening on a free 127.0.0.1 port and a socket in the same
directory, ``fsync=off`` because the data is disposable) and stops and deletes it at exit.
Binaries are looked up in ``$PERFCORE_PG_BIN``, on ``PATH`` and in ``/usr/lib/postgresql/*/bin``
(newest first). ``initdb`` refuses to run as root, so as root the cluster runs as an unprivileged
account (``postgres`` if it exists, else ``nobody``) that owns the temporary directory.

:func:`fresh_database_url` gives each test its own database, copied from a migrated template.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["PgCluster", "find_pg_bin", "fresh_database_url", "shared_cluster"]

_SUPERUSER = "perfcore"


def find_pg_bin() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None``."""
    candidates: list[Path] = []
    env = os.environ.get("PERFCORE_PG_BIN")
    if env:
        candidates.append(Path(env))
    which = shutil.which("initdb")
    if which:
        candidates.append(Path(which).resolve().parent)
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versions)
    for folder in candidates:
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unprivileged() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged account (postgres/nobody) exists")


class PgCluster:
    """One disposable cluster. ``start()`` then ``url(dbname)``; ``stop()`` removes it."""

    def __init__(self, bin_dir: Path, *, fsync: bool = False) -> None:
        self.bin_dir = bin_dir
        self.fsync = fsync
        self.account = _unprivileged()
        # as root the server account must reach the directory: /tmp is traversable by everyone,
        # a $TMPDIR under /root is not
        base = "/tmp" if self.account is not None and os.path.isdir("/tmp") else None
        self.root = Path(tempfile.mkdtemp(prefix="perfcore-pg-", dir=base))
        self.data = self.root / "data"
        self.port = _free_port()
        self.started = False

    def _run(self, *args: str) -> None:
        env = dict(os.environ, LC_ALL="C", LANG="C")
        kwargs: dict[str, Any] = {}
        if self.account is not None:
            uid, gid = self.account.pw_uid, self.account.pw_gid
            env["HOME"] = str(self.root)
            env["USER"] = env["LOGNAME"] = self.account.pw_name

            def demote() -> None:  # runs in the child before exec
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)

            kwargs["preexec_fn"] = demote
        subprocess.run(
            args, check=True, env=env, cwd=self.root, capture_output=True, timeout=120, **kwargs
        )

    def start(self) -> None:
        """initdb and start; raises ``RuntimeError`` with the server log on failure."""
        if self.account is not None:
            os.chown(self.root, self.account.pw_uid, self.account.pw_gid)
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c shared_buffers=64MB "
            + ("" if self.fsync else "-c fsync=off -c synchronous_commit=off ")
            + "-c full_page_writes=off"
        )
        try:
            self._run(
                str(self.bin_dir / "initdb"),
                "-D", str(self.data), "-U", _SUPERUSER, "--auth=trust",
                "-E", "UTF8", "--no-locale", "--no-sync",
            )  # fmt: skip
            self._run(
                str(self.bin_dir / "pg_ctl"),
                "-D", str(self.data), "-o", opts, "-l", str(self.root / "server.log"),
                "-w", "-t", "60", "start",
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            log = self.root / "server.log"
            detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            err = (exc.stderr or b"").decode(errors="replace")
            raise RuntimeError(f"could not start PostgreSQL: {err}\n{detail}") from exc
        self.started = True

    def stop(self) -> None:
        """Stop the server (immediate mode) and delete the directory."""
        if self.started:
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                self._run(
                    str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"
                )
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        """A SQLAlchemy URL for ``dbname`` on this cluster (psycopg 3, TCP on 127.0.0.1)."""
        return f"postgresql+psycopg://{_SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """``CREATE DATABASE name [TEMPLATE template]``; returns its URL."""
        import psycopg

        dsn = f"host=127.0.0.1 port={self.port} user={_SUPERUSER} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
            conn.execute(sql.encode())
        return self.url(name)


_SHARED: dict[str, Any] = {}
_COUNTER = itertools.count(1)


def shared_cluster() -> PgCluster | None:
    """The process-wide cluster (started on first use, removed at exit), or ``None`` when no
    PostgreSQL binaries exist. Raises ``RuntimeError`` when binaries exist but it fails."""
    if "cluster" in _SHARED:
        found: PgCluster | None = _SHARED["cluster"]
        return found
    bin_dir = find_pg_bin()
    cluster = PgCluster(bin_dir) if bin_dir is not None else None
    _SHARED["cluster"] = cluster
    if cluster is not None:
        atexit.register(cluster.stop)
        cluster.start()
    return cluster


def fresh_database_url(request: Any = None) -> str:
    """A new, migrated, empty database on the shared cluster (pytest skips the calling test
    with a clear message when no PostgreSQL binaries are installed)."""
    cluster = shared_cluster()
    if cluster is None:
        import pytest

        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: install "
            "postgresql-15 or set PERFCORE_PG_BIN"
        )
    if "template" not in _SHARED:
        from perfcore_adapters.sqlalchemy.migrate import upgrade

        url = cluster.create_database("perfcore_template")
        upgrade(url)
        _SHARED["template"] = "perfcore_template"
    return cluster.create_database(f"t{os.getpid()}_{next(_COUNTER)}", _SHARED["template"])
