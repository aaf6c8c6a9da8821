"""Issue 25: the catalogue's text in Hindi (django-modeltranslation): services' names
and descriptions and practitioners' specialties, shown on Hindi pages, in the API with
`Accept-Language: hi` (same field names), in a Hindi patient's e-mails and SMS and in
the .ics, which follows the patient's language. A booked item keeps its names (both
languages) as they were when it was booked."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation
from icalendar import Calendar
from rest_framework.test import APIClient

from bookings.models import Booking, BookingItem, MedicalService
from bookings.services import clinic_today
from notifications import sender
from scheduling.models import Practitioner
from tests.support.bodies import booking_body
from tests.support.factories import PatientProfileFactory
from tests.support.pages_helpers import give_profile
from tests.support.scheduling import appointment_service, practitioner, slot

saga = pytest.mark.usefixtures("commits")

MRI = {"name": "Test MRI", "description": "MRI of one region with report."}
MRI_HI = {"name": "टेस्ट एमआरआई", "description": "रिपोर्ट के साथ एक अंग का एमआरआई।"}


@pytest.fixture
def mri(db):
    return appointment_service(
        "2500.00",
        name=MRI["name"],
        description=MRI["description"],
        name_hi=MRI_HI["name"],
        description_hi=MRI_HI["description"],
    )


@pytest.fixture
def radiologist(mri):
    return practitioner(
        mri, name="Dr. Test Nair", specialty="Radiologist", specialty_hi="रेडियोलॉजिस्ट"
    )


def _listed(answer, name_en: str) -> dict:
    return next(
        s for s in answer.json() if s["id"] == MedicalService.objects.get(name_en=name_en).pk
    )


# --- The API ----------------------------------------------------------------------


def test_the_api_lists_services_in_hindi_when_asked_with_the_same_fields(api, mri):
    english = _listed(api.get("/api/services"), MRI["name"])
    hindi = _listed(api.get("/api/services", HTTP_ACCEPT_LANGUAGE="hi"), MRI["name"])
    assert (english["name"], english["description"]) == (MRI["name"], MRI["description"])
    assert (hindi["name"], hindi["description"]) == (MRI_HI["name"], MRI_HI["description"])
    assert set(hindi) == set(english)  # API.md's fields, none renamed or added
    assert {k: v for k, v in hindi.items() if k not in ("name", "description")} == {
        k: v for k, v in english.items() if k not in ("name", "description")
    }


def test_a_service_without_hindi_is_listed_in_english_on_a_hindi_request(api, service_priced):
    service_priced("350.00", name="Test CBC", description="Blood cells.")
    hindi = _listed(api.get("/api/services", HTTP_ACCEPT_LANGUAGE="hi"), "Test CBC")
    assert (hindi["name"], hindi["description"]) == ("Test CBC", "Blood cells.")


def test_the_api_gives_the_specialty_in_hindi_for_practitioners_and_slots(api, radiologist):
    tomorrow = clinic_today() + timedelta(days=1)
    slot(radiologist, day=tomorrow)
    listed = api.get("/api/practitioners", HTTP_ACCEPT_LANGUAGE="hi").json()
    assert {"id": radiologist.pk, "specialty": "रेडियोलॉजिस्ट"}.items() <= next(
        p for p in listed if p["id"] == radiologist.pk
    ).items()
    slots = api.get(f"/api/slots?date={tomorrow}", HTTP_ACCEPT_LANGUAGE="hi").json()
    assert slots[0]["practitioner"] == {
        "id": radiologist.pk,
        "name": "Dr. Test Nair",
        "specialty": "रेडियोलॉजिस्ट",
    }
    english = api.get(f"/api/slots?date={tomorrow}").json()
    assert english[0]["practitioner"]["specialty"] == "Radiologist"


@saga
def test_a_booked_item_keeps_its_hindi_name_as_booked(patient_api, mri, radiologist):
    """The booking answer names its services in the asker's language, from the booking's
    own copy: renaming the service later changes new bookings only."""
    body = booking_body(mri, slot_id=slot(radiologist).pk)
    answer = patient_api.post("/api/booking", body, format="json", HTTP_ACCEPT_LANGUAGE="hi")
    assert answer.status_code == 201, answer.json()
    assert [s["name"] for s in answer.json()["services"]] == [MRI_HI["name"]]
    booking_id = answer.json()["id"]

    MedicalService.objects.filter(pk=mri.pk).update(name_hi="नया नाम", name_en="New name")
    status = f"/api/booking/{booking_id}/status"
    assert [
        s["name"] for s in patient_api.get(status, HTTP_ACCEPT_LANGUAGE="hi").json()["services"]
    ] == [MRI_HI["name"]]
    assert [s["name"] for s in patient_api.get(status).json()["services"]] == [MRI["name"]]
    # Booked from a Hindi request, the item's own `name` column is still the English
    # one: billing reads it through the booking (receipts), as before.
    assert list(BookingItem.objects.raw_values("name").filter(booking_id=booking_id)) == [
        {"name": MRI["name"]}
    ]


# --- The pages ----------------------------------------------------------------------


@pytest.fixture
def hindi(client):
    client.cookies["django_language"] = "hi"
    return client


def test_the_hindi_home_page_shows_the_hindi_catalogue(hindi, client, mri):
    page = hindi.get("/").content.decode()
    assert MRI_HI["name"] in page and MRI_HI["description"] in page
    assert MRI["name"] not in page and MRI["description"] not in page
    hindi.cookies["django_language"] = "en"
    english = hindi.get("/").content.decode()
    assert MRI["name"] in english and MRI_HI["name"] not in english


@saga
def test_the_hindi_booking_page_shows_the_item_and_specialty_in_hindi(
    hindi, user, book, mri, radiologist
):
    give_profile(user)
    booking = book(services=[mri], slot=slot(radiologist))
    assert booking.status == "confirmed"
    hindi.force_login(user)
    page = hindi.get(f"/bookings/{booking.pk}/").content.decode()
    assert MRI_HI["name"] in page and "रेडियोलॉजिस्ट" in page
    assert MRI["name"] not in page and "Radiologist" not in page
    listing = hindi.get("/bookings/").content.decode()
    assert MRI_HI["name"] in listing


# --- E-mails, SMS and the calendar file -------------------------------------------------


@saga
@pytest.mark.parametrize(
    "language, name, specialty, summary_word, code_words",
    [
        ("hi", MRI_HI["name"], "रेडियोलॉजिस्ट", "के साथ", "पुष्टि कोड"),
        ("en", MRI["name"], "Radiologist", " with ", "Confirmation code"),
    ],
)
def test_the_patients_messages_and_their_ics_speak_their_language(
    user, book, mri, radiologist, capsys, language, name, specialty, summary_word, code_words
):
    PatientProfileFactory(user=user, phone="+919812345678", language=language)
    booking = book(services=[mri], slot=slot(radiologist))
    capsys.readouterr()
    assert sender.send_due().sent == 2  # the confirmation, by mail and SMS

    [message] = mail.outbox
    assert name in message.body and f"({specialty})" in message.body
    assert name in message.alternatives[0][0]
    sms_text = capsys.readouterr().out
    assert name in sms_text and booking.confirmation_code in sms_text

    [(filename, ics, _)] = message.attachments
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert filename == "appointment.ics"
    assert name in str(event["summary"]) and summary_word in str(event["summary"])
    assert f"({specialty})" in str(event["description"])
    assert code_words in str(event["description"])


@saga
def test_the_ics_download_follows_the_patients_language_not_the_pages(
    client, user, patient_api, mri, radiologist
):
    profile = PatientProfileFactory(user=user, language="hi")
    body = booking_body(mri, slot_id=slot(radiologist).pk)
    booking_id = patient_api.post("/api/booking", body, format="json").json()["id"]
    owner = APIClient()  # text/calendar: not the JSON-checking client
    owner.force_authenticate(user)
    client.force_login(user)

    def event(path: str, by=owner, **headers) -> tuple[str, str]:
        answer = by.get(path, **headers)
        assert answer.status_code == 200
        found = Calendar.from_ical(answer.content).walk("VEVENT")[0]
        return str(found["summary"]), str(found["description"])

    api_ics, page_ics = (
        f"/api/booking/{booking_id}/calendar.ics",
        f"/bookings/{booking_id}/calendar.ics",
    )
    summary, description = event(api_ics)  # an English request: the patient reads Hindi
    assert summary == f"{MRI_HI['name']}, Dr. Test Nair के साथ"
    assert description.startswith("Asha Verma के लिए, Dr. Test Nair (रेडियोलॉजिस्ट) के साथ।")
    assert "पुष्टि कोड:" in description
    client.cookies["django_language"] = "en"  # an English page: the same Hindi file
    assert event(page_ics, by=client) == (summary, description)

    profile.language = "en"
    profile.save()
    summary, description = event(api_ics, HTTP_ACCEPT_LANGUAGE="hi")
    assert summary == f"{MRI['name']} with Dr. Test Nair"
    assert description.startswith("Dr. Test Nair (Radiologist) for Asha Verma. Confirmation code:")


# --- The migrations' data step -----------------------------------------------------------


@pytest.mark.django_db
def test_the_migration_copies_the_english_and_gives_the_seeded_catalogue_its_hindi():
    """What 0021 does to rows that existed before it: run on the models as they stood then."""
    state = MigrationExecutor(connection).loader.project_state(
        ("bookings", "0021_catalogue_text_in_hindi")
    )
    Service, Item = (
        state.apps.get_model("bookings", "MedicalService"),
        state.apps.get_model("bookings", "BookingItem"),
    )
    # The seeded row when the test database has it (a flushed one has not).
    seeded, _ = Service.objects.update_or_create(
        name="MRI Scan", defaults={"description": "MRI of one region.", "price": 1}
    )
    other = Service.objects.create(name="Test renamed", description="Own text.", price=1)
    user = PatientProfileFactory().user
    booking = Booking.objects.create(
        user=user,
        patient_name="Asha",
        gender="female",
        date_of_birth="1990-01-01",
        clinic_day=clinic_today(),
        visit_date=clinic_today(),
    )
    as_booked = Item.objects.create(booking_id=booking.pk, service=seeded, name="MRI Scan", price=1)
    renamed_since = Item.objects.create(
        booking_id=booking.pk, service=other, name="Old name", price=1
    )
    Service.objects.filter(pk__in=[seeded.pk, other.pk]).update(
        name_en=None, name_hi=None, description_en=None, description_hi=None
    )
    Item.objects.filter(pk__in=[as_booked.pk, renamed_since.pk]).update(name_en=None, name_hi=None)

    import_module("bookings.migrations.0021_catalogue_text_in_hindi").copy_and_seed(
        state.apps, None
    )

    seeded.refresh_from_db()
    other.refresh_from_db()
    assert (seeded.name_en, seeded.name_hi) == ("MRI Scan", "एमआरआई स्कैन")
    assert seeded.description_en == "MRI of one region."
    assert seeded.description_hi == "रिपोर्ट के साथ शरीर के एक हिस्से का एमआरआई।"
    assert (other.name_en, other.name_hi, other.description_en) == (
        "Test renamed",
        None,
        "Own text.",
    )
    as_booked.refresh_from_db()
    renamed_since.refresh_from_db()
    assert (as_booked.name_en, as_booked.name_hi) == ("MRI Scan", "एमआरआई स्कैन")
    assert (renamed_since.name_en, renamed_since.name_hi) == ("Old name", None)


@pytest.mark.django_db
def test_the_specialty_migration_copies_the_english_and_seeds_the_hindi():
    state = MigrationExecutor(connection).loader.project_state(
        ("scheduling", "0008_specialty_in_hindi")
    )
    Doctor = state.apps.get_model("scheduling", "Practitioner")
    cardiologist = Doctor.objects.create(
        name="Dr. Test Iyer", specialty="Cardiologist", registration_number="TEST-MIG-1"
    )
    dentist = Doctor.objects.create(
        name="Dr. Test Das", specialty="Dentist", registration_number="TEST-MIG-2"
    )
    Doctor.objects.filter(pk__in=[cardiologist.pk, dentist.pk]).update(
        specialty_en=None, specialty_hi=None
    )

    import_module("scheduling.migrations.0008_specialty_in_hindi").copy_and_seed(state.apps, None)

    found = {
        d.pk: (d.specialty_en, d.specialty_hi)
        for d in Doctor.objects.filter(pk__in=[cardiologist.pk, dentist.pk])
    }
    assert found == {
        cardiologist.pk: ("Cardiologist", "हृदय रोग विशेषज्ञ"),
        dentist.pk: ("Dentist", None),
    }


def test_the_seeded_catalogue_is_in_hindi_too():
    """Every service and specialty the migrations seed has its Hindi (make run's catalogue)."""
    services = import_module("bookings.migrations.0002_seed_services").SERVICES
    hindi = import_module("bookings.migrations.0021_catalogue_text_in_hindi").SEEDED_IN_HINDI
    assert set(hindi) == {name for name, _, _ in services}
    assert all(name and description for name, description in hindi.values())
    doctors = import_module("scheduling.migrations.0002_seed_practitioners").PRACTITIONERS
    specialties = import_module("scheduling.migrations.0008_specialty_in_hindi").SEEDED_IN_HINDI
    assert set(specialties) == {p[1] for p in doctors}
    with translation.override("hi"):
        assert Practitioner._meta.get_field("specialty_hi").verbose_name == "specialty [hi]"


# --- The admin: a practitioner's specialty in both languages --------------------------------


@pytest.mark.django_db
def test_a_manager_gives_a_practitioner_a_hindi_specialty_in_the_admin(client):
    from django.urls import reverse

    from bookings.models import AuditLog
    from tests.support.admin_helpers import staff_member

    client.force_login(staff_member("Clinic manager", username="dr_rao"))
    add = reverse("admin:scheduling_practitioner_add")
    page = client.get(add).text
    assert 'name="specialty_en"' in page and 'name="specialty_hi"' in page
    no_schedules = {
        f"schedules-{key}": value
        for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MAX_NUM_FORMS", "1000"))
    }
    form = {
        "name": "Dr. Test Kapoor",
        "specialty_en": "Dermatologist",
        "specialty_hi": "त्वचा रोग विशेषज्ञ",
        "registration_number": "TEST-DERM-1",
        "active": "on",
        **no_schedules,
    }
    assert client.post(add, {**form, "specialty_en": ""}).status_code == 200  # English required
    response = client.post(add, form)
    assert response.status_code == 302
    doctor = Practitioner.objects.get(registration_number="TEST-DERM-1")
    with translation.override("hi"):
        assert doctor.specialty == "त्वचा रोग विशेषज्ञ"
    assert doctor.specialty == "Dermatologist"
    entry = AuditLog.objects.get(action="practitioner.added", object_id=str(doctor.pk))
    assert entry.after["specialty_hi"] == "त्वचा रोग विशेषज्ञ"
