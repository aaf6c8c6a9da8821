"""Refunds of online payments settle in the gateway's time (issue 23): Razorpay answers a
refund `pending`, and refund.processed / refund.failed (or the worker asking) settle it,
once, in any order; staff see the pending and failed ones. On PostgreSQL, the production
adapter talking to the Razorpay stand-in over HTTP; webhooks delivered through the app's
webhook view (Django's test client) with bodies signed as Razorpay signs them."""

import random
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import Document
from bookings import events
from bookings.models import AuditLog, Booking, BookingStatus, SagaEvent
from bookings.services import clinic_today
from payments.models import Refund, RefundStatus, ReversedCapture, WebhookEvent
from payments.razorpay_standin import Webhook
from payments.services import settle_pending_refunds
from payments.tasks import reconcile_online_payments
from portal.flows import cancellation_quote
from portal.ops.invariants import find_violations
from portal.ops.recovery import resume_stuck_sagas
from portal.presentation import staff_story, timeline
from portal.staff.dashboard import today_at_a_glance
from tests.support.razorpay import events_named, post_webhook, razorpay  # noqa: F401
from tests.support.saga_hooks import listeners_replaced
from tests.support.scheduling import slot as make_slot

pytestmark = pytest.mark.usefixtures("commits", "default_cancellation_policy")


@pytest.fixture
def pending_refunds(razorpay) -> None:  # noqa: F811
    """Razorpay as it usually is: a refund is accepted `pending`, processed days later."""
    razorpay.refund_status = "pending"


def online_booking(patient_api, consult, doctor) -> dict:
    """A consultation in three days, awaiting its online payment."""
    place = make_slot(doctor, day=clinic_today() + timedelta(days=3))
    body = {
        "patient_name": "Asha Verma",
        "gender": "female",
        "date_of_birth": "1990-06-15",
        "service_ids": [consult.pk],
        "slot_id": place.pk,
        "payment_method": "online",
    }
    return patient_api.post("/api/booking", body, format="json").json()


def confirmed_online_booking(razorpay, patient_api, consult, doctor) -> dict:  # noqa: F811
    booked = online_booking(patient_api, consult, doctor)
    proof = razorpay.pay(booked["payment"]["order_id"])
    paid = patient_api.post(f"/api/booking/{booked['id']}/payment", proof, format="json")
    assert paid.json()["status"] == "confirmed", paid.json()
    razorpay.held.clear()  # the payment's webhooks (the proof confirmed it)
    return {**booked, "gateway_payment_id": proof["razorpay_payment_id"]}


def cancel(patient_api, booking_id: str) -> dict:
    answer = patient_api.post(f"/api/booking/{booking_id}/cancel", {}, format="json")
    assert answer.status_code == 200, answer.json()
    return answer.json()


def deliver(razorpay, webhooks, *, times: int = 1, seed: int = 23) -> list[int]:  # noqa: F811
    sent = list(webhooks) * times
    random.Random(seed).shuffle(sent)
    client = Client()
    return [post_webhook(client, w, secret=razorpay.webhook_secret).status_code for w in sent]


def trail(correlation_id) -> list[str]:
    return list(
        SagaEvent.objects.filter(correlation_id=correlation_id)
        .order_by("sequence")
        .values_list("event_type", flat=True)
    )


def test_a_refund_razorpay_answers_pending_stays_pending_until_refund_processed(
    razorpay,  # noqa: F811
    pending_refunds,
    patient_api,
    consult,
    doctor,
):
    booked = confirmed_online_booking(razorpay, patient_api, consult, doctor)
    razorpay.hold_webhooks()
    cancelled = cancel(patient_api, booked["id"])
    assert cancelled["status"] == "cancelled"
    assert cancelled["refund"] == {"amount": "900.00", "status": "pending"}
    (made,) = razorpay.refunds.values()
    refund = Refund.objects.get()
    assert (refund.status, refund.gateway_reference) == (RefundStatus.PENDING, made["id"])
    assert "PaymentRefunded" not in trail(refund.correlation_id)
    assert not Document.objects.filter(kind="refund_note").exists()
    # Pending at the gateway for days is no violation, even past the saga's deadline;
    # pending without the gateway's answer that long is.
    long_ago = timezone.now() - timedelta(days=3)
    Refund.objects.filter(pk=refund.pk).update(created_at=long_ago)
    assert find_violations() == []
    Refund.objects.filter(pk=refund.pk).update(gateway_reference="")
    assert any("refund still pending past the deadline" in v for v in find_violations())
    Refund.objects.filter(pk=refund.pk).update(gateway_reference=made["id"])

    razorpay.settle_refund(made["id"])  # the bank processed it
    assert [w.event for w in razorpay.held] == ["refund.created", "refund.processed"]
    assert deliver(razorpay, razorpay.held, times=5) == [200] * 10
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REFUNDED and refund.refunded_at is not None
    assert trail(refund.correlation_id).count("PaymentRefunded") == 1
    assert Document.objects.filter(kind="refund_note").count() == 1
    assert len(razorpay.refunds) == 1
    assert list(WebhookEvent.objects.values_list("event_type", flat=True)) == [
        "refund.processed"  # refund.created is answered 200 and not stored
    ]
    assert Booking.objects.get(pk=booked["id"]).status == BookingStatus.CANCELLED
    assert find_violations() == []


def test_refund_processed_before_our_refund_call_was_answered_is_kept_and_not_repeated(
    razorpay,  # noqa: F811
    pending_refunds,
    patient_api,
    consult,
    doctor,
):
    """Razorpay made the refund, its answer was lost, refund.processed came first (even
    before refund.created): the row is found by the key in the refund's notes; the retry
    lists the payment's refunds and makes no second one."""
    booked = confirmed_online_booking(razorpay, patient_api, consult, doctor)
    razorpay.hold_webhooks()
    razorpay.lose_refund_answers = 1
    assert cancel(patient_api, booked["id"])["refund"]["status"] == "pending"
    refund = Refund.objects.get()
    assert refund.gateway_reference == ""  # we never heard which refund it is
    (made,) = razorpay.refunds.values()
    razorpay.settle_refund(made["id"])
    created, processed = razorpay.held
    assert (created.event, processed.event) == ("refund.created", "refund.processed")
    statuses = [
        post_webhook(Client(), w, secret=razorpay.webhook_secret).status_code
        for w in (processed, created)
    ]
    assert statuses == [200, 200]
    refund.refresh_from_db()
    assert (refund.status, refund.gateway_reference) == (RefundStatus.REFUNDED, made["id"])
    assert settle_pending_refunds(not_touched_since=refund.updated_at + timedelta(days=1)) == 0
    assert len(razorpay.refunds) == 1
    assert trail(refund.correlation_id).count("PaymentRefunded") == 1


def test_an_unanswered_refund_is_retried_once_and_finds_the_one_the_gateway_made(
    razorpay,  # noqa: F811
    pending_refunds,
    patient_api,
    consult,
    doctor,
):
    booked = confirmed_online_booking(razorpay, patient_api, consult, doctor)
    razorpay.hold_webhooks()  # and never delivered: the worker asks instead
    razorpay.lose_refund_answers = 1
    cancel(patient_api, booked["id"])
    refund = Refund.objects.get()
    for _ in range(3):  # recovery retries it: the listing finds the refund made
        settle_pending_refunds(not_touched_since=refund.updated_at + timedelta(days=1))
    refund.refresh_from_db()
    (made,) = razorpay.refunds.values()
    assert (refund.status, refund.gateway_reference) == (RefundStatus.PENDING, made["id"])
    reconcile_online_payments()  # still pending at the gateway: stays pending
    assert Refund.objects.get().status == RefundStatus.PENDING
    razorpay.settle_refund(made["id"])
    reconcile_online_payments()  # the webhook is lost: the worker asks the gateway
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REFUNDED
    assert len(razorpay.refunds) == 1
    assert trail(refund.correlation_id).count("PaymentRefunded") == 1
    assert find_violations() == []


def test_a_failed_refund_is_shown_to_staff_and_a_retry_makes_one_new_refund(
    razorpay,  # noqa: F811
    pending_refunds,
    patient_api,
    consult,
    doctor,
    admin_client,
):
    booked = confirmed_online_booking(razorpay, patient_api, consult, doctor)
    razorpay.hold_webhooks()
    cancel(patient_api, booked["id"])
    refund = Refund.objects.get()
    glance = today_at_a_glance(clinic_today())
    assert (glance.refunds_pending, glance.refunds_failed) == (1, 0)

    (first,) = razorpay.refunds.values()
    razorpay.settle_refund(first["id"], status="failed")
    assert deliver(razorpay, razorpay.held, times=3) == [200] * 6
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and refund.failure_reason
    glance = today_at_a_glance(clinic_today())
    assert (glance.refunds_pending, glance.refunds_failed) == (0, 1)
    front = admin_client.get("/admin/").content.decode()
    tile = front[front.index('id="glance-refunds-unsettled"') :]
    assert "Failed: staff must act</a>: <strong>1</strong>" in tile
    unsettled = admin_client.get("/admin/payments/refund/?settled=no").content.decode()
    assert first["id"] in unsettled
    assert admin_client.get("/admin/payments/refund/?settled=yes").status_code == 200
    assert (
        first["id"] not in admin_client.get("/admin/payments/refund/?settled=yes").content.decode()
    )

    # Staff ask again: the failed refund gave nothing back, so one new refund is made.
    answer = admin_client.post(
        "/admin/payments/refund/",
        {"action": "try_again", "_selected_action": [refund.pk]},
    )
    assert answer.status_code == 302
    refund.refresh_from_db()
    second = [r for r in razorpay.refunds.values() if r["id"] != first["id"]]
    assert len(second) == 1 and refund.gateway_reference == second[0]["id"]
    assert refund.status == RefundStatus.PENDING
    # A late repeat of the first attempt's failure leaves the new one alone: Razorpay's
    # retry (same event id) and the same news under another event id.
    late = [w for w in razorpay.held if w.event == "refund.failed"]
    razorpay.held.clear()
    razorpay.settle_refund(second[0]["id"])
    processed = events_named(razorpay.held, "refund.processed")
    deliver(razorpay, processed)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REFUNDED
    assert deliver(razorpay, late) == [200]  # already stored: nothing changes
    assert deliver(razorpay, [Webhook("evt_lateFailure01", "refund.failed", late[0].body)]) == [200]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REFUNDED
    live = [r for r in razorpay.refunds.values() if r["status"] != "failed"]
    assert len(live) == 1  # one refund per cancellation, however often retried
    assert trail(refund.correlation_id).count("PaymentRefunded") == 1
    glance = today_at_a_glance(clinic_today())
    assert glance.refunds_unsettled == 0


def test_a_reversed_capture_refunded_pending_is_settled_by_its_webhook(
    razorpay,  # noqa: F811
    pending_refunds,
    patient_api,
    consult,
    doctor,
):
    booked = confirmed_online_booking(razorpay, patient_api, consult, doctor)
    razorpay.hold_webhooks()
    twice = razorpay.pay(booked["payment"]["order_id"])  # a second capture of the order
    deliver(razorpay, events_named(razorpay.held, "payment.captured"))
    reversal = ReversedCapture.objects.get()
    assert reversal.gateway_payment_id == twice["razorpay_payment_id"]
    ReversedCapture.objects.filter(pk=reversal.pk).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    assert find_violations() == []  # accepted by the gateway: processed in the bank's time
    made = [r for r in razorpay.refunds.values()]
    assert len(made) == 1
    assert (reversal.status, reversal.refund_reference) == (RefundStatus.PENDING, made[0]["id"])
    assert "PaymentReversed" not in trail(reversal.correlation_id)
    assert today_at_a_glance(clinic_today()).refunds_pending == 1
    razorpay.held.clear()
    razorpay.settle_refund(made[0]["id"])
    assert deliver(razorpay, razorpay.held, times=4) == [200] * 4
    reversal.refresh_from_db()
    assert reversal.status == RefundStatus.REFUNDED
    assert trail(reversal.correlation_id).count("PaymentReversed") == 1
    assert Booking.objects.get(pk=booked["id"]).status == BookingStatus.CONFIRMED
    assert find_violations() == []


def test_a_refund_webhook_for_a_refund_we_never_asked_for_changes_nothing(
    razorpay,  # noqa: F811
    patient_api,
    consult,
    doctor,
):
    """A refund made on Razorpay's dashboard (no key of ours in its notes): 200, ignored."""
    booked = confirmed_online_booking(razorpay, patient_api, consult, doctor)
    razorpay.hold_webhooks()
    status, _ = razorpay._refund(booked["gateway_payment_id"], {"amount": 10000})
    assert status == 200
    assert deliver(razorpay, razorpay.held) == [200, 200]
    assert not Refund.objects.exists()
    assert Booking.objects.get(pk=booked["id"]).status == BookingStatus.CONFIRMED


def test_a_reversal_whose_refund_fails_unheard_is_found_by_reconciliation(
    razorpay,  # noqa: F811
    pending_refunds,
    patient_api,
    consult,
    doctor,
    admin_client,
):
    """The refund.failed webhook never comes: the worker asks the gateway and staff see
    the reversed capture failed (the front page's count, the 'settled' filter)."""
    booked = confirmed_online_booking(razorpay, patient_api, consult, doctor)
    razorpay.hold_webhooks()  # and never delivered
    twice = razorpay.pay(booked["payment"]["order_id"])
    reconcile_online_payments()  # nothing due yet: the second capture is not seen
    assert not ReversedCapture.objects.exists()
    deliver(razorpay, events_named(razorpay.held, "payment.captured")[-1:])
    reversal = ReversedCapture.objects.get(gateway_payment_id=twice["razorpay_payment_id"])
    assert reversal.status == RefundStatus.PENDING and reversal.refund_reference
    razorpay.settle_refund(reversal.refund_reference, status="failed")
    reconcile_online_payments()
    reversal.refresh_from_db()
    assert reversal.status == RefundStatus.FAILED
    assert "PaymentReversed" not in trail(reversal.correlation_id)
    assert today_at_a_glance(clinic_today()).refunds_failed == 1
    listed = admin_client.get("/admin/payments/reversedcapture/?settled=no").content.decode()
    assert twice["razorpay_payment_id"] in listed
    assert any("not kept" in v for v in find_violations())  # money owed back: staff act


def test_an_online_payment_undone_after_capture_is_refunded_until_the_gateway_processes_it(
    razorpay,  # noqa: F811
    pending_refunds,
    patient_api,
    consult,
    doctor,
    admin_client,
    settings,
):
    """Paid, then the saga undone (its confirmation never ran, recovery gave up): the
    capture is refunded through a reversal that follows the gateway (it was marked
    refunded at once, and a later refund.failed was ignored: money owed, nobody told)."""
    booked = online_booking(patient_api, consult, doctor)
    proof = razorpay.pay(booked["payment"]["order_id"])
    with listeners_replaced(events.PaymentCompleted, keep_apps=()):  # confirmation lost
        paid = patient_api.post(f"/api/booking/{booked['id']}/payment", proof, format="json")
    assert paid.json()["status"] == "pending"
    razorpay.held.clear()
    razorpay.hold_webhooks()
    past_deadline = timedelta(seconds=settings.SAGA_HARD_DEADLINE_SECONDS + 60)
    assert resume_stuck_sagas(now=timezone.now() + past_deadline).compensated == 1

    booking = Booking.objects.get(pk=booked["id"])
    assert booking.status == BookingStatus.FAILED
    (made,) = razorpay.refunds.values()
    assert (made["payment_id"], made["amount"]) == (proof["razorpay_payment_id"], 90000)
    reversal = ReversedCapture.objects.get()
    assert (reversal.reason, reversal.status, reversal.refund_reference) == (
        "compensated",
        RefundStatus.PENDING,
        made["id"],
    )
    assert "PaymentReversed" not in trail(booking.correlation_id)  # not back yet
    assert today_at_a_glance(clinic_today()).refunds_pending == 1
    on_its_way = {
        "quote": cancellation_quote(booking, by_staff=False).reason,
        "patient": {e.title: e.detail for e in timeline(booking)}["Booking not made"],
        "staff": {e.title: e.detail for e in staff_story(booking)}["Booking not made"],
    }
    assert on_its_way == {
        "quote": "This booking failed; the payment is on its way back to you.",
        "patient": "₹900.00 is on its way back to the account you paid from.",
        "staff": "₹900.00 is being refunded; Razorpay has not processed it yet.",
    }
    # Recovery has nothing left to do: the payment is handed to the reversal.
    later = timezone.now() + 2 * past_deadline
    summary = resume_stuck_sagas(now=later)
    assert (summary.claimed, summary.compensated) == (0, 0)
    assert find_violations() == []

    razorpay.settle_refund(made["id"], status="failed")  # the bank refused it
    assert deliver(razorpay, razorpay.held, times=3) == [200] * 6
    reversal.refresh_from_db()
    assert reversal.status == RefundStatus.FAILED
    assert today_at_a_glance(clinic_today()).refunds_failed == 1
    assert any("not kept (compensated)" in v for v in find_violations())

    # Staff ask again: one new refund, processed this time, PaymentReversed once.
    answer = admin_client.post(
        "/admin/payments/reversedcapture/",
        {"action": "try_again", "_selected_action": [reversal.pk]},
    )
    assert answer.status_code == 302
    reversal.refresh_from_db()
    (second,) = [r for r in razorpay.refunds.values() if r["id"] != made["id"]]
    assert (reversal.status, reversal.refund_reference) == (RefundStatus.PENDING, second["id"])
    assert AuditLog.objects.filter(action="reversal.retried").count() == 1
    razorpay.held.clear()
    razorpay.settle_refund(second["id"])
    assert deliver(razorpay, razorpay.held, times=2) == [200] * 2  # refund.processed, twice
    reversal.refresh_from_db()
    assert reversal.status == RefundStatus.REFUNDED
    assert trail(booking.correlation_id).count("PaymentReversed") == 1
    assert {e.title: e.detail for e in timeline(booking)}["Booking not made"] == (
        "The payment was refunded to the account you paid from."
    )
    assert {e.title: e.detail for e in staff_story(booking)}["Booking not made"] == (
        "The payment was refunded: back to the paying account (Razorpay)."
    )
    assert today_at_a_glance(clinic_today()).refunds_unsettled == 0
    assert find_violations() == []
