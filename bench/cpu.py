"""Who used the machine's CPU during a load run: the app server, PostgreSQL, the load.

Read from /proc (Linux). Processes that exit are counted through their parent's
"children" times (gunicorn's master reaps its recycled workers, the postmaster its
backends), so nothing is lost when a worker restarts mid-run.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    at: float
    app: float  # seconds of CPU, all time
    database: float


def _stat(pid: str) -> tuple[str, int, float, float] | None:
    """(name, parent pid, own CPU seconds, reaped children's CPU seconds)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    own = (int(fields[11]) + int(fields[12])) / TICKS
    children = (int(fields[13]) + int(fields[14])) / TICKS
    return name, int(fields[1]), own, children


def sample(server_pid: int) -> Sample:
    processes = {pid: s for pid in os.listdir("/proc") if pid.isdigit() and (s := _stat(pid))}
    app = database = 0.0
    for pid, (name, parent, own, children) in processes.items():
        if int(pid) == server_pid:
            app += own + children
        elif parent == server_pid:
            app += own
        elif name == "postgres":
            parent_is_postgres = processes.get(str(parent), ("",))[0] == "postgres"
            database += own + (0 if parent_is_postgres else children)  # the postmaster
    return Sample(time.monotonic(), app, database)


def shares(before: Sample, after: Sample, load_cpu_seconds: float) -> dict[str, float]:
    """Each part's share of the machine's CPU capacity over the interval."""
    capacity = (after.at - before.at) * (os.cpu_count() or 1)
    app = after.app - before.app
    database = after.database - before.database
    return {
        "app": app / capacity,
        "database": database / capacity,
        "load": load_cpu_seconds / capacity,
        "idle_or_other": max(0.0, 1 - (app + database + load_cpu_seconds) / capacity),
    }
