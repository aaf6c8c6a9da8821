"""A pending online refund settled by three messengers at once, on PostgreSQL in real
threads and over real HTTP: refund.processed sent by the stand-in to the live server (with
refund.created), the same news again under another event id, and the worker asking the
gateway (reconciliation). Each round ends with the refund refunded once: one
PaymentRefunded, one refund note, one refund at the gateway."""

from functools import partial

import pytest

from billing.models import Document
from bookings.models import Booking, BookingStatus, SagaEvent
from payments import online
from payments.models import ONLINE_TOKEN, Payment, Refund, RefundStatus
from payments.razorpay_standin import Webhook
from payments.services import reconcile_pending_refunds
from portal.flows import cancel_booking, start_booking
from portal.ops.invariants import find_violations
from tests.support.factories import ADULT_BIRTHDAY
from tests.support.racing import at_once
from tests.support.razorpay import razorpay  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 12


@pytest.fixture
def standin(razorpay, live_server, default_cancellation_policy):  # noqa: F811
    razorpay.webhook_url = f"{live_server.url}/webhooks/razorpay"
    return razorpay


def test_refund_webhooks_and_reconciliation_racing_settle_a_refund_once(
    standin, user, service_priced
):
    mri = service_priced("1500.00", name="Race MRI")
    for n in range(ROUNDS):
        booking = start_booking(
            user=user,
            patient_name="Asha Verma",
            gender="female",
            date_of_birth=ADULT_BIRTHDAY,
            service_ids=[mri.pk],
            payment_token=ONLINE_TOKEN,
        )
        payment = Payment.objects.get(booking=booking)
        standin.hold_webhooks()
        proof = standin.pay(payment.order_id)
        online.accept_checkout_proof(
            booking_id=booking.pk,
            order_id=proof["razorpay_order_id"],
            payment_id=proof["razorpay_payment_id"],
            signature=proof["razorpay_signature"],
        )
        standin.held.clear()
        booking = Booking.objects.get(pk=booking.pk)
        assert booking.status == BookingStatus.CONFIRMED
        standin.refund_status = "pending"
        cancel_booking(booking=booking, actor="desk", by_staff=True, reason="doctor away")
        refund = Refund.objects.get(correlation_id=booking.correlation_id)
        assert refund.status == RefundStatus.PENDING and refund.gateway_reference
        standin.hold_webhooks()
        standin.settle_refund(refund.gateway_reference)
        processed = [w for w in standin.held if w.event == "refund.processed"][0]
        again = Webhook(f"evt_race{n:010d}", processed.event, processed.body)
        outcomes = at_once(
            [
                partial(standin.deliver_held, shuffle_seed=n),  # over HTTP to the live server
                partial(standin.post, again),
                reconcile_pending_refunds,
            ]
        )
        assert outcomes[0] == [200, 200] and outcomes[1] == 200
        refund.refresh_from_db()
        assert refund.status == RefundStatus.REFUNDED
        assert (
            SagaEvent.objects.filter(
                correlation_id=booking.correlation_id, event_type="PaymentRefunded"
            ).count()
            == 1
        )
        assert Document.objects.filter(booking=booking, kind="refund_note").count() == 1
    per_payment = [r["payment_id"] for r in standin.refunds.values()]
    assert len(per_payment) == len(set(per_payment)) == ROUNDS
    assert find_violations() == []
