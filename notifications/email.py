"""E-mail providers that drop a repeated send: an interrupted send may be tried again.

Resend (through django-anymail's backend) keeps an `Idempotency-Key` HTTP header for 24
hours: a second request with the same key is answered with the first one's id and not
sent again. Anymail has no setting for that header, so the payload adds it from the
message's `idempotency_key` (set by notifications.messages.deliver).
"""

from anymail.backends.resend import EmailBackend as AnymailResendBackend
from anymail.backends.resend import ResendPayload


class _IdempotentResendPayload(ResendPayload):
    def __init__(self, message, defaults, backend, *args, **kwargs):
        super().__init__(message, defaults, backend, *args, **kwargs)
        key = getattr(message, "idempotency_key", "")
        if key:
            self.headers["Idempotency-Key"] = key


class ResendEmailBackend(AnymailResendBackend):
    """EMAIL_BACKEND=notifications.email.ResendEmailBackend, with ANYMAIL's RESEND_API_KEY."""

    takes_idempotency_key = True

    def build_message_payload(self, message, defaults):
        return _IdempotentResendPayload(message, defaults, self)
