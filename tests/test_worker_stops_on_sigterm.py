"""Issue 22: SIGTERM to the worker's process group (as a terminal's Ctrl-\\ or a service
manager that signals every process of the unit sends it) did not stop `manage.py
qcluster` within 35 s: django-q2's main process waited forever for the sentinel that the
same signal had killed (django-q2 issue #346; clinic_site/management/commands/qcluster.py).
Now the real worker, whole group signalled, is gone within 10 s, nothing left behind."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import servers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
STOP_WITHIN_SECONDS = 10


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes whose process group is `pgid`, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, process_group = fields[0], int(fields[2])
        if process_group == pgid and state != "Z":
            members.append(int(entry.name))
    return members


@pytest.mark.parametrize("busy_seconds", [0, 3], ids=["just-started", "watching-the-outbox"])
def test_sigterm_to_the_workers_process_group_stops_it_within_ten_seconds(tmp_path, busy_seconds):
    log_path = tmp_path / "qcluster.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=servers.child_env(LOG_LEVEL="INFO"),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: the signal below reaches it alone
        )
    try:
        # Readiness, not a timing assertion: until the cluster says it runs (bounded).
        deadline = time.monotonic() + 120
        while "running." not in log_path.read_text():
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        time.sleep(busy_seconds)  # the workers in the middle of their outbox watch
        members = group_members(process.pid)
        # main, sentinel, two workers (Q_WORKERS), monitor, pusher
        assert len(members) >= 6, members

        os.killpg(process.pid, signal.SIGTERM)
        started = time.monotonic()
        try:
            process.wait(timeout=STOP_WITHIN_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"qcluster still running {STOP_WITHIN_SECONDS} s after SIGTERM to its "
                f"group:\n{log_path.read_text()[-3000:]}"
            )
        took = time.monotonic() - started
        # The rest of the group goes with it (reaped by their parents as they end).
        while group_members(process.pid) and time.monotonic() - started < STOP_WITHIN_SECONDS:
            time.sleep(0.1)
        assert group_members(process.pid) == [], log_path.read_text()[-3000:]
        assert took < STOP_WITHIN_SECONDS
        assert "has stopped" in log_path.read_text()  # an orderly stop, not a crash
    finally:
        if process.poll() is None or group_members(process.pid):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
