"""`manage.py razorpay_standin`: the Razorpay stand-in as a process of its own, for `make
run` (scripts/run-dev.sh), so a newcomer pays online without keys or internet.

Its keys and webhook secret are the app's settings (RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET,
RAZORPAY_WEBHOOK_SECRET), so both sides agree. State is in memory: a restart forgets its
orders. SIGTERM or SIGINT stops it.
"""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payments.razorpay_standin import StandIn, serving


class Command(BaseCommand):
    help = "Serve the Razorpay stand-in (payments/razorpay_standin) on ADDR until stopped."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8010", help="host:port to listen on")
        parser.add_argument("--webhook-url", default="", help="the app's /webhooks/razorpay")

    def handle(self, *args, addr: str, webhook_url: str, **options) -> None:
        host, _, port = addr.rpartition(":")
        if not port.isdigit():
            raise CommandError(f"--addr {addr!r} is not host:port.")
        if not settings.DEBUG and not settings.RAZORPAY_STANDIN_ALLOWED:
            # The same rule as payments.E005: the stand-in is for make run and tests.
            raise CommandError("The Razorpay stand-in runs only with DEBUG on (make run).")
        standin = StandIn(
            key_id=settings.RAZORPAY_KEY_ID or StandIn.key_id,
            key_secret=settings.RAZORPAY_KEY_SECRET or StandIn.key_secret,
            webhook_secret=settings.RAZORPAY_WEBHOOK_SECRET or StandIn.webhook_secret,
            webhook_url=webhook_url,
        )
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        with serving(standin, host=host or "127.0.0.1", port=int(port)) as url:
            self.stdout.write(f"Razorpay stand-in at {url} (no money moves)")
            self.stdout.flush()
            stop.wait()
