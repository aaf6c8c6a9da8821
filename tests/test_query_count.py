"""The hot path's cost in SQL queries, bounded by what was measured."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.services import start_booking
from tests.support.factories import ADULT_BIRTHDAY

# Measured on PostgreSQL: BEGIN and COMMIT of its short transactions included, the
# simulated gateway's ledger insert, and the notifications step (its booking read, the
# outbox insert, the worker's queue insert; the e-mail's own reads moved to the worker).
# With appointments the edge's transaction (booking insert and slot together) wraps
# bookings' own one in a savepoint (SAVEPOINT, RELEASE), and one read of which services
# need a slot. Raise only with a reason.
MAX_QUERIES_PER_BOOKING = 42


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("price", ["2500.00", "500.00"], ids=["with-discount", "no-discount"])
def test_one_successful_booking_costs_a_bounded_number_of_queries(user, service_priced, price):
    service = service_priced(price)
    # The day's first booking creates its quota row; measure the steady state after it.
    start_booking(
        user=user,
        patient_name="Warm Up",
        gender="male",
        date_of_birth=ADULT_BIRTHDAY,
        service_ids=[service.pk],
        payment_token="tok_visa",
    )

    with CaptureQueriesContext(connection) as queries:
        booking = start_booking(
            user=user,
            patient_name="Asha Verma",
            gender="male",
            date_of_birth=ADULT_BIRTHDAY,
            service_ids=[service.pk],
            payment_token="tok_visa",
        )
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    assert len(queries) <= MAX_QUERIES_PER_BOOKING, "\n".join(q["sql"] for q in queries)
