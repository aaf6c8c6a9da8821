"""Fake providers at the boundary: they count sends in a file shared by processes.

SEND_LOG names the file; each send appends one line "<idempotency key or Message-ID>".
O_APPEND writes of one short line are atomic, so two worker processes can share it.
"""

import os

from django.core.mail.backends.base import BaseEmailBackend

from notifications import sms


def _append(line: str) -> None:
    fd = os.open(os.environ["SEND_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def sends(path) -> list[str]:
    try:
        with open(path) as log:
            return log.read().splitlines()
    except FileNotFoundError:
        return []


class FileLogEmailBackend(BaseEmailBackend):
    """Every message sent is one line: the notification's Message-ID."""

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            _append(message.extra_headers["Message-ID"])
        return len(email_messages)


class FileLogSms(sms.SmsBackend):
    def send(self, message: sms.Sms, *, idempotency_key: str) -> str:
        _append(idempotency_key)
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
