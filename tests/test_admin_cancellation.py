"""Staff cancel for the clinic from a booking's admin page; managers publish policies."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bookings.models import AuditLog, Booking
from payments.models import Refund
from pricing.models import CancellationPolicy
from tests.support.admin_helpers import staff_member

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_cancellation_policy"),
]

LATE = datetime(2026, 12, 10, 23, 30, tzinfo=ZoneInfo("Asia/Kolkata"))


def test_reception_cancels_with_a_reason_and_everything_comes_back(client, book):
    with time_machine.travel(LATE, tick=True):
        booking = book(prices=("2500.00",))
        client.force_login(staff_member("Reception", username="desk1"))
        page = client.get(f"/admin/bookings/booking/{booking.pk}/change/").text
        form = client.get(f"/admin/bookings/booking/{booking.pk}/cancel/").text
        missing_reason = client.post(f"/admin/bookings/booking/{booking.pk}/cancel/", {})
        done = client.post(
            f"/admin/bookings/booking/{booking.pk}/cancel/",
            {"reason": "Doctor on leave"},
            follow=True,
        )

    assert "Cancel for the clinic (full refund)" in page
    assert "everything paid comes back: <strong>₹2,200.00</strong>" in form
    assert missing_reason.status_code == 200  # the form again, with its error
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"
    assert "Cancelled; ₹2,200.00 goes back to the patient." in done.text
    assert Refund.objects.get().amount == Decimal("2200.00")  # 30 minutes before: all back
    entry = AuditLog.objects.get(action="booking.cancellation_requested")
    assert (entry.actor, entry.after["reason"], entry.after["by_staff"]) == (
        "desk1",
        "Doctor on leave",
        True,
    )


def test_staff_without_the_permission_get_403(client, book):
    from tests.support.factories import UserFactory

    booking = book(prices=("500.00",))
    client.force_login(UserFactory(is_staff=True))
    assert client.get(f"/admin/bookings/booking/{booking.pk}/cancel/").status_code == 403


def test_the_manager_publishes_a_new_policy_version_and_it_is_audited(client):
    client.force_login(staff_member("Clinic manager", username="manager1"))
    form = client.get("/admin/pricing/cancellationpolicy/add/")
    assert form.status_code == 200
    response = client.post(
        "/admin/pricing/cancellationpolicy/add/",
        {
            "reschedule_until_hours_before": "12",
            "max_reschedules": "1",
            "tiers-TOTAL_FORMS": "2",
            "tiers-INITIAL_FORMS": "0",
            "tiers-MIN_NUM_FORMS": "1",
            "tiers-MAX_NUM_FORMS": "1000",
            "tiers-0-min_hours_before": "48",
            "tiers-0-refund_percent": "100",
            "tiers-0-fee": "0",
            "tiers-1-min_hours_before": "12",
            "tiers-1-refund_percent": "50",
            "tiers-1-fee": "50",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    newest = CancellationPolicy.objects.order_by("-pk").first()
    assert [(t.min_hours_before, t.refund_percent) for t in newest.tiers.all()] == [
        (48, Decimal("100.00")),
        (12, Decimal("50.00")),
    ]
    entry = AuditLog.objects.get(action="cancellation_policy.published")
    assert entry.actor == "manager1"
    assert entry.before["tiers"][0]["min_hours_before"] == 24
    assert entry.after["max_reschedules"] == 1
    # Published versions are history: nobody edits one.
    assert client.post(
        f"/admin/pricing/cancellationpolicy/{newest.pk}/change/", {}
    ).status_code in (
        302,
        403,
    )
    assert CancellationPolicy.objects.get(pk=newest.pk).max_reschedules == 1
