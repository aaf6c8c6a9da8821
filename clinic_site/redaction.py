"""Secrets that travel in URLs, kept out of every log line (issue 22, B1).

A password-reset link is `/accounts/reset/<uidb64>/<token>/`: whoever reads the token in
a log can set the patient's password while the link is valid. Django's
PasswordResetConfirmView swaps it for `/accounts/reset/<uidb64>/set-password/` on the
first GET, but that first request is still logged: by gunicorn's access log
(clinic_site/access_log.py) and by Django's request logger (a 404 under /reset/ is
"Not Found: <path>"), both redacted here.
"""

import logging
import re

# The token part of a reset path; Django's own placeholder after the swap stays readable.
_RESET_TOKEN = re.compile(r"(/reset/[^/\s\"'?#]+/)(?!set-password(?:/|\b))[^/\s\"'?#]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return _RESET_TOKEN.sub(rf"\g<1>{REDACTED}", text)


class RedactSecrets(logging.Filter):
    """On a handler: the record's message with any reset token replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
