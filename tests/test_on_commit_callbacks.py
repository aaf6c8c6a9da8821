"""No after-commit callback may be lost: Django 5.2 logs a failing robust on_commit
callback by its `__qualname__`, which a functools.partial lacks (the logging itself
then raises and the failure is lost, as the confirmation e-mail was)."""

import logging

import pytest
from django.db import OperationalError, transaction

from bookings.models import BookingStatus

pytestmark = pytest.mark.django_db(transaction=True)


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
    assert len(registered) >= 10  # every event's delivery, and the outbox's wake-up
    assert [f for f, _ in registered if not hasattr(f, "__qualname__")] == []
    assert any(robust for _, robust in registered)


def test_a_robust_callback_that_raises_is_logged_by_name_not_lost(book, monkeypatch, caplog):
    """The worker's queue cannot be reached as the confirmation commits (the database
    connection drops): the error is logged under the callback's name, with its cause,
    and the booking stays confirmed (the worker's schedule sends the mail anyway)."""
    import django_q.tasks

    def queue_unreachable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(django_q.tasks, "async_task", queue_unreachable)

    with caplog.at_level(logging.ERROR):
        booking = book(prices=("500.00",))

    assert booking.status == BookingStatus.CONFIRMED
    logged = [r for r in caplog.records if "in on_commit()" in r.getMessage()]
    assert len(logged) == 1, [r.getMessage() for r in caplog.records]
    assert "enqueue_sending" in logged[0].getMessage()
    assert isinstance(logged[0].exc_info[1], OperationalError)
    assert not [
        r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], AttributeError)
    ]
