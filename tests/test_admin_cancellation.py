"""Staff cancel for the clinic from a booking's admin page; managers publish policies."""

from datetime import datetime
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bookings.models import AuditLog, Booking
from payments.models import Refund
from pricing.models import CancellationPolicy
from tests.support.admin_helpers import staff_member

pytestmark = pytest.mark.usefixtures("commits", "default_cancellation_policy")

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
    response = _publish(
        client,
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


def test_a_refund_the_gateway_declines_is_listed_for_staff_and_asked_again(client, book, settings):
    from payments.models import RefundStatus, SimulatedGatewayRefund

    with time_machine.travel(LATE, tick=True):
        # The simulated gateway's documented rule: this card's refunds are declined.
        booking = book(prices=("500.00",), payment_token="tok_refundDeclined")
        assert booking.status == "confirmed"
        client.force_login(staff_member("Reception", username="desk1"))
        client.post(f"/admin/bookings/booking/{booking.pk}/cancel/", {"reason": "Doctor away"})

        refund = Refund.objects.get()
        assert (refund.status, refund.amount, refund.attempts) == ("failed", Decimal("500.00"), 1)
        assert Booking.objects.get(pk=booking.pk).status == "cancelled"  # never dropped

        page = client.get(f"/admin/bookings/booking/{booking.pk}/change/").text
        listed = client.get("/admin/payments/refund/?status__exact=failed").text
        asked = client.post(
            "/admin/payments/refund/",
            {"action": "try_again", "_selected_action": [refund.pk]},
            follow=True,
        )

    # The booking's page says how much and where it stands.
    assert "₹500.00 · " in page
    assert "Failed (the gateway refused it: staff must act)" in page
    assert "refund_declined: the card account is closed" in page
    # The Refunds list shows it, and its action asked the gateway again (refused again).
    assert "₹500.00" in listed and "refund_declined" in listed
    # Named by patient and code, not by a truncated id (issue 25).
    assert f"Asha Verma · {booking.confirmation_code}</a>" in listed
    assert f">{str(booking.pk)[:8]}…<" not in listed
    assert "0 refunded, 0 still waiting for the gateway, 1 refused again." in asked.text
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == (RefundStatus.FAILED, 2)
    assert not SimulatedGatewayRefund.objects.exists()


def test_ask_the_gateway_again_settles_a_refund_it_refused_before(client, book, settings):
    from payments.models import RefundStatus, SimulatedGatewayRefund

    with time_machine.travel(LATE, tick=True):
        booking = book(prices=("500.00",))
        client.force_login(staff_member("Reception", username="desk1"))
        settings.PAYMENT_GATEWAY = "tests.test_cancellation_saga.GatewayRefusing"
        client.post(f"/admin/bookings/booking/{booking.pk}/cancel/", {"reason": "Doctor away"})
        assert Refund.objects.get().status == RefundStatus.FAILED
        settings.PAYMENT_GATEWAY = "payments.gateway.SimulatedGateway"  # it answers now

        asked = client.post(
            "/admin/payments/refund/",
            {"action": "try_again", "_selected_action": [Refund.objects.get().pk]},
            follow=True,
        )
        page = client.get(f"/admin/bookings/booking/{booking.pk}/change/").text

    assert "1 refunded, 0 still waiting for the gateway, 0 refused again." in asked.text
    assert Refund.objects.get().status == RefundStatus.REFUNDED
    assert SimulatedGatewayRefund.objects.get().amount == Decimal("500.00")
    assert "₹500.00 · " in page and ">Refunded</a>" in page
    assert AuditLog.objects.filter(action="refund.retried", actor="desk1").exists()


class _FormInputs(HTMLParser):
    """What a browser would send from the page's form: every input and select's value."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag != "input" or not name or attrs.get("type") in ("submit", "checkbox"):
            return
        self.values[name] = attrs.get("value") or ""


def _add_page_values(client) -> dict[str, str]:
    page = client.get("/admin/pricing/cancellationpolicy/add/")
    assert page.status_code == 200
    parser = _FormInputs()
    parser.feed(page.content.decode())
    return {k: v for k, v in parser.values.items() if "__prefix__" not in k}


def _publish(client, sent: dict[str, str]):
    """As the manager does it: "Save" shows the differences, "Publish" confirms them."""
    versions = CancellationPolicy.objects.count()
    review = client.post("/admin/pricing/cancellationpolicy/add/", sent)
    assert review.status_code == 200, review.content[:3000]
    assert CancellationPolicy.objects.count() == versions  # nothing published yet
    assert review.context["policy_changes"], "no differences shown"
    return client.post(
        "/admin/pricing/cancellationpolicy/add/",
        {**sent, "reviewed": review.context["policy_digest"]},
    )


def test_publishing_a_change_to_one_tier_keeps_the_tiers_left_as_they_were(client):
    """The issue's case: the Add page shows version 1's three tiers; only the 6-hour fee
    is changed; the new version has all three (it had the changed one alone)."""
    client.force_login(staff_member("Clinic manager", username="manager2"))
    sent = _add_page_values(client)
    assert sent["tiers-1-min_hours_before"] == "6" and sent["tiers-1-fee"] == "100.00"
    sent["tiers-1-fee"] = "150.00"
    review = client.post("/admin/pricing/cancellationpolicy/add/", sent)
    assert review.context["policy_changes"] == [
        "At least 6 h before: 100% back, fee ₹100.00 → 100% back, fee ₹150.00"
    ]
    assert "What changes from version 1" in review.content.decode()
    response = _publish(client, sent)
    assert response.status_code == 302, response.content[:3000]
    newest = CancellationPolicy.objects.order_by("-pk").first()
    assert [(t.min_hours_before, t.refund_percent, t.fee) for t in newest.tiers.all()] == [
        (24, Decimal("100.00"), Decimal("0.00")),
        (6, Decimal("100.00"), Decimal("150.00")),
        (2, Decimal("50.00"), Decimal("0.00")),
    ]


def test_a_tier_is_left_out_by_deleting_it_and_all_of_them_is_refused(client):
    client.force_login(staff_member("Clinic manager", username="manager3"))
    versions = CancellationPolicy.objects.count()
    sent = _add_page_values(client)
    everything_deleted = {**sent, **{f"tiers-{i}-DELETE": "on" for i in range(3)}}
    refused = client.post("/admin/pricing/cancellationpolicy/add/", everything_deleted)
    assert refused.status_code == 200
    page = refused.content.decode()
    assert "A policy needs at least one refund tier: every tier was deleted." in page
    assert "Please submit at least 1 form." not in page and 'id="publish"' not in page
    assert CancellationPolicy.objects.count() == versions
    # Even with a "reviewed" mark sent along, nothing is published.
    forced = client.post(
        "/admin/pricing/cancellationpolicy/add/", {**everything_deleted, "reviewed": "x"}
    )
    assert forced.status_code == 200 and CancellationPolicy.objects.count() == versions
    one_left_out = {**sent, "tiers-2-DELETE": "on"}
    review = client.post("/admin/pricing/cancellationpolicy/add/", one_left_out)
    assert review.context["policy_changes"] == [
        "Tier at least 2 h before removed (was 50% back, fee ₹0.00)"
    ]
    published = _publish(client, one_left_out)
    assert published.status_code == 302
    newest = CancellationPolicy.objects.order_by("-pk").first()
    assert [t.min_hours_before for t in newest.tiers.all()] == [24, 6]


def test_an_edit_after_the_review_is_shown_again_before_it_is_published(client):
    client.force_login(staff_member("Clinic manager", username="manager4"))
    versions = CancellationPolicy.objects.count()
    sent = _add_page_values(client)
    sent["max_reschedules"] = "5"
    review = client.post("/admin/pricing/cancellationpolicy/add/", sent)
    assert review.context["policy_changes"] == ["Moves per booking: 2 → 5"]
    changed_meanwhile = {
        **sent,
        "tiers-0-fee": "10.00",
        "reviewed": review.context["policy_digest"],
    }
    again = client.post("/admin/pricing/cancellationpolicy/add/", changed_meanwhile)
    assert again.status_code == 200 and CancellationPolicy.objects.count() == versions
    assert again.context["policy_changes"] == [
        "Moves per booking: 2 → 5",
        "At least 24 h before: 100% back, fee ₹0.00 → 100% back, fee ₹10.00",
    ]


def test_a_version_identical_to_the_current_one_is_not_published(client):
    client.force_login(staff_member("Clinic manager", username="manager5"))
    versions = CancellationPolicy.objects.count()
    same = client.post("/admin/pricing/cancellationpolicy/add/", _add_page_values(client))
    assert same.status_code == 200
    assert "Nothing differs from the current version 1" in same.content.decode()
    assert CancellationPolicy.objects.count() == versions
