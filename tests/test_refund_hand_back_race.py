"""A cash refund waiting at the desk is handed back once, however many receptionists
click at the same moment: one conditional UPDATE claims it, so one AuditLog row, one
PaymentRefunded, one refund note, and one drawer pays it out (real PostgreSQL races)."""

import pytest
import time_machine

from bookings.models import AuditLog, SagaEvent
from bookings.services import clinic_today
from payments.models import Refund
from payments.selectors import cash_day_close
from payments.services import hand_back_refund
from portal.flows import book_at_front_desk, cancel_booking
from tests.support.factories import MedicalServiceFactory
from tests.support.racing import at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_cancellation_policy"),
]
DESK = ("rita", "ravi", "rohan", "rekha") * 2


def test_eight_clicks_from_four_receptionists_hand_the_cash_back_once():
    booking = book_at_front_desk(
        receptionist="rita",
        patient_name="Ravi Kumar",
        gender="male",
        date_of_birth=clinic_today().replace(year=1980),
        phone="+919800000009",
        service_ids=[MedicalServiceFactory(price="600.00").pk],
        payment_token="cash",
        day=clinic_today(),
    )
    with time_machine.travel(clinic_today().isoformat() + "T00:00:01+05:30"):
        cancel_booking(booking=booking, actor="patient", by_staff=False, reason="ill")
    assert Refund.objects.get().waits_at_desk

    won = at_once(
        [
            lambda name=name: hand_back_refund(correlation_id=booking.correlation_id, actor=name)
            for name in DESK
        ]
    )

    assert sorted(won) == [False] * 7 + [True]
    refund = Refund.objects.get()
    winner = DESK[won.index(True)]
    assert (refund.status, refund.handed_back_by) == ("refunded", winner)
    assert AuditLog.objects.filter(action="refund.handed_back").count() == 1
    assert SagaEvent.objects.filter(event_type="PaymentRefunded").count() == 1
    assert booking.billing_documents.filter(kind="refund_note").count() == 1
    paid_out = [d for d in cash_day_close(day=clinic_today()) if d.refunds]
    assert [(d.receptionist, d.refunded) for d in paid_out] == [(winner, refund.amount)]
