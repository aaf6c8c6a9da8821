"""The patient pages with an appointment: pick a day, then a practitioner's free time;
the review, the result, the list and the e-mail say when and with whom."""

from datetime import timedelta

import pytest
from django.core import mail
from icalendar import Calendar

from bookings.models import Booking
from bookings.services import clinic_today
from notifications import sender
from scheduling.models import Slot
from scheduling.services import clinic_zone
from tests.support.factories import UserFactory
from tests.support.pages_helpers import (
    VISA,
    details,
    expected_total_from,
    give_profile,
    request_key_from,
)
from tests.support.scheduling import appointment_service, practitioner, server_tz, slot

saga = pytest.mark.usefixtures("commits")


@pytest.fixture
def patient(client, user):
    give_profile(user)
    client.force_login(user)
    return client


@pytest.fixture
def consult(db):
    return appointment_service("900.00", name="Page Consultation")


@pytest.fixture
def doctor(consult):
    return practitioner(consult, name="Dr. Page Rao", specialty="General Physician")


def test_a_service_needing_an_appointment_leads_to_the_day_step(patient, consult, doctor):
    day = clinic_today() + timedelta(days=2)
    slot(doctor, day=day, at=(9, 0), capacity=2)
    answer = patient.post("/book/", details(consult))
    assert answer.status_code == 302 and answer["Location"] == "/book/time/"

    days = patient.get("/book/time/")
    assert days.status_code == 200
    assert [d for d, _ in days.context["days"]] == [day]
    assert f'href="?day={day.isoformat()}"' in days.content.decode()

    times = patient.get(f"/book/time/?day={day.isoformat()}")
    page = times.content.decode()
    assert "Dr. Page Rao" in page and ">" in page and " 09:00</label>" in page


def test_walk_in_services_skip_the_day_step(patient, service_priced):
    cbc = service_priced("350.00")
    answer = patient.post("/book/", details(cbc))
    assert answer["Location"] == "/book/review/"


@pytest.mark.parametrize("day", ["2020-01-01", "not-a-date", "9999-01-01"])
def test_a_bad_day_is_told_not_a_500(patient, consult, doctor, day):
    patient.post("/book/", details(consult))
    answer = patient.get(f"/book/time/?day={day}")
    assert answer.status_code == 200
    assert answer.context["day_form"].errors


def test_review_waits_for_a_time_and_refuses_a_foreign_slot(patient, consult, doctor):
    other = practitioner(appointment_service())
    theirs = slot(other)
    patient.post("/book/", details(consult))
    assert patient.get("/book/review/")["Location"] == "/book/time/"
    refused = patient.post("/book/time/", {"slot": theirs.pk})
    assert refused["Location"] == "/book/time/"
    assert patient.post("/book/time/", {"slot": "x"})["Location"] == "/book/time/"


@saga
@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_book_a_time_and_see_it_everywhere(patient, user, consult, doctor, tz, settings):
    """09:00 IST on every page, in the e-mail and the .ics, whatever the server's TZ; and
    where (the CLINIC_ADDRESS setting)."""
    settings.CLINIC_ADDRESS = "Test Clinic, 7 Park Street, Kolkata"
    with server_tz(tz):
        _book_a_time_and_see_it_everywhere(patient, consult, doctor)


def _book_a_time_and_see_it_everywhere(patient, consult, doctor):
    where = "Test Clinic, 7 Park Street, Kolkata"
    day = clinic_today() + timedelta(days=1)
    nine = slot(doctor, day=day, at=(9, 0), capacity=2)
    patient.post("/book/", details(consult))
    chosen = patient.post("/book/time/", {"slot": nine.pk})
    assert chosen["Location"] == "/book/review/"

    review = patient.get("/book/review/")
    assert "09:00–09:15 IST" in review.content.decode()
    assert "Dr. Page Rao" in review.content.decode()
    assert f'Where</dt><dd class="appointment-where">{where}</dd>' in review.content.decode()
    paid = patient.post(
        "/book/review/",
        {
            "card_number": VISA,
            "request_key": request_key_from(review),
            "expected_total": expected_total_from(review),
        },
    )
    booking = Booking.objects.get()
    assert paid["Location"] == f"/bookings/{booking.pk}/"
    assert booking.status == "confirmed"

    result = patient.get(paid["Location"]).content.decode()
    assert f"{day:%A} {day.day} {day:%B %Y}, 09:00 IST with Dr. Page Rao" in result
    assert "Add to calendar" in result
    assert f"Where: {where}" in result and f'appointment-where">{where}</dd>' in result
    listed = patient.get("/bookings/").content.decode()
    assert "09:00 IST · Dr. Page Rao" in listed
    assert f"Where: {where}" in listed
    sender.send_due()  # the worker's job: the request itself sends nothing
    assert "With: Dr. Page Rao" in mail.outbox[0].body
    assert ", 09:00 IST" in mail.outbox[0].body
    assert f"Where: {where}" in mail.outbox[0].body
    assert f"Where: {where}" in mail.outbox[0].alternatives[0][0]
    attached = Calendar.from_ical(mail.outbox[0].attachments[0][1]).walk("VEVENT")[0]
    assert str(attached["LOCATION"]) == where
    assert attached.decoded("DTSTART").astimezone(clinic_zone()).strftime("%H:%M") == "09:00"

    ics = patient.get(f"/bookings/{booking.pk}/calendar.ics")
    assert ics.status_code == 200 and ics["Content-Type"].startswith("text/calendar")
    assert b"DTSTART;TZID=Asia/Kolkata:" in ics.content and b"T090000" in ics.content
    event = Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert str(event["LOCATION"]) == where
    # One visit, not two: the e-mail's copy and the page's are the same event.
    assert str(attached["UID"]) == str(event["UID"])
    assert "Dr. Page Rao" in str(attached["SUMMARY"]) and "Dr. Page Rao" in str(event["SUMMARY"])


@saga
def test_a_time_taken_meanwhile_sends_the_patient_back_to_choose(patient, consult, doctor):
    nine = slot(doctor, capacity=1)
    patient.post("/book/", details(consult))
    patient.post("/book/time/", {"slot": nine.pk})
    review = patient.get("/book/review/")
    Slot.objects.filter(pk=nine.pk).update(booked=1)  # someone else took it

    answer = patient.post(
        "/book/review/",
        {
            "card_number": VISA,
            "request_key": request_key_from(review),
            "expected_total": expected_total_from(review),
        },
    )
    assert answer.status_code == 302 and answer["Location"].startswith("/book/time/?day=")
    assert not Booking.objects.exists()


@saga
def test_no_calendar_for_a_walk_in_or_someone_else(patient, service_priced, book, consult, doctor):
    cbc = service_priced("350.00")
    walk_in = book(services=[cbc])
    assert patient.get(f"/bookings/{walk_in.pk}/calendar.ics").status_code == 404
    theirs = book(services=[consult], slot=slot(doctor), by=UserFactory())
    assert theirs.appointment_start is not None
    assert patient.get(f"/bookings/{theirs.pk}/calendar.ics").status_code == 404


def test_a_time_of_another_day_than_the_one_shown_is_refused(patient, consult, doctor):
    shown = clinic_today() + timedelta(days=2)
    other = slot(doctor, day=shown + timedelta(days=1))
    patient.post("/book/", details(consult))
    refused = patient.post(f"/book/time/?day={shown.isoformat()}", {"slot": other.pk}, follow=True)
    assert refused.redirect_chain[0][0] == f"/book/time/?day={shown.isoformat()}"
    assert "not on the chosen day" in refused.content.decode()
    assert "slot_id" not in patient.session["booking_draft"]
    mine = slot(doctor, day=shown)
    taken = patient.post(f"/book/time/?day={shown.isoformat()}", {"slot": mine.pk})
    assert taken["Location"] == "/book/review/"


def test_a_consultation_and_a_scan_nobody_provides_together_are_told_apart(
    patient, consult, doctor
):
    """One slot per booking, and no practitioner provides both: the slot step says to
    book them separately instead of showing no free times."""
    scan = appointment_service("2500.00", name="Page MRI")
    radiologist = practitioner(scan, name="Dr. Scan Nair", specialty="Radiologist")
    slot(doctor, at=(9, 0))
    slot(radiologist, at=(9, 0))
    patient.post("/book/", details(consult, scan))

    page = patient.get("/book/time/").content.decode()

    assert "These need separate bookings" in page
    assert "No practitioner provides all of these together: Page Consultation, Page MRI." in page
    assert "choose them as separate bookings" in page
    assert "Next available days" not in page and "Show free times" not in page
    patient.post("/book/", details(consult))
    alone = patient.get("/book/time/").content.decode()
    assert "separate bookings" not in alone and "Next available days" in alone
