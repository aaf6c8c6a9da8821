"""A patient's phone (E.164, Indian mobile) and language: registration (API and page),
GET/PATCH /api/me, and SMS through the MSG91 backend against a mocked HTTP boundary."""

import json

import pytest
import responses
from django.core import mail

from bookings.models import PatientProfile
from notifications import sender
from notifications.models import Channel, Notification, Status
from payments.models import Payment, Refund
from tests.test_api_accounts import REGISTER, registration

pytestmark = pytest.mark.django_db


def register(api, **changes):
    response = api.post(REGISTER, registration(**changes), format="json")
    assert response.status_code == 201, response.json()
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return response.json()


def test_registration_takes_a_national_mobile_number_and_stores_it_in_e164(api):
    register(api, phone="098123 45678", language="hi")

    me = api.get("/api/me").json()
    assert me["phone"] == "+919812345678" and me["language"] == "hi"
    assert set(me) == {
        "id",
        "username",
        "full_name",
        "email",
        "phone",
        "gender",
        "date_of_birth",
        "language",
    }


def test_without_a_phone_the_patient_has_none_and_english(api):
    register(api)

    me = api.get("/api/me").json()
    assert (me["phone"], me["language"]) == (None, "en")


@pytest.mark.parametrize(
    "phone",
    ["+14155550123", "+911123456789", "12345", "not a number"],
    ids=["us-number", "delhi-landline", "too-short", "letters"],
)
def test_a_number_that_is_no_indian_mobile_is_a_400_on_the_field(api, phone):
    response = api.post(REGISTER, registration(phone=phone), format="json")

    assert response.status_code == 400
    assert "phone" in response.json()


def test_patch_me_changes_any_subset_and_rejects_bad_values(api):
    register(api)

    response = api.patch("/api/me", {"phone": "+91 98123 45678", "language": "hi"}, format="json")
    assert response.status_code == 200
    assert (response.json()["phone"], response.json()["language"]) == ("+919812345678", "hi")
    assert response.json()["full_name"] == "Meera Nair"  # untouched

    assert api.patch("/api/me", {"language": "fr"}, format="json").status_code == 400
    assert api.patch("/api/me", {"phone": "+14155550123"}, format="json").status_code == 400
    assert api.patch("/api/me", {"phone": ""}, format="json").json()["phone"] is None
    api.credentials()
    assert api.get("/api/me").status_code == 401


def test_the_signup_page_takes_phone_and_language(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "ravi",
            "email": "ravi@example.in",
            "full_name": "Ravi Kumar",
            "gender": "male",
            "date_of_birth": "1988-05-01",
            "phone": "9812345678",
            "language": "hi",
            "password": "saffron-lantern-42",
            "password_again": "saffron-lantern-42",
        },
    )

    assert response.status_code == 302
    profile = PatientProfile.objects.get(user__username="ravi")
    assert (str(profile.phone), profile.language) == ("+919812345678", "hi")


@pytest.mark.usefixtures("commits")
@responses.activate
def test_sms_goes_through_msg91_and_its_request_id_is_recorded(book, user, settings):
    settings.SMS_BACKEND = "notifications.sms.Msg91Backend"
    settings.MSG91_URL = "https://msg91.test/api/v2/sendsms"
    settings.MSG91_AUTH_KEY = "test-auth-key"
    responses.post(settings.MSG91_URL, json={"type": "success", "message": "req-123"})
    PatientProfile.objects.create(
        user=user,
        full_name="Asha Verma",
        gender="female",
        date_of_birth="1990-01-01",
        phone="+919812345678",
    )
    booking = book()

    sender.send_due()

    sms = Notification.objects.get(booking=booking, channel=Channel.SMS)
    assert (sms.status, sms.provider_message_id) == (Status.SENT, "req-123")
    call = responses.calls[0].request
    assert call.headers["authkey"] == "test-auth-key"
    sent = json.loads(call.body)["sms"][0]
    assert sent["to"] == ["9812345678"] and booking.confirmation_code in sent["message"]
    assert len(mail.outbox) == 1  # and the e-mail


@pytest.mark.usefixtures("commits")
@responses.activate
def test_an_msg91_error_is_retried_later_with_the_reason_kept(book, user, settings):
    settings.SMS_BACKEND = "notifications.sms.Msg91Backend"
    settings.MSG91_URL = "https://msg91.test/api/v2/sendsms"
    responses.post(
        settings.MSG91_URL, status=401, json={"type": "error", "message": "Invalid authkey"}
    )
    PatientProfile.objects.create(
        user=user,
        full_name="Asha Verma",
        gender="female",
        date_of_birth="1990-01-01",
        phone="+919812345678",
    )
    booking = book()

    assert sender.send_due().retried == 1
    sms = Notification.objects.get(booking=booking, channel=Channel.SMS)
    assert sms.status == Status.PENDING and "Invalid authkey" in sms.last_error


@pytest.mark.usefixtures("commits")
@responses.activate
@pytest.mark.parametrize(
    ("language", "method", "said"),
    [
        ("en", "card", "₹500.00 was refunded to your card."),
        ("hi", "card", "₹500.00 आपके कार्ड पर लौटा दिए गए।"),
        ("en", "online", "₹500.00 was refunded to the account you paid from."),
        ("hi", "online", "₹500.00 उसी खाते में लौटा दिए गए जिससे आपने भुगतान किया था।"),
        ("en", "cash", "₹500.00 was given back in cash at the desk."),
        ("hi", "cash", "₹500.00 डेस्क पर नकद लौटाए गए।"),
        ("en", "cash waiting", "Collect ₹500.00 in cash at the clinic's desk."),
        ("hi", "cash waiting", "₹500.00 क्लिनिक के डेस्क से नकद ले लें।"),
        ("en", "pos", "₹500.00 was refunded to your card."),
        ("en", "pos waiting", "Come to the clinic's desk to have ₹500.00 refunded to your card."),
        ("hi", "pos waiting", "₹500.00 अपने कार्ड पर वापस पाने के लिए क्लिनिक के डेस्क पर आएँ।"),
    ],
)
def test_the_cancellation_sms_says_what_came_back(book, user, settings, language, method, said):
    """Issue 25: the cancellation SMS said only "is cancelled", not the refund. The SMS,
    the e-mail and the booking's page say it in one sentence (bookings.refund_words); a
    counter card's refund waiting at the desk said "on its way back to your card"."""
    from portal.flows import cancel_booking

    settings.SMS_BACKEND = "notifications.sms.Msg91Backend"
    settings.MSG91_URL = "https://msg91.test/api/v2/sendsms"
    responses.post(settings.MSG91_URL, json={"type": "success", "message": "req-9"})
    PatientProfile.objects.create(
        user=user,
        full_name="Asha Verma",
        gender="female",
        date_of_birth="1990-01-01",
        phone="+919812345678",
        language=language,
    )
    booking = book()
    sender.send_due()
    cancel_booking(booking=booking, actor="reception", by_staff=True, reason="doctor away")
    # Only the words depend on how it was paid (an online refund's path has tests of its own).
    Payment.objects.filter(booking=booking).update(method=method.removesuffix(" waiting"))
    if method.endswith(" waiting"):  # the patient has not come for it yet
        Refund.objects.filter(payment__booking=booking).update(status="pending", refunded_at=None)
    responses.calls.reset()

    sender.send_due()

    sms = Notification.objects.get(booking=booking, kind="cancellation", channel=Channel.SMS)
    assert sms.status == Status.SENT
    assert json.loads(responses.calls[0].request.body)["sms"][0]["message"].endswith(
        f"। {said}" if language == "hi" else f"cancelled. {said}"
    )
    assert any(said in message.body for message in mail.outbox)  # the e-mail says the same
