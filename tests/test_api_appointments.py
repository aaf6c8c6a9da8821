"""API.md: practitioners, slots, slot_id on a booking, the appointment in the answer,
calendar.ics, and the 409 slot_unavailable that leaves no booking behind."""

from datetime import timedelta

import pytest
from django.db.models import Max
from icalendar import Calendar
from rest_framework.test import APIClient

from bookings.models import Booking, MedicalService, SagaEvent
from bookings.services import clinic_today
from portal.ops.invariants import find_violations
from scheduling.models import Slot, SlotBooking, WeeklySchedule
from tests.support.bodies import booking_body
from tests.support.factories import SlotFactory, UserFactory
from tests.support.scheduling import (
    appointment_service,
    clinic_time,
    practitioner,
    server_tz,
    slot,
)

BOOKINGS = "/api/booking"
saga = pytest.mark.usefixtures("commits")


@pytest.fixture
def consult(db):
    return appointment_service("900.00", name="Test Consultation")


@pytest.fixture
def doctor(consult):
    return practitioner(consult, name="Dr. Test Rao", specialty="General Physician")


def test_services_say_which_need_an_appointment(api, consult, service_priced):
    service_priced("350.00", name="Test CBC")
    listed = {s["name"]: s for s in api.get("/api/services").json()}
    assert listed["Test Consultation"]["requires_appointment"] is True
    assert listed["Test Consultation"]["duration_minutes"] == 15
    assert listed["Test CBC"]["requires_appointment"] is False


def test_practitioners_list_their_services(api, doctor, consult):
    retired = practitioner(consult, name="Dr. Retired", active=False)
    answer = api.get("/api/practitioners").json()
    mine = [p for p in answer if p["id"] == doctor.pk]
    assert mine == [
        {
            "id": doctor.pk,
            "name": "Dr. Test Rao",
            "specialty": "General Physician",
            "service_ids": [consult.pk],
        }
    ]
    assert retired.pk not in [p["id"] for p in answer]


@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_slots_of_a_day_in_clinic_time_whatever_the_server_tz(api, doctor, tz):
    day = clinic_today() + timedelta(days=2)
    nine = slot(doctor, day=day, at=(9, 0), capacity=3, booked=1)
    slot(doctor, day=day, at=(9, 15), capacity=1, booked=1)  # full: not listed
    with server_tz(tz):
        answer = api.get(f"/api/slots?date={day.isoformat()}")
    assert answer.status_code == 200
    assert answer.json() == [
        {
            "id": nine.pk,
            "practitioner": {
                "id": doctor.pk,
                "name": "Dr. Test Rao",
                "specialty": "General Physician",
            },
            "start": f"{day.isoformat()}T09:00:00+05:30",
            "end": f"{day.isoformat()}T09:15:00+05:30",
            "capacity": 3,
            "available": 2,
        }
    ]


def test_slots_filter_by_practitioner_and_services(api, consult, doctor, service_priced):
    echo = appointment_service("2200.00")
    cardiologist = practitioner(consult, echo, specialty="Cardiologist")
    day = clinic_today() + timedelta(days=3)
    mine = slot(doctor, day=day, at=(10, 0))
    theirs = slot(cardiologist, day=day, at=(10, 0))
    url = f"/api/slots?date={day.isoformat()}"

    def ids(query):
        return [s["id"] for s in api.get(url + query).json()]

    assert ids("") == [mine.pk, theirs.pk] or ids("") == [theirs.pk, mine.pk]
    assert ids(f"&practitioner_id={doctor.pk}") == [mine.pk]
    assert ids(f"&service_ids={consult.pk},{echo.pk}") == [theirs.pk]
    assert ids(f"&service_ids={consult.pk}") == sorted(ids(""), key=ids("").index)


def test_past_slots_of_today_are_not_listed(api, doctor):
    today = clinic_today()
    past = SlotFactory(practitioner=doctor, start=clinic_time(today, 0, 0))
    listed = [s["id"] for s in api.get(f"/api/slots?date={today.isoformat()}").json()]
    assert past.pk not in listed


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?date=2026-13-01",
        "?date=tomorrow",
        "?date=20261201",
        "?date=1999-01-01",
        "?date=9999-12-31",
        "?date={beyond}",
        "?date={today}&practitioner_id=abc",
        "?date={today}&service_ids=1,,2",
        "?date={today}&service_ids=99999999999",
    ],
)
def test_bad_slot_queries_are_400(api, query):
    today = clinic_today()
    beyond = today + timedelta(days=61)
    answer = api.get("/api/slots" + query.format(today=today, beyond=beyond))
    assert answer.status_code == 400, answer.content


def test_the_last_day_of_the_horizon_is_fine(api, settings):
    settings.BOOKING_HORIZON_DAYS = 5
    last = clinic_today() + timedelta(days=5)
    assert api.get(f"/api/slots?date={last.isoformat()}").status_code == 200
    assert api.get(f"/api/slots?date={(last + timedelta(days=1)).isoformat()}").status_code == 400


def test_slots_take_a_bounded_number_of_queries(api, consult, django_assert_max_num_queries):
    day = clinic_today() + timedelta(days=4)
    doctors = [practitioner(consult) for _ in range(30)]
    for doctor in doctors:
        for hour in (9, 10, 11):
            slot(doctor, day=day, at=(hour, 0))
    with django_assert_max_num_queries(4):
        answer = api.get(f"/api/slots?date={day.isoformat()}&service_ids={consult.pk}")
    assert len(answer.json()) == 90


@saga
@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_booking_a_slot_answers_with_the_appointment(patient_api, consult, doctor, tz):
    day = clinic_today() + timedelta(days=1)
    nine = slot(doctor, day=day, capacity=2)
    with server_tz(tz):
        answer = patient_api.post(BOOKINGS, booking_body(consult, slot_id=nine.pk), format="json")
    assert answer.status_code == 201, answer.content
    given = answer.json()
    assert given["status"] == "confirmed"
    assert given["visit_date"] == day.isoformat()
    assert given["appointment"] == {
        "slot_id": nine.pk,
        "practitioner": {"id": doctor.pk, "name": "Dr. Test Rao", "specialty": "General Physician"},
        "start": f"{day.isoformat()}T09:00:00+05:30",
        "end": f"{day.isoformat()}T09:15:00+05:30",
    }
    nine.refresh_from_db()
    assert nine.booked == 1
    listed = patient_api.get(BOOKINGS).json()["results"][0]
    assert listed["appointment"] == given["appointment"]
    status = patient_api.get(f"/api/booking/{given['id']}/status").json()
    assert status["appointment"] == given["appointment"]
    assert find_violations() == []


@saga
def test_a_full_slot_is_409_with_no_booking_left(patient_api, consult, doctor):
    full = slot(doctor, capacity=1, booked=1)
    answer = patient_api.post(BOOKINGS, booking_body(consult, slot_id=full.pk), format="json")
    assert answer.status_code == 409
    assert answer.json() == {"detail": answer.json()["detail"], "code": "slot_unavailable"}
    assert not Booking.objects.exists()
    assert not SagaEvent.objects.exists()
    full.refresh_from_db()
    assert full.booked == 1


@saga
def test_past_and_unknown_slots_are_409(patient_api, consult, doctor):
    today = clinic_today()
    past = SlotFactory(practitioner=doctor, start=clinic_time(today, 0))
    for slot_id in (past.pk, 987654):
        answer = patient_api.post(BOOKINGS, booking_body(consult, slot_id=slot_id), format="json")
        assert answer.status_code == 409, slot_id
        assert answer.json()["code"] == "slot_unavailable"
    assert not Booking.objects.exists()


@saga
def test_slot_rules_are_400(patient_api, consult, doctor, service_priced):
    cbc = service_priced("350.00")
    echo = appointment_service("2200.00")
    nine = slot(doctor)

    def post(services, **changes):
        return patient_api.post(BOOKINGS, booking_body(*services, **changes), format="json")

    missing = post([consult])
    assert missing.status_code == 400 and "slot_id" in missing.json()
    not_provided = post([echo], slot_id=nine.pk)
    assert not_provided.status_code == 400 and "slot_id" in not_provided.json()
    walk_in_only = post([cbc], slot_id=nine.pk)
    assert walk_in_only.status_code == 400 and "slot_id" in walk_in_only.json()
    for bad in (0, -1, "x", 2**31):
        assert post([consult], slot_id=bad).status_code == 400
    assert not Booking.objects.exists()
    # A walk-in service with a consultation: the slot's practitioner needs only the latter.
    mixed = post([consult, cbc], slot_id=nine.pk)
    assert mixed.status_code == 201 and mixed.json()["appointment"]["slot_id"] == nine.pk


@saga
def test_a_slot_beyond_the_booking_horizon_is_400(
    patient_api, consult, doctor, settings, default_cancellation_policy
):
    """A slot row may exist beyond the horizon (generated when the policy was longer, or
    made in the admin): booking or moving to it is refused like the other slot rules."""
    last = clinic_today() + timedelta(days=settings.BOOKING_HORIZON_DAYS)
    beyond = slot(doctor, day=last + timedelta(days=1))
    on_the_last_day = slot(doctor, day=last)

    refused = patient_api.post(BOOKINGS, booking_body(consult, slot_id=beyond.pk), format="json")

    assert refused.status_code == 400
    assert "beyond the booking horizon" in refused.json()["slot_id"][0]
    assert not Booking.objects.exists()
    assert Slot.objects.get(pk=beyond.pk).booked == 0
    taken = patient_api.post(
        BOOKINGS, booking_body(consult, slot_id=on_the_last_day.pk), format="json"
    )
    assert taken.status_code == 201
    moved = patient_api.post(
        f"{BOOKINGS}/{taken.json()['id']}/reschedule", {"slot_id": beyond.pk}, format="json"
    )
    assert moved.status_code == 400 and "slot_id" in moved.json()


@saga
def test_a_walk_in_booking_has_no_appointment_and_visits_today(patient_api, service_priced):
    cbc = service_priced("350.00")
    given = patient_api.post(BOOKINGS, booking_body(cbc), format="json").json()
    assert given["appointment"] is None
    assert given["visit_date"] == clinic_today().isoformat()


@saga
def test_a_declined_card_gives_the_slot_back(patient_api, consult, doctor):
    nine = slot(doctor, capacity=1)
    given = patient_api.post(
        BOOKINGS,
        booking_body(consult, slot_id=nine.pk, payment_token="tok_chargeDeclined"),
        format="json",
    ).json()
    assert given["status"] == "failed"
    nine.refresh_from_db()
    assert nine.booked == 0
    assert SlotBooking.objects.get().released_at is not None
    trail = [
        e["type"] for e in patient_api.get(f"/api/booking/{given['id']}/status").json()["events"]
    ]
    assert trail == [
        "BookingRequested",
        "PricingCalculated",
        "DiscountQuotaReserved",
        "PaymentFailed",
        "CompensationTriggered",
        "SlotReleased",
        "BookingFailed",
    ]
    assert find_violations() == []
    again = patient_api.post(BOOKINGS, booking_body(consult, slot_id=nine.pk), format="json")
    assert again.json()["status"] == "confirmed"  # the place is reusable


@saga
@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_calendar_file_for_the_owner_only(patient_api, token_client, consult, doctor, tz):
    day = clinic_today() + timedelta(days=1)
    nine = slot(doctor, day=day)
    booking_id = patient_api.post(
        BOOKINGS, booking_body(consult, slot_id=nine.pk), format="json"
    ).json()["id"]
    url = f"/api/booking/{booking_id}/calendar.ics"
    owner = APIClient()  # not the JSON-checking client: this answer is text/calendar
    owner.force_authenticate(Booking.objects.get(pk=booking_id).user)
    with server_tz(tz):
        answer = owner.get(url)
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/calendar")
    event = Calendar.from_ical(answer.content).walk("VEVENT")[0]
    start = event.decoded("dtstart")
    assert (start.hour, start.minute, start.utcoffset()) == (9, 0, timedelta(hours=5, minutes=30))
    assert b"DTSTART;TZID=Asia/Kolkata" in answer.content
    assert "Dr. Test Rao" in str(event["summary"])
    assert (str(event["status"]), event.decoded("sequence")) == ("CONFIRMED", 0)

    stranger = token_client(UserFactory())
    assert stranger.get(url).status_code == 404
    assert patient_api.get("/api/booking/not-a-uuid/calendar.ics").status_code == 404


@saga
@pytest.mark.usefixtures("default_cancellation_policy")
def test_the_calendar_file_of_a_moved_then_cancelled_booking_tells_calendars_so(
    patient_api, consult, doctor
):
    day = clinic_today() + timedelta(days=2)
    nine, ten = slot(doctor, day=day, at=(9, 0)), slot(doctor, day=day, at=(10, 0))
    booking_id = patient_api.post(
        BOOKINGS, booking_body(consult, slot_id=nine.pk), format="json"
    ).json()["id"]
    url = f"/api/booking/{booking_id}/calendar.ics"
    owner = APIClient()
    owner.force_authenticate(Booking.objects.get(pk=booking_id).user)

    def event():
        answer = owner.get(url)
        assert answer.status_code == 200
        found = Calendar.from_ical(answer.content).walk("VEVENT")[0]
        return found.decoded("dtstart").hour, str(found["status"]), found.decoded("sequence")

    assert event() == (9, "CONFIRMED", 0)
    moved = patient_api.post(
        f"/api/booking/{booking_id}/reschedule", {"slot_id": ten.pk}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    assert event() == (10, "CONFIRMED", 1)  # same UID, a later copy: calendars move it
    cancelled = patient_api.post(f"/api/booking/{booking_id}/cancel", {}, format="json")
    assert cancelled.status_code == 200, cancelled.json()
    assert event()[1:] == ("CANCELLED", 1)  # calendars that imported it drop it


@saga
def test_no_calendar_file_for_a_walk_in(patient_api, service_priced):
    cbc = service_priced("350.00")
    booking_id = patient_api.post(BOOKINGS, booking_body(cbc), format="json").json()["id"]
    assert patient_api.get(f"/api/booking/{booking_id}/calendar.ics").status_code == 404


def test_schema_describes_the_new_fields(api):
    schema = api.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    assert {"requires_appointment", "duration_minutes"} <= set(
        components["ServiceOutput"]["properties"]
    )
    assert {"appointment", "visit_date"} <= set(components["BookingOutput"]["properties"])
    assert "slot_id" in components["BookingInputRequest"]["properties"]
    assert "/api/slots" in schema["paths"] and "/api/practitioners" in schema["paths"]
    assert "/api/booking/{booking_id}/calendar.ics" in schema["paths"]


@saga
def test_a_slot_of_another_day_than_the_visit_date_is_400(patient_api, consult, doctor):
    """The optional `visit_date` is the day the client showed: a slot of another day is
    refused (400), the chosen day's slot is booked; a walk-in's visit_date must be today."""
    chosen = clinic_today() + timedelta(days=2)
    other = slot(doctor, day=chosen + timedelta(days=1))
    answer = patient_api.post(
        BOOKINGS,
        booking_body(consult, slot_id=other.pk, visit_date=chosen.isoformat()),
        format="json",
    )
    assert answer.status_code == 400 and "slot_id" in answer.json()
    assert "not on the chosen day" in answer.json()["slot_id"][0]
    for bad in ("2026-02-30", "x"):
        refused = patient_api.post(
            BOOKINGS, booking_body(consult, slot_id=other.pk, visit_date=bad), format="json"
        )
        assert refused.status_code == 400 and "visit_date" in refused.json()
    assert not Booking.objects.exists()
    right = slot(doctor, day=chosen)
    booked = patient_api.post(
        BOOKINGS,
        booking_body(consult, slot_id=right.pk, visit_date=chosen.isoformat()),
        format="json",
    )
    assert booked.status_code == 201 and booked.json()["visit_date"] == chosen.isoformat()


@saga
def test_a_service_longer_than_the_slot_is_neither_offered_nor_booked(patient_api, api):
    """MRI takes 45 minutes: a 30-minute slot is not offered for it, and is a 400."""
    mri = appointment_service("6500.00", name="Test MRI")
    MedicalService.objects.filter(pk=mri.pk).update(duration_minutes=45)
    xray = appointment_service("400.00", name="Test X-ray")
    radiologist = practitioner(mri, xray, name="Dr. Test Nair", specialty="Radiologist")
    day = clinic_today() + timedelta(days=1)
    short = slot(radiologist, day=day, at=(9, 0), minutes=30)
    long = slot(radiologist, day=day, at=(14, 0), minutes=45)

    def offered(*services):
        ids = ",".join(str(s.pk) for s in services)
        return [s["id"] for s in api.get(f"/api/slots?date={day}&service_ids={ids}").json()]

    assert offered(mri) == [long.pk]
    assert offered(mri, xray) == [long.pk]
    assert offered(xray) == [short.pk, long.pk]
    refused = patient_api.post(BOOKINGS, booking_body(mri, slot_id=short.pk), format="json")
    assert refused.status_code == 400
    assert refused.json()["slot_id"] == [
        f"Slot {short.pk} lasts 30 minutes; the chosen services need 45: choose a longer slot."
    ]
    assert not Booking.objects.exists() and Slot.objects.get(pk=short.pk).booked == 0
    assert (
        patient_api.post(BOOKINGS, booking_body(mri, slot_id=long.pk), format="json").status_code
        == 201
    )


def test_the_seeded_hours_have_slots_long_enough_for_the_seeded_services(db):
    """Every seeded service that needs an appointment has a practitioner with a schedule
    whose slots are at least as long as the service (the migrations' data)."""
    needing = MedicalService.objects.filter(requires_appointment=True, active=True)
    assert needing.filter(name="MRI Scan", duration_minutes=45).exists()
    for service in needing.filter(practitioners__isnull=False).distinct():
        longest = WeeklySchedule.objects.filter(practitioner__services=service).aggregate(
            Max("slot_minutes")
        )["slot_minutes__max"]
        assert longest is not None and longest >= service.duration_minutes, service.name
