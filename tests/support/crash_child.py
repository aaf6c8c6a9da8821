"""A child process that starts one booking and dies by SIGKILL at a chosen point.

Run by tests/test_crash_injection.py as
    python -m tests.support.crash_child CRASH_POINT USER_ID SERVICE_ID TOKEN REQUEST_KEY [SLOT_ID]
with DJANGO_SETTINGS_MODULE and DATABASE_URL pointing at the test database.
CRASH_POINT is an event name (the process dies when that event is delivered,
before any app acts on it; "PaymentReversed" also makes confirmation crash, so a
charge is refunded first), or "charge:before_gateway" / "charge:after_ledger" (the
process dies inside the charge: before the gateway is asked, or after the
gateway recorded the charge but before our payment row says so).

The cancellation saga the same way:
    python -m tests.support.crash_child cancel CRASH_POINT BOOKING_ID
cancels that (confirmed) booking as its patient and dies at CRASH_POINT: an event
name (CancellationRequested, SlotReleased, DiscountQuotaReleased, PaymentRefunded:
when it is delivered, before anyone acts on it), or "refund:before_gateway" (the
Refund row recorded, the gateway not yet asked) / "refund:after_ledger" (the gateway
refunded, its answer not recorded).

The hooks live only here, in the child: no production code knows about them.
"""

import os
import signal
import sys
from decimal import Decimal

CHARGE_POINTS = ("charge:before_gateway", "charge:after_ledger")
REFUND_POINTS = ("refund:before_gateway", "refund:after_ledger")


def die(**_) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(
    crash_point: str,
    user_id: str,
    service_id: str,
    token: str,
    request_key: str,
    slot_id: str | None = None,
) -> None:
    if crash_point in CHARGE_POINTS:
        os.environ["PAYMENT_GATEWAY"] = "tests.support.crash_child.GatewayThatDies"
        os.environ["CRASH_POINT"] = crash_point

    import django

    django.setup()

    from django.contrib.auth import get_user_model

    from bookings import events
    from portal.flows import start_booking
    from tests.support.factories import ADULT_BIRTHDAY
    from tests.support.saga_hooks import hook_runs_first, listeners_replaced

    def confirmation_crashes(**_) -> None:
        raise RuntimeError("confirmation cannot complete")

    hooks = []
    if crash_point == "PaymentReversed":
        # Confirmation crashes instead of confirming: the charge is then refunded.
        hooks.append(
            listeners_replaced(events.PaymentCompleted, confirmation_crashes, keep_apps=())
        )
    if crash_point not in CHARGE_POINTS:
        hooks.append(hook_runs_first(events.CATALOG[crash_point], die))
    for hook in hooks:
        hook.__enter__()

    start_booking(
        user=get_user_model().objects.get(pk=user_id),
        patient_name="Crash Test",
        gender="male",
        date_of_birth=ADULT_BIRTHDAY,
        service_ids=[int(service_id)],
        payment_token=token,
        request_key=request_key,
        slot_id=None if slot_id is None else int(slot_id),
    )
    # Reaching here means the crash point was never reached: the parent fails the test.
    sys.exit(3)


def cancel_main(crash_point: str, booking_id: str) -> None:
    if crash_point in REFUND_POINTS:
        os.environ["PAYMENT_GATEWAY"] = "tests.support.crash_child.GatewayThatDies"
        os.environ["CRASH_POINT"] = crash_point

    import django

    django.setup()

    from bookings import events
    from bookings.models import Booking
    from portal.flows import cancel_booking
    from tests.support.saga_hooks import hook_runs_first

    hook = None  # kept: a context manager collected would disconnect its hook
    if crash_point not in REFUND_POINTS:
        hook = hook_runs_first(events.CATALOG[crash_point], die)
        hook.__enter__()
    booking = Booking.objects.select_related("user").get(pk=booking_id)
    cancel_booking(
        booking=booking, actor=booking.user.get_username(), by_staff=False, reason="crash"
    )
    del hook
    sys.exit(3)  # the crash point was never reached: the parent fails the test


def _gateway_that_dies():
    from payments.gateway import ChargeResult, SimulatedGateway

    class GatewayThatDies(SimulatedGateway):
        def charge(self, *, amount: Decimal, token: str, idempotency_key: str) -> ChargeResult:
            if os.environ["CRASH_POINT"] == "charge:before_gateway":
                die()
            result = super().charge(amount=amount, token=token, idempotency_key=idempotency_key)
            die()  # the gateway's ledger has the charge; our Payment row is still pending
            return result

        def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> str:
            if os.environ["CRASH_POINT"] == "refund:before_gateway":
                die()  # our Refund row is pending; the gateway was never asked
            super().refund(reference=reference, amount=amount, idempotency_key=idempotency_key)
            die()  # the gateway refunded; our Refund row still says pending

    return GatewayThatDies


def __getattr__(name: str):
    # Built lazily: this module is imported before Django is set up.
    if name == "GatewayThatDies":
        return _gateway_that_dies()
    raise AttributeError(name)


if __name__ == "__main__":
    if sys.argv[1] == "cancel":
        cancel_main(*sys.argv[2:])
    else:
        main(*sys.argv[1:])
