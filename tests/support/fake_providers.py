"""Fake providers at the boundary: they count sends in a file shared by processes.

SEND_LOG names the file; each send appends one line "<idempotency key or Message-ID>
<tab> <WORKER_NAME>". O_APPEND writes of one short line are atomic, so worker processes
can share it.

For the crash tests, CRASH_AT ("before_provider" or "after_provider") makes the first
send (the one that creates CRASH_MARKER) SIGKILL its whole process group: a worker
(`manage.py qcluster` started in a session of its own) dies right after marking the row
"sending", or after the provider accepted the message and before the row records it.
FAKE_SEND_SECONDS makes every send take that long (to keep concurrent workers busy).
"""

import os
import signal
import time
from collections import Counter

from django.core.mail.backends.base import BaseEmailBackend

from notifications import sms


def _append(key: str) -> None:
    line = f"{key}\t{os.environ.get('WORKER_NAME', '')}\n"
    fd = os.open(os.environ["SEND_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def _lines(path) -> list[list[str]]:
    try:
        with open(path) as log:
            return [line.split("\t") for line in log.read().splitlines()]
    except FileNotFoundError:
        return []


def sends(path) -> list[str]:
    """The key of every send, in order."""
    return [fields[0] for fields in _lines(path)]


def senders(path) -> Counter:
    """How many sends each WORKER_NAME made."""
    return Counter(fields[1] for fields in _lines(path))


def _provider_call(key: str) -> None:
    _maybe_die("before_provider")
    gate = os.environ.get("FAKE_SEND_GATE")
    while gate and not os.path.exists(gate):  # held until the test opens the gate
        time.sleep(0.05)
    time.sleep(float(os.environ.get("FAKE_SEND_SECONDS", "0")))
    _append(key)
    _maybe_die("after_provider")


def _maybe_die(moment: str) -> None:
    if os.environ.get("CRASH_AT") != moment:
        return
    try:  # once: the marker says a worker already died here
        os.close(os.open(os.environ["CRASH_MARKER"], os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return
    os.killpg(os.getpgid(0), signal.SIGKILL)  # the whole worker: sentinel, pusher, workers


class FileLogEmailBackend(BaseEmailBackend):
    """Every message sent is one line: the notification's Message-ID."""

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            _provider_call(message.extra_headers["Message-ID"])
        return len(email_messages)


class FileLogSms(sms.SmsBackend):
    def send(self, message: sms.Sms, *, idempotency_key: str) -> str:
        _provider_call(idempotency_key)
        return f"fake-{idempotency_key}"


class DedupingFileLogSms(FileLogSms):
    """A provider that honours idempotency keys: a repeated key is accepted, not re-sent."""

    takes_idempotency_key = True

    def send(self, message: sms.Sms, *, idempotency_key: str) -> str:
        if idempotency_key in sends(os.environ["SEND_LOG"]):
            return f"fake-{idempotency_key}"
        return super().send(message, idempotency_key=idempotency_key)


class BrokenEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        raise ConnectionRefusedError("the mail server is down")


class LookingUpFileLogSms(FileLogSms):
    """A provider with a status API and no idempotency keys: asked about a key, it says
    whether it sent that message (LOOKUP_DOWN set: it cannot answer)."""

    looks_up_sends = True

    def look_up(self, *, idempotency_key: str) -> str | None:
        if os.environ.get("LOOKUP_DOWN"):
            raise ConnectionError("the provider's status API is down")
        if idempotency_key in sends(os.environ["SEND_LOG"]):
            return f"fake-{idempotency_key}"
        return None


class LookingUpFileLogEmail(FileLogEmailBackend):
    """A mail provider that finds a message by its Message-ID (a status API)."""

    looks_up_sends = True

    def look_up(self, *, message_id: str) -> str | None:
        return message_id if message_id in sends(os.environ["SEND_LOG"]) else None
