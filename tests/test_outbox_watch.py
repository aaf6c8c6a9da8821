"""The worker watches the outbox (sender.watch) instead of being woken by each booking:
a row committed while a watch runs goes out within its poll, and only one watch runs
at a time on all hosts (a lease row)."""

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from notifications import sender
from notifications.models import Channel, Notification, SenderLease, Status
from tests.support.racing import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_confirmation_written_during_a_watch_goes_out_within_its_poll(book):
    watching = threading.Thread(target=_watch_in_own_connection, kwargs={"seconds": 3})
    watching.start()
    time.sleep(0.5)  # the watch has sent what was due and is polling

    booking = book()
    written = time.monotonic()
    email = Notification.objects.get(booking=booking, channel=Channel.EMAIL)
    while Notification.objects.get(pk=email.pk).status != Status.SENT:
        assert time.monotonic() - written < 2, "not sent within the poll"
        time.sleep(0.05)
    watching.join()

    assert [m.subject for m in mail.outbox] == [f"Booking confirmed: {booking.confirmation_code}"]
    # The lease is given back at the end: the next watch may start at once.
    assert sender._take_lease(seconds=1) is not None


def test_two_watches_at_once_one_watches_the_other_returns(book):
    book()  # one confirmation (and its SMS row: no phone, superseded) is due

    def timed_watch():
        started = time.monotonic()
        summary, _ = sender.watch(seconds=2, poll=0.2)
        return summary, time.monotonic() - started

    (first, first_took), (second, second_took) = at_once([timed_watch] * 2)

    # One watched its 2 s; the other found the lease taken and returned at once.
    assert sorted([first_took, second_took])[0] < 1 <= 2 <= sorted([first_took, second_took])[1]
    assert first.sent + second.sent == 1  # the mail went out once
    assert SenderLease.objects.count() == 1


def test_a_watch_that_outlived_its_lease_leaves_the_next_watchs_lease_alone():
    watching = threading.Thread(target=_watch_in_own_connection, kwargs={"seconds": 1.5})
    watching.start()
    time.sleep(0.5)
    # The first watch stalled past its lease (as if expired); another watch takes it.
    SenderLease.objects.update(held_until=timezone.now() - timedelta(seconds=1))
    second = sender._take_lease(seconds=60)
    assert second is not None
    watching.join()

    assert SenderLease.objects.get().held_until == second  # still the second watch's
    assert sender._take_lease(seconds=1) is None  # so a third one does not start


def _watch_in_own_connection(*, seconds: float) -> None:
    try:
        sender.watch(seconds=seconds, poll=0.2)
    finally:
        connection.close()
