"""Issue 22, B3: a send a dead worker interrupted (its row left "sending") is retried
where the provider drops duplicates, settled by asking where the provider has a status
API, and only otherwise left to staff, who see how many on the admin's front page.

E-mail goes through django-anymail's Resend backend to a stand-in of Resend's API at
its HTTP boundary (tests/support/resend_standin.py), which honours Idempotency-Key.
"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import PatientProfile
from notifications import sender
from notifications.models import Channel, Kind, Notification, Status
from tests.support import resend_standin
from tests.support.fake_providers import sends

pytestmark = pytest.mark.usefixtures("commits")


@pytest.fixture
def resend(settings):
    """E-mail through notifications.email.ResendEmailBackend to the stand-in."""
    standin = resend_standin.ResendStandIn()
    with resend_standin.Server(standin) as server:
        settings.EMAIL_BACKEND = "notifications.email.ResendEmailBackend"
        settings.ANYMAIL = {
            "RESEND_API_KEY": resend_standin.API_KEY,
            "RESEND_API_URL": server.url,
        }
        standin.url = server.url
        yield standin


@pytest.fixture
def with_phone(user):
    return PatientProfile.objects.create(
        user=user,
        full_name="Asha Verma",
        gender="female",
        date_of_birth="1990-01-01",
        phone="+919812345678",
    )


def left_sending(booking, **filters) -> None:
    """As a worker killed during the provider call leaves its rows (an hour ago)."""
    Notification.objects.filter(booking=booking, **filters).update(
        status=Status.SENDING, attempts=1, claimed_at=timezone.now() - timedelta(hours=1)
    )


def test_resend_gets_the_notifications_idempotency_key_and_a_stable_message_id(book, resend):
    booking = book()
    assert sender.send_due().sent == 1  # the e-mail (no phone: the SMS has no address)
    [first] = resend.sent
    row = Notification.objects.get(booking=booking, channel=Channel.EMAIL)
    assert first.idempotency_key == f"notification-{row.pk}"
    assert (
        first.message_id
        == f"<notification-{row.pk}.{booking.correlation_id}@" + (first.message_id.split("@", 1)[1])
    )
    assert row.provider_message_id == first.id  # Resend's id, read by anymail


def test_an_interrupted_e_mail_is_sent_again_with_its_key_and_resend_drops_the_repeat(book, resend):
    booking = book()
    assert sender.send_due().sent == 1
    # The worker died after Resend accepted the message, before our row said "sent".
    left_sending(booking, channel=Channel.EMAIL)

    summary = sender.send_due()

    assert (summary.released, summary.sent) == (1, 1)
    row = Notification.objects.get(booking=booking, channel=Channel.EMAIL)
    assert (row.status, row.provider_message_id) == (Status.SENT, resend.sent[0].id)
    assert len(resend.sent) == 1 and resend.replayed == 1  # delivered once
    assert sender.delivery_unknown().count() == 0


def test_an_interrupted_e_mail_with_an_attachment_is_the_same_request_again(
    book, consult, doctor, resend
):
    """The confirmation of an appointment carries the .ics: its DTSTAMP is the row's own
    time, so the repeat is byte for byte the first (Resend refuses a changed body, 409)."""
    from tests.support.scheduling import slot

    booking = book(services=[consult], slot=slot(doctor))
    confirmation = {"kind": Kind.CONFIRMATION, "channel": Channel.EMAIL}
    Notification.objects.filter(booking=booking).exclude(**confirmation).update(
        status=Status.SUPERSEDED
    )
    assert sender.send_due().sent == 1
    left_sending(booking, **confirmation)

    assert sender.send_due().sent == 1
    assert (len(resend.sent), resend.replayed) == (1, 1)


def test_an_interrupted_sms_is_settled_by_asking_the_provider(
    book, with_phone, settings, tmp_path, monkeypatch
):
    log = tmp_path / "sends.log"
    monkeypatch.setenv("SEND_LOG", str(log))
    settings.SMS_BACKEND = "tests.support.fake_providers.LookingUpFileLogSms"
    got_it, never_got_it = book(), book()
    Notification.objects.filter(channel=Channel.EMAIL).update(status=Status.SUPERSEDED)
    assert sender.send_due().sent == 2
    # Both workers died in the provider call: the first message had reached the provider,
    # the second had not (its line is taken out of the provider's record).
    lost = Notification.objects.get(booking=never_got_it, channel=Channel.SMS)
    log.write_text(
        "".join(
            f"{line}\n"
            for line in log.read_text().splitlines()
            if not line.startswith(f"notification-{lost.pk}\t")
        )
    )
    left_sending(got_it, channel=Channel.SMS)
    left_sending(never_got_it, channel=Channel.SMS)

    summary = sender.send_due()

    assert (summary.released, summary.sent) == (2, 1)  # asked about both, sent the lost one
    found = Notification.objects.get(booking=got_it, channel=Channel.SMS)
    assert (found.status, found.last_error) == (Status.SENT, sender.FOUND_AT_THE_PROVIDER)
    lost.refresh_from_db()
    assert lost.status == Status.SENT  # released with NEVER_RECEIVED, then sent
    assert sorted(sends(log)) == sorted(
        [f"notification-{found.pk}", f"notification-{lost.pk}"]
    )  # each once
    assert sender.delivery_unknown().count() == 0


def test_a_provider_that_cannot_answer_is_asked_again_then_staff_decide(
    book, with_phone, settings, tmp_path, monkeypatch
):
    monkeypatch.setenv("SEND_LOG", str(tmp_path / "sends.log"))
    monkeypatch.setenv("LOOKUP_DOWN", "1")
    settings.SMS_BACKEND = "tests.support.fake_providers.LookingUpFileLogSms"
    booking = book()
    Notification.objects.filter(channel=Channel.EMAIL).update(status=Status.SUPERSEDED)
    left_sending(booking, channel=Channel.SMS)

    assert sender.release_stuck(now=timezone.now()) == 0
    assert Notification.objects.get(channel=Channel.SMS).status == Status.SENDING  # ask later

    a_day_later = timezone.now() + timedelta(days=1, minutes=1)
    assert sender.release_stuck(now=a_day_later) == 1
    row = Notification.objects.get(channel=Channel.SMS)
    assert (row.status, row.last_error) == (Status.FAILED, sender.INTERRUPTED)
    assert list(sender.delivery_unknown()) == [row]


def test_an_interrupted_send_nobody_can_settle_goes_to_staff_and_to_the_front_page(
    book, admin_client
):
    """SMTP (the default here: Django's test backend) neither drops repeats nor answers
    questions: the row fails for staff, and the admin's front page counts it."""
    booking = book()
    other = book()
    left_sending(booking, channel=Channel.EMAIL)

    assert sender.release_stuck(now=timezone.now()) == 1
    row = Notification.objects.get(booking=booking, channel=Channel.EMAIL)
    assert (row.status, row.last_error) == (Status.FAILED, sender.INTERRUPTED)
    # A provider's plain refusal (failed after its tries) is not "unknown".
    Notification.objects.filter(booking=other, channel=Channel.EMAIL).update(
        status=Status.FAILED, last_error="SMTPDataError: refused"
    )
    assert list(sender.delivery_unknown()) == [row]

    page = admin_client.get("/admin/").content.decode()
    assert 'id="glance-delivery-unknown"' in page
    tile = page.split('id="glance-delivery-unknown"', 1)[1].split("</div>", 1)[0]
    assert '<p class="figure">1</p>' in tile
    link = tile.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    listed = admin_client.get(link)
    assert listed.status_code == 200
    assert list(listed.context["cl"].queryset) == [row]


def test_the_stand_in_refuses_a_changed_body_under_a_used_key(resend):
    """The stand-in is as strict as Resend: the same key with another body is a 409."""
    import requests

    def send(subject):
        return requests.post(
            f"{resend.url}emails",
            headers={"Authorization": f"Bearer {resend_standin.API_KEY}", "Idempotency-Key": "k"},
            data=json.dumps({"from": "a@b.in", "to": ["c@d.in"], "subject": subject}),
            timeout=5,
        )

    assert send("one").status_code == 200
    assert send("one").json()["id"] == resend.sent[0].id
    assert send("two").status_code == 409


def test_an_interrupted_e_mail_is_settled_by_asking_for_its_message_id(
    book, settings, tmp_path, monkeypatch
):
    log = tmp_path / "sends.log"
    monkeypatch.setenv("SEND_LOG", str(log))
    settings.EMAIL_BACKEND = "tests.support.fake_providers.LookingUpFileLogEmail"
    got_it = book()
    assert sender.send_due().sent == 1  # reached the provider before the worker died
    never_got_it = book()  # claimed, not yet handed over, when it died
    left_sending(got_it, channel=Channel.EMAIL)
    left_sending(never_got_it, channel=Channel.EMAIL)

    summary = sender.send_due()

    assert (summary.released, summary.sent) == (2, 1)
    found = Notification.objects.get(booking=got_it, channel=Channel.EMAIL)
    assert (found.status, found.last_error) == (Status.SENT, sender.FOUND_AT_THE_PROVIDER)
    resent = Notification.objects.get(booking=never_got_it, channel=Channel.EMAIL)
    assert resent.status == Status.SENT
    assert sorted(sends(log)) == sorted(
        [found.provider_message_id, resent.provider_message_id]
    )  # each once
