"""A PostgreSQL cluster of a test's own, started from the local binaries (as
scripts/with-test-postgres.sh does without a server): for a test that needs settings the
shared server does not have, such as more connections than its max_connections."""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator

import psycopg


def _bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def throwaway_cluster(*, max_connections: int, database: str) -> Iterator[str]:
    """Start a cluster in a temporary directory with `max_connections`, create
    `database` in it, and yield its URL; stop and remove it all afterwards."""
    bindir = _bindir()
    if bindir is None or not os.path.exists(os.path.join(bindir, "initdb")):
        raise RuntimeError("No PostgreSQL binaries (initdb, pg_ctl) on this machine.")
    home = tempfile.mkdtemp(prefix="clinic-pg-")
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(home, user="postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(home, "data"), _free_port()
    pg_ctl = [*run_as, os.path.join(bindir, "pg_ctl"), "-D", data]
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    try:
        subprocess.run(
            [*run_as, os.path.join(bindir, "initdb"), "-D", data, "-U", "postgres"]
            + ["--auth=trust"],
            **quiet,
        )
        options = (
            f"-p {port} -k {home} -c listen_addresses=127.0.0.1 "
            f"-c max_connections={max_connections}"
        )
        subprocess.run(
            [*pg_ctl, "-l", os.path.join(home, "log"), "-w", "-o", options, "start"], **quiet
        )
        server = f"postgres://postgres@127.0.0.1:{port}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        yield f"{server}/{database}"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
