"""The outbox: the booking request only writes rows; the worker's sender sends them."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from notifications import sender, services
from notifications.models import Channel, Kind, Notification, Status
from portal.flows import reschedule_booking
from portal.ops import tasks
from tests.support.factories import PatientProfileFactory
from tests.support.scheduling import slot

pytestmark = pytest.mark.usefixtures("commits")


def rows(booking) -> set[tuple[str, str]]:
    return set(Notification.objects.filter(booking=booking).values_list("kind", "channel"))


def test_the_booking_request_sends_nothing_and_the_worker_sends_the_confirmation(book, user):
    booking = book(prices=("500.00",))

    assert booking.status == "confirmed"
    assert mail.outbox == []  # nothing left during the request
    # A row per channel; with no phone on file the SMS one is superseded when sent.
    assert rows(booking) == {(Kind.CONFIRMATION, Channel.EMAIL), (Kind.CONFIRMATION, Channel.SMS)}

    summary = sender.send_due()

    assert (summary.sent, summary.superseded) == (1, 1)
    assert [m.to for m in mail.outbox] == [[user.email]]
    message = mail.outbox[0]
    assert message.subject == f"Booking confirmed: {booking.confirmation_code}"
    assert booking.confirmation_code in message.body
    assert booking.items.get().name in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and booking.confirmation_code in html
    row = Notification.objects.get(booking=booking, channel=Channel.EMAIL)
    assert (row.status, row.attempts) == (Status.SENT, 1)
    assert row.provider_message_id == message.extra_headers["Message-ID"]
    assert sender.send_due().claimed == 0  # sent once: nothing left
    assert len(mail.outbox) == 1


def test_a_patient_without_an_address_is_confirmed_and_the_row_says_why_nothing_went(book, user):
    user.email = ""
    user.save()

    booking = book()
    sender.send_due()

    assert booking.status == "confirmed"
    assert mail.outbox == []
    assert set(
        Notification.objects.filter(booking=booking).values_list("channel", "status", "last_error")
    ) == {
        (Channel.EMAIL, Status.SUPERSEDED, "no address"),
        (Channel.SMS, Status.SUPERSEDED, "no address"),
    }


def with_appointment(booking, *, hours_ahead: float) -> Booking:
    start = timezone.now() + timedelta(hours=hours_ahead)
    Booking.objects.filter(pk=booking.pk).update(
        appointment_start=start, appointment_end=start + timedelta(minutes=20)
    )
    booking.refresh_from_db()
    return booking


def test_reminders_24h_and_2h_before_and_an_sms_of_each_when_the_patient_has_a_phone(book, user):
    PatientProfileFactory(user=user, phone="+919812345678")
    booking = book()
    Notification.objects.filter(booking=booking).delete()  # rewritten with the appointment
    booking = with_appointment(booking, hours_ahead=72)

    services.write_for_confirmed(correlation_id=booking.correlation_id)
    assert Notification.objects.filter(booking=booking).count() == 6

    due = dict(
        Notification.objects.filter(booking=booking, channel=Channel.EMAIL).values_list(
            "kind", "due_at"
        )
    )
    assert due[Kind.REMINDER_24H] == booking.appointment_start - timedelta(hours=24)
    assert due[Kind.REMINDER_2H] == booking.appointment_start - timedelta(hours=2)
    services.write_for_confirmed(correlation_id=booking.correlation_id)  # idempotent
    assert Notification.objects.filter(booking=booking).count() == 6


def test_a_reminder_whose_moment_has_passed_is_not_written(book):
    booking = with_appointment(book(), hours_ahead=5)
    Notification.objects.filter(booking=booking).delete()

    services.write_for_confirmed(correlation_id=booking.correlation_id)

    assert rows(booking) == {
        (Kind.CONFIRMATION, Channel.EMAIL),
        (Kind.REMINDER_2H, Channel.EMAIL),
        (Kind.CONFIRMATION, Channel.SMS),
        (Kind.REMINDER_2H, Channel.SMS),
    }


def test_a_reminder_picked_up_after_the_appointment_began_is_not_sent(book):
    """After a worker outage the 2-hour reminder is due but its appointment has begun:
    superseded, never sent (the confirmation still goes)."""
    booking = with_appointment(book(), hours_ahead=5)
    Notification.objects.filter(booking=booking).delete()
    services.write_for_confirmed(correlation_id=booking.correlation_id)

    # The worker is back ten minutes into the appointment.
    with time_machine.travel(booking.appointment_start + timedelta(minutes=10), tick=False):
        summary = sender.send_due()

    assert (summary.sent, summary.superseded) == (1, 3)  # the confirmation e-mail only
    assert [m.subject for m in mail.outbox] == [f"Booking confirmed: {booking.confirmation_code}"]
    assert set(
        Notification.objects.filter(booking=booking, kind=Kind.REMINDER_2H).values_list(
            "channel", "status", "last_error"
        )
    ) == {
        (channel, Status.SUPERSEDED, "superseded: the appointment is no longer ahead")
        for channel in (Channel.EMAIL, Channel.SMS)
    }


def test_the_confirmation_carries_the_appointment_as_ics_and_reminders_wait_for_their_time(book):
    booking = with_appointment(book(), hours_ahead=48)
    Notification.objects.filter(booking=booking).delete()
    services.write_for_confirmed(correlation_id=booking.correlation_id)

    assert sender.send_due().sent == 1  # the confirmation only: reminders are not due yet
    (name, content, mimetype) = mail.outbox[0].attachments[0]
    assert (name, mimetype) == ("appointment.ics", "text/calendar")
    assert "BEGIN:VEVENT" in content and booking.confirmation_code in content

    a_day_before = booking.appointment_start - timedelta(hours=24, seconds=-1)
    assert sender.send_due(now=a_day_before).sent == 1
    assert mail.outbox[1].subject == "Reminder: your appointment is tomorrow"


def test_a_hindi_speaker_gets_hindi_with_hindi_dates(book, user):
    PatientProfileFactory(user=user, language="hi")
    book()
    sender.send_due()

    body = mail.outbox[0].body
    assert "आपकी बुकिंग पक्की हो गई है" in body and "is confirmed" not in body
    assert "पुष्टि कोड" in mail.outbox[0].subject or "पक्की" in mail.outbox[0].subject
    assert "₹500.00" in body  # one formatter for money, pages and e-mails alike


def test_a_failing_provider_is_retried_with_backoff_then_failed_visibly_and_resent(book, settings):
    settings.EMAIL_BACKEND = "tests.support.fake_providers.BrokenEmailBackend"
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    booking = book()
    Notification.objects.filter(booking=booking, channel=Channel.SMS).delete()  # no phone
    row = Notification.objects.get(booking=booking)

    before = timezone.now()
    assert sender.send_due().retried == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert "mail server is down" in row.last_error
    assert row.due_at >= before + timedelta(seconds=60)  # pushed back, not retried at once
    assert sender.send_due().claimed == 0

    later = timezone.now() + timedelta(hours=1)
    assert sender.send_due(now=later).retried == 1  # 2nd attempt, due 120 s later
    assert sender.send_due(now=later + timedelta(hours=1)).failed == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, 3)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert sender.resend(ids=[row.pk]) == 1
    assert sender.send_due().sent == 1
    assert len(mail.outbox) == 1


def test_a_booking_no_longer_confirmed_when_picked_up_is_not_written_to(book):
    booking = book()
    # Cancelled by a path that wrote no notice (a confirmed booking never becomes
    # failed: the database refuses it, DESIGN.md "terminal states are exclusive").
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)

    assert sender.send_due().superseded == 2  # e-mail and SMS
    assert mail.outbox == []


def test_a_row_left_sending_by_a_dead_worker_fails_visibly_unless_the_provider_dedups(
    book, user, settings
):
    PatientProfileFactory(user=user, phone="+919812345678")
    settings.SMS_BACKEND = "tests.support.fake_providers.DedupingFileLogSms"
    booking = book()
    long_ago = timezone.now() - timedelta(hours=1)
    Notification.objects.filter(booking=booking).update(
        status=Status.SENDING, attempts=1, claimed_at=long_ago
    )

    assert sender.release_stuck(now=timezone.now()) == 2

    by_channel = dict(Notification.objects.filter(booking=booking).values_list("channel", "status"))
    # SMTP cannot tell a resend from a first send: staff decide. The SMS provider dedups.
    assert by_channel == {Channel.EMAIL: Status.FAILED, Channel.SMS: Status.PENDING}
    assert (
        "interrupted while sending"
        in Notification.objects.get(booking=booking, channel=Channel.EMAIL).last_error
    )


def test_a_crashing_notifications_receiver_never_undoes_the_booking_and_the_sweep_catches_up(
    book, monkeypatch
):
    def broken(**_):
        raise RuntimeError("notifications down")

    monkeypatch.setattr(services, "write_confirmation", broken)
    booking = book()
    monkeypatch.undo()

    assert booking.status == "confirmed"
    assert Notification.objects.count() == 0
    assert services.sweep_confirmed_without_notifications() == 1
    assert services.sweep_confirmed_without_notifications() == 0
    assert rows(booking) == {(Kind.CONFIRMATION, Channel.EMAIL), (Kind.CONFIRMATION, Channel.SMS)}


def test_the_worker_heartbeat_makes_healthz_say_ok_and_its_absence_late(client):
    assert client.get("/healthz").json()["worker"] == "late"

    tasks.heartbeat()
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "worker": "ok"}

    from portal.models import WorkerHeartbeat

    WorkerHeartbeat.objects.update(beat_at=timezone.now() - timedelta(minutes=3))
    response = client.get("/healthz")
    assert (response.status_code, response.json()["worker"]) == (200, "late")


@pytest.mark.usefixtures("default_cancellation_policy")
def test_a_cancelled_booking_gets_its_notice_and_none_of_its_reminders(book):
    from portal.flows import cancel_booking

    booking = with_appointment(book(prices=("2500.00",)), hours_ahead=72)
    Notification.objects.filter(booking=booking).delete()
    services.write_for_confirmed(correlation_id=booking.correlation_id)
    assert sender.send_due().sent == 1  # the confirmation
    mail.outbox.clear()

    cancel_booking(booking=booking, actor="asha", by_staff=False, reason="")

    statuses = dict(
        Notification.objects.filter(booking=booking, channel=Channel.EMAIL).values_list(
            "kind", "status"
        )
    )
    assert statuses == {
        Kind.CONFIRMATION: Status.SENT,
        Kind.REMINDER_24H: Status.SUPERSEDED,
        Kind.REMINDER_2H: Status.SUPERSEDED,
        Kind.CANCELLATION: Status.PENDING,
    }
    assert sender.send_due(now=booking.appointment_start).sent == 1  # the notice alone
    assert "is cancelled" in mail.outbox[0].body
    assert "₹2,200.00 was refunded to your card." in mail.outbox[0].body


@pytest.mark.usefixtures("default_cancellation_policy")
def test_the_sweep_writes_a_cancellation_notice_a_lost_signal_never_wrote(book):
    from bookings import events
    from portal.flows import cancel_booking
    from tests.support.saga_hooks import listeners_replaced

    booking = book()
    with listeners_replaced(events.BookingCancelled, keep_apps=()):
        cancel_booking(booking=booking, actor="asha", by_staff=False, reason="")
    assert not Notification.objects.filter(booking=booking, kind=Kind.CANCELLATION).exists()

    assert services.sweep_confirmed_without_notifications() == 1
    assert services.sweep_confirmed_without_notifications() == 0
    assert rows(booking) >= {(Kind.CANCELLATION, Channel.EMAIL), (Kind.CANCELLATION, Channel.SMS)}
    assert Notification.objects.filter(booking=booking, kind=Kind.CANCELLATION).count() == 2


@pytest.mark.usefixtures("default_cancellation_policy")
def test_a_hindi_speaker_hears_of_a_move_in_hindi_by_mail_and_sms(
    book, user, consult, doctor, capsys
):
    PatientProfileFactory(user=user, phone="+919812345678", language="hi")
    booking = book(services=[consult], slot=slot(doctor, at=(9, 0)))
    sender.send_due()  # the confirmations
    mail.outbox.clear()
    capsys.readouterr()

    reschedule_booking(
        booking=booking, slot_id=slot(doctor, at=(11, 0)).pk, actor="desk", by_staff=True
    )
    assert sender.send_due().sent == 2  # the notice of the move, by mail and SMS

    [message] = mail.outbox
    assert message.subject == f"अपॉइंटमेंट का समय बदला: {booking.confirmation_code}"
    assert "अपॉइंटमेंट का समय बदल गया है" in message.body and "11:00 IST" in message.body
    assert "now on" not in message.body and "now on" not in message.alternatives[0][0]
    assert "समय बदल गया है" in message.alternatives[0][0]
    assert "appointment.ics" in [a[0] for a in message.attachments]
    sms_text = capsys.readouterr().out
    assert f"बुकिंग {booking.confirmation_code}: Asha Verma की अपॉइंटमेंट अब" in sms_text
    assert "is now" not in sms_text


@pytest.mark.usefixtures("default_cancellation_policy")
def test_a_move_to_another_practitioner_names_the_new_one_in_the_notice_and_its_ics(
    book, user, consult, doctor
):
    from icalendar import Calendar

    from tests.support.scheduling import practitioner

    user.email = "asha@example.in"
    user.save()
    booking = book(services=[consult], slot=slot(doctor, at=(9, 0)))
    sender.send_due()
    assert "With: Dr. Test Rao" in mail.outbox[0].body
    mail.outbox.clear()
    colleague = practitioner(consult, name="Dr. Second Iyer")

    reschedule_booking(
        booking=booking, slot_id=slot(colleague, at=(11, 0)).pk, actor="desk", by_staff=True
    )
    sender.send_due()

    [notice] = mail.outbox
    assert "with Dr. Second Iyer" in notice.body and "Dr. Test Rao" not in notice.body
    assert "with Dr. Second Iyer" in notice.alternatives[0][0]
    [(_, ics, _)] = notice.attachments
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert "Dr. Second Iyer" in str(event["SUMMARY"])
    assert event.decoded("SEQUENCE") == 1
