"""Issue 22: the messages say what happened. A completed or no-show booking's cancel
quote said "This booking is being cancelled."; a booking compensated after its card was
charged said "nothing was charged" (the money had been taken and given back)."""

import pytest
from django.utils import timezone, translation

import confirmations.services
from bookings.models import BookingStatus, SagaEvent
from bookings.services import clinic_today, record_visit
from portal.flows import cancellation_quote
from portal.presentation import discount_in_words, staff_story, timeline

pytestmark = pytest.mark.django_db(transaction=True)

ELIGIBLE = ("2500.00",)  # takes one of the day's discounts


@pytest.fixture
def charged_then_undone(book, monkeypatch, settings):
    """A booking whose card was charged, then the saga failed and was compensated."""

    def confirmation_breaks(**_):
        raise RuntimeError("confirmation cannot complete")

    monkeypatch.setattr(confirmations.services, "confirm_booking", confirmation_breaks)
    settings.SAGA_RERAISE_RECEIVER_ERRORS = False  # as in production
    booking = book(prices=ELIGIBLE)
    assert booking.status == BookingStatus.FAILED
    assert SagaEvent.objects.filter(
        correlation_id=booking.correlation_id, event_type="PaymentReversed"
    ).exists()
    return booking


def marked(book, outcome: str):
    booking = book()
    today = clinic_today()
    assert record_visit(
        booking_id=booking.pk,
        outcome=outcome,
        actor="desk",
        today=today,
        now=timezone.now(),
        walk_ins_over_by=today,  # the walk-in's hours are over: a no-show may be marked
    )
    booking.refresh_from_db()
    return booking


@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        (BookingStatus.COMPLETED, "This visit has taken place; it cannot be cancelled."),
        (
            BookingStatus.NO_SHOW,
            "This visit was marked as missed (a no-show); it cannot be cancelled.",
        ),
    ],
)
def test_a_marked_visits_quote_says_it_cannot_be_cancelled(book, outcome, words):
    booking = marked(book, outcome)
    for by_staff in (False, True):
        quote = cancellation_quote(booking, by_staff=by_staff)
        assert not quote.allowed
        assert quote.reason == words


def test_the_api_quote_of_a_completed_visit_says_so(book, patient_api):
    booking = marked(book, BookingStatus.COMPLETED)
    response = patient_api.get(f"/api/booking/{booking.pk}/cancellation")
    assert response.status_code == 200
    assert response.json()["reason"] == "This visit has taken place; it cannot be cancelled."
    refused = patient_api.post(f"/api/booking/{booking.pk}/cancel", {}, format="json")
    assert refused.status_code == 409
    assert "being cancelled" not in refused.json()["detail"]


def test_a_booking_charged_then_undone_says_the_payment_was_refunded(charged_then_undone):
    booking = charged_then_undone
    quote = cancellation_quote(booking, by_staff=False)
    assert quote.reason == "This booking failed; the payment was refunded."
    patient_story = {entry.title: entry.detail for entry in timeline(booking)}
    assert patient_story["Booking not made"] == "The payment was refunded to your card."
    staff = {entry.title: entry.detail for entry in staff_story(booking)}
    assert staff["Booking not made"] == "The payment was refunded: back to the card."
    assert discount_in_words(booking) == "No discount was used, since the booking was not made."
    said = [quote.reason, *patient_story.values(), *staff.values(), discount_in_words(booking)]
    assert not any("nothing was charged" in text.lower() for text in said), said


def test_a_declined_booking_still_says_nothing_was_charged(book):
    booking = book(prices=ELIGIBLE, payment_token="tok_chargeDeclined")
    assert booking.status == BookingStatus.FAILED
    assert cancellation_quote(booking, by_staff=False).reason == (
        "This booking failed; nothing was charged."
    )
    story = {entry.title: entry.detail for entry in timeline(booking)}
    assert story["Booking not made"] == "Nothing was charged."


def test_the_new_words_are_in_hindi(book, request):
    completed = marked(book, BookingStatus.COMPLETED)
    no_show = marked(book, BookingStatus.NO_SHOW)
    charged_then_undone = request.getfixturevalue("charged_then_undone")  # breaks confirming
    with translation.override("hi"):
        said = [
            cancellation_quote(completed, by_staff=False).reason,
            cancellation_quote(no_show, by_staff=False).reason,
            cancellation_quote(charged_then_undone, by_staff=False).reason,
            discount_in_words(charged_then_undone),
            *(entry.detail for entry in timeline(charged_then_undone)),
        ]
    english = [
        "cannot be cancelled",
        "refunded",
        "was not made",
    ]
    assert not any(word in text for text in said for word in english), said
