"""A worker process that sends the outbox, optionally dying by SIGKILL mid-send.

Run by tests/test_notification_workers.py as
    python -m tests.support.outbox_worker MODE
MODE "run" sends until nothing is due; "die_before_provider" dies right after the row
was marked "sending", before the provider is called; "die_after_provider" dies after
the provider accepted the message, before the row records it. SEND_LOG, EMAIL_BACKEND
and SMS_BACKEND come from the environment (tests/support/fake_providers.py).
"""

import os
import signal
import sys


def main(mode: str) -> None:
    import django

    django.setup()

    from django.conf import settings

    from notifications import messages, sender

    settings.EMAIL_BACKEND = os.environ["EMAIL_BACKEND"]
    real_deliver = messages.deliver

    def deliver(notification, message):
        if mode == "die_before_provider":
            os.kill(os.getpid(), signal.SIGKILL)
        provider_id = real_deliver(notification, message)
        if mode == "die_after_provider":
            os.kill(os.getpid(), signal.SIGKILL)
        return provider_id

    messages.deliver = deliver
    summary = sender.send_due()
    print(summary.as_line())
    sys.exit(0)


if __name__ == "__main__":
    main(sys.argv[1])
