"""No after-commit callback may be lost: Django 5.2 logs a failing robust on_commit
callback by its `__qualname__`, which a functools.partial lacks (the logging itself
then raises and the failure is lost, as the confirmation e-mail was). The outbox no
longer wakes the worker after commit (the worker watches it: sender.watch)."""

import pytest
from django.db import transaction

from bookings.models import BookingStatus

pytestmark = pytest.mark.usefixtures("commits")


def test_every_callback_a_booking_leaves_for_after_commit_has_a_name(book, monkeypatch):
    registered = []
    real_on_commit = transaction.on_commit

    def recording(func, using=None, robust=False):
        registered.append((func, robust))
        return real_on_commit(func, using=using, robust=robust)

    monkeypatch.setattr(transaction, "on_commit", recording)

    booking = book(prices=("2500.00",))
    book(prices=("500.00",), payment_token="tok_chargeDeclined")

    assert booking.status == BookingStatus.CONFIRMED
    assert len(registered) >= 10  # every event's delivery
    assert [f for f, _ in registered if not hasattr(f, "__qualname__")] == []
