"""A visit is finished once however many clicks race (a practitioner's double click, the
desk at the same time): one conditional UPDATE wins, one AuditLog row; and a walk-in
sent to two practitioners at once ends with one of them (one row, unique per booking)."""

import pytest
from django.utils import timezone

from bookings.models import AuditLog, BookingStatus
from bookings.services import clinic_today, finish_visit
from scheduling.models import WalkInAssignment
from scheduling.services import assign_walk_in
from tests.support.racing import at_once
from tests.support.scheduling import practitioner

pytestmark = pytest.mark.django_db(transaction=True)


def test_eight_clicks_at_once_finish_the_visit_once(book, service_priced):
    walk_in = book(services=[service_priced("350.00")])
    assert walk_in.status == BookingStatus.CONFIRMED
    won = at_once(
        [
            lambda: finish_visit(
                booking_id=walk_in.pk, actor="dr.x", today=clinic_today(), now=timezone.now()
            )
        ]
        * 8
    )
    assert sorted(won) == [False] * 7 + [True]
    assert AuditLog.objects.filter(action="booking.visit_finished").count() == 1
    walk_in.refresh_from_db()
    assert walk_in.status == BookingStatus.COMPLETED and walk_in.visit_finished_at is not None


def test_a_walk_in_sent_to_two_practitioners_at_once_has_one_of_them(book, service_priced):
    walk_in = book(services=[service_priced("350.00")])
    rao, iyer = practitioner(name="Dr. Race Rao"), practitioner(name="Dr. Race Iyer")
    outcomes = at_once(
        [
            lambda doctor=doctor: assign_walk_in(
                booking_id=walk_in.pk, practitioner_id=doctor.pk, actor="desk"
            )
            for doctor in (rao, iyer) * 3
        ]
    )
    assert WalkInAssignment.objects.filter(booking=walk_in).count() == 1
    assert WalkInAssignment.objects.get(booking=walk_in).practitioner in (rao, iyer)
    assert all(o in (rao, iyer) or o is None for o in outcomes)
