"""The production Razorpay adapter, made to die by SIGKILL at one chosen point, once.

For the crash tests of online payments (tests/test_online_payment_crashes.py), set in the
environment of a real process (gunicorn, qcluster):
    PAYMENT_GATEWAY=tests.support.crash_razorpay.RazorpayThatDies
    CRASH_AT=order:after_gateway      the gateway made the order; our record of it not yet
             reconcile:after_gateway  the gateway reported a capture; not recorded yet
             refund:after_gateway     the gateway refunded; our row still says pending
    CRASH_MARKER=<path>               created by the one process that dies (once)
    CRASH_KILL=process | group        the process alone (a gunicorn worker), or its whole
                                      group (qcluster in a session of its own)
The hooks live only here: no production code knows about them.
"""

import os
import signal

from payments.razorpay_gateway import RazorpayGateway


def _maybe_die(moment: str) -> None:
    if os.environ.get("CRASH_AT") != moment:
        return
    try:  # once: the marker says a process already died here
        os.close(os.open(os.environ["CRASH_MARKER"], os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return
    if os.environ.get("CRASH_KILL") == "group":
        os.killpg(os.getpgid(0), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


class RazorpayThatDies(RazorpayGateway):
    def create_order(self, **kwargs):
        order = super().create_order(**kwargs)
        _maybe_die("order:after_gateway")
        return order

    def payments_of(self, **kwargs):
        found = super().payments_of(**kwargs)
        if any(payment.captured for payment in found):
            _maybe_die("reconcile:after_gateway")
        return found

    def refund(self, **kwargs) -> str:
        reference = super().refund(**kwargs)
        _maybe_die("refund:after_gateway")
        return reference
