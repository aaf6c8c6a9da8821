"""SMS backends: `send(to, body, idempotency_key) -> provider message id`.

SMS_BACKEND chooses one (dotted path). The console backend writes the message to
stdout (the default, for `make run`); Msg91Backend speaks MSG91's HTTP API (an Indian
provider: DLT-registered sender, INR billing) with `requests`.
"""

import sys
import uuid
from dataclasses import dataclass

import requests
from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Sms:
    to: str  # E.164, "+919812345678"
    body: str


class SmsBackend:
    # True when the provider drops a second request with the same key: a row left
    # "sending" by a dead worker may then be tried again (notifications/sender.py).
    takes_idempotency_key = False
    # True when the provider answers "did you get the message sent with this key?" (a
    # status API): a row left "sending" is then settled by asking, not by staff.
    looks_up_sends = False

    def send(self, sms: Sms, *, idempotency_key: str) -> str:
        raise NotImplementedError

    def look_up(self, *, idempotency_key: str) -> str | None:
        """The provider's id of the message sent with this key, None if it never got
        one; raises when it cannot tell. Only where `looks_up_sends`."""
        raise NotImplementedError


class ConsoleBackend(SmsBackend):
    def send(self, sms: Sms, *, idempotency_key: str) -> str:
        message_id = f"console-{uuid.uuid4()}"
        sys.stdout.write(f"SMS to {sms.to} ({message_id}):\n{sms.body}\n{'-' * 40}\n")
        sys.stdout.flush()
        return message_id


class SmsProviderError(Exception):
    pass


class Msg91Backend(SmsBackend):
    """MSG91 "send SMS" API v2: POST JSON with the `authkey` header; answers
    {"type": "success", "message": "<request id>"} or {"type": "error", "message": …}."""

    def send(self, sms: Sms, *, idempotency_key: str) -> str:
        response = requests.post(
            settings.MSG91_URL,
            json={
                "sender": settings.MSG91_SENDER_ID,
                "route": "4",  # transactional
                "country": "91",
                "sms": [{"message": sms.body, "to": [sms.to.removeprefix("+91")]}],
            },
            headers={"authkey": settings.MSG91_AUTH_KEY, "content-type": "application/json"},
            timeout=settings.SMS_TIMEOUT,
        )
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code != 200 or answer.get("type") != "success":
            raise SmsProviderError(
                f"MSG91 answered {response.status_code}: {answer or response.text[:200]}"
            )
        return str(answer["message"])


def get_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()
