"""Issue 22: SIGTERM to the worker's process group (as a terminal's Ctrl-\\ or a service
manager that signals every process of the unit sends it) did not stop `manage.py
qcluster` within 35 s: django-q2's main process waited forever for the sentinel that the
same signal had killed (django-q2 issue #346; clinic_site/management/commands/qcluster.py).
Now the real worker, whole group signalled, is gone within 10 s, nothing left behind."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django_q.tasks import async_task

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


def start_qcluster(log_path: Path, **env: str) -> subprocess.Popen:
    """The real worker on this test's database, in a group of its own, once it runs."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=servers.child_env(LOG_LEVEL="INFO", **env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: the signals below reach it alone
        )
    wait_for(lambda: "running." in log_path.read_text(), process, log_path, seconds=120)
    return process


def wait_for(done, process: subprocess.Popen, log_path: Path, *, seconds: float) -> None:
    """Readiness, not a timing assertion: poll until done() (bounded)."""
    deadline = time.monotonic() + seconds
    while not done():
        assert process.poll() is None, log_path.read_text()[-3000:]
        assert time.monotonic() < deadline, log_path.read_text()[-3000:]
        time.sleep(0.2)


def stop_group(process: subprocess.Popen) -> None:
    if process.poll() is None or group_members(process.pid):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


@pytest.mark.parametrize("busy_seconds", [0, 3], ids=["just-started", "watching-the-outbox"])
def test_sigterm_to_the_workers_process_group_stops_it_within_ten_seconds(tmp_path, busy_seconds):
    log_path = tmp_path / "qcluster.log"
    process = start_qcluster(log_path)
    try:
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
        stop_group(process)


def test_a_task_still_running_after_worker_stop_seconds_does_not_hold_the_stop(tmp_path):
    """A worker finishes its task in hand on SIGTERM, but only for WORKER_STOP_SECONDS:
    a longer one is killed and the stop still ends in time."""
    log_path = tmp_path / "qcluster.log"
    process = start_qcluster(log_path, WORKER_STOP_SECONDS="3")
    try:
        async_task("time.sleep", 120, task_name="a long task")
        wait_for(lambda: "a long task" in log_path.read_text(), process, log_path, seconds=30)
        os.killpg(process.pid, signal.SIGTERM)
        started = time.monotonic()
        process.wait(timeout=STOP_WITHIN_SECONDS)
        assert time.monotonic() - started < STOP_WITHIN_SECONDS
        assert group_members(process.pid) == []
    finally:
        stop_group(process)


def test_a_task_past_q_timeout_is_still_killed(tmp_path):
    """The workers ignore SIGTERM now, so django-q2's backstop for a task past its
    timeout (terminate(), a SIGTERM) would do nothing: it is a SIGKILL. The task here
    blocks the worker's own SIGALRM timeout, so only that backstop can end it."""
    log_path = tmp_path / "qcluster.log"
    process = start_qcluster(log_path, Q_TIMEOUT="2", Q_RETRY="600")
    try:
        async_task("tests.support.worker_tasks.deaf_to_alarms", 120, task_name="a stuck task")
        wait_for(lambda: "a stuck task" in log_path.read_text(), process, log_path, seconds=30)
        stuck = re.search(r"(Process-\w+) processing a stuck task", log_path.read_text())
        assert stuck, log_path.read_text()[-3000:]
        pid = int(
            re.search(rf"{stuck.group(1)} ready for work at (\d+)", log_path.read_text()).group(1)
        )
        # Q_TIMEOUT 2 s plus django-q2's 3 s of grace, then the guard's next cycle.
        wait_for(lambda: pid not in group_members(process.pid), process, log_path, seconds=20)
        assert "after timeout" in log_path.read_text()
    finally:
        stop_group(process)
