"""Every patient page in Hindi: no English left in the template layer.

Visible text nodes (and the title) are read with the data removed (service names,
the patient's name, codes): any ASCII word left that is not on a short allow-list of
abbreviations is an untranslated string, and fails the test."""

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.utils import translation

from bookings.models import Booking, MedicalService
from portal.presentation import timeline
from scheduling.models import Practitioner
from tests.support.factories import UserFactory
from tests.support.razorpay import razorpay  # noqa: F401

pytestmark = pytest.mark.usefixtures("commits")

# Abbreviations Hindi writes in Latin letters too, and "English" named in itself (the
# language switch and the e-mail language choice).
ALLOWED = {"IST", "SMS", "UPI", "English"}
WORD = re.compile(r"[A-Za-z]{2,}")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def english_left(html: str, data: list[str]) -> list[str]:
    parser = _Text()
    parser.feed(html)
    text = " ".join(parser.parts)
    # The clinic's own data (services, practitioners) is not the template layer's.
    data = [*data, *catalogue()]
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    return [w for w in WORD.findall(text) if w not in ALLOWED]


def catalogue() -> list[str]:
    values = []
    for name, description in MedicalService.objects.values_list("name", "description"):
        values += [name, description]
    for name, specialty in Practitioner.objects.values_list("name", "specialty"):
        values += [name, specialty]
    return [v for v in values if v]


@pytest.fixture
def hindi(client):
    client.cookies["django_language"] = "hi"
    return client


def _data(*bookings: Booking, user=None) -> list[str]:
    values = []
    for booking in bookings:
        values += [booking.patient_name, booking.confirmation_code or ""]
        values += [item.name for item in booking.items.all()]
        values += [item.service.description for item in booking.items.all()]
    if user is not None:
        values.append(user.get_username())
    values.append(settings.CLINIC_ADDRESS)  # the clinic's address is data, not a word
    return [v for v in values if v]


def test_public_pages_in_hindi(hindi, service_priced):
    service = service_priced("700.00", description="Blood count")
    for path in ("/", "/accounts/signup/", "/accounts/login/"):
        page = hindi.get(path).content.decode()
        assert 'lang="hi-IN"' in page
        assert english_left(page, [service.name, service.description]) == [], path


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        "/accounts/reset/done/",
        "/accounts/reset/MQ/not-a-token/",  # a link that no longer works
        "/a-page-that-does-not-exist/",
    ],
)
def test_account_and_error_pages_in_hindi(hindi, path):
    page = hindi.get(path).content.decode()
    assert 'lang="hi-IN"' in page
    assert english_left(page, []) == [], path


def test_the_password_change_pages_in_hindi(hindi, user):
    hindi.force_login(user)
    for path in ("/accounts/password_change/", "/accounts/password_change/done/"):
        page = hindi.get(path).content.decode()
        assert english_left(page, [user.get_username()]) == [], path


def test_sign_up_errors_in_hindi(hindi):
    page = hindi.post("/accounts/signup/", {"username": "x"}).content.decode()
    assert "कृपया नीचे दी गई" in page
    # Django's own field messages ("This field is required.") come from Django's Hindi.
    assert english_left(page, []) == []


@pytest.mark.parametrize(
    "field, value",
    [
        ("date_of_birth", "2999-01-01"),  # in the future
        ("date_of_birth", "1800-01-01"),  # more than 130 years ago
        ("phone", "12345"),
        ("phone", "+14155550100"),  # not an Indian mobile
    ],
)
def test_the_shared_validators_speak_hindi(hindi, field, value):
    # bookings/validators.py serves every door; its messages are translated too.
    page = hindi.post("/accounts/signup/", {"username": "x", field: value}).content.decode()
    assert english_left(page, [value]) == [], (field, value)


def test_booking_pages_in_hindi(hindi, user, book, service_priced):
    confirmed = book(prices=("700.00", "500.00"))
    failed = book(prices=("1500.00",), payment_token="tok_chargeDeclined")
    hindi.force_login(user)
    data = _data(confirmed, failed, user=user)
    service = confirmed.items.first().service
    form = {
        "services": [service.pk],
        "patient_name": "Asha Verma",
        "gender": "female",
        "date_of_birth": "1990-01-02",
    }
    pages = {
        "book": hindi.get("/book/"),
        "update total": hindi.post("/book/", {**form, "update_total": "1"}),
        "my bookings": hindi.get("/bookings/"),
        "confirmed": hindi.get(f"/bookings/{confirmed.pk}/"),
        "failed": hindi.get(f"/bookings/{failed.pk}/"),
    }
    hindi.post("/book/", form)
    pages["review"] = hindi.get("/book/review/")
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert english_left(response.content.decode(), data) == [], name


def test_the_hindi_timeline_uses_hindi_month_names_and_words(user, book):
    booking = book(prices=("1500.00",), payment_token="tok_chargeDeclined")
    with translation.override("hi"):
        titles = [entry.title for entry in timeline(booking)]
    assert titles[0] == "आपने माँगा"
    assert "भुगतान नहीं हो सका" in titles
    assert titles[-1] == "आगे क्या होगा"


def test_the_language_switch_sets_the_language_without_javascript(client):
    response = client.post("/i18n/setlang/", {"language": "hi", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/").content.decode()
    assert "सेवाएँ और कीमतें" in page
    assert 'action="/i18n/setlang/"' in page
    assert 'value="en"' in page  # the way back to English


def test_an_english_page_stays_english(client):
    other = UserFactory()
    client.force_login(other)
    page = client.get("/book/").content.decode()
    assert "Choose services" in page and 'lang="en-IN"' in page


def test_paying_online_in_hindi(hindi, user, service_priced, razorpay):  # noqa: F811
    from datetime import timedelta

    from django.utils import timezone

    from payments.models import Payment
    from payments.tasks import reconcile_online_payments
    from tests.support.pages_helpers import details, expected_total_from, request_key_from

    service = service_priced("400.00", name="Online test")
    hindi.force_login(user)
    hindi.post("/book/", details(service))
    review = hindi.get("/book/review/")
    assert english_left(review.content.decode(), ["Asha Verma", *_data(user=user)]) == []
    hindi.post(
        "/book/review/",
        {"request_key": request_key_from(review), "expected_total": expected_total_from(review)},
    )
    booking = Booking.objects.get()
    waiting = hindi.get(f"/bookings/{booking.pk}/").content.decode()
    assert "आपके भुगतान की प्रतीक्षा है" in waiting
    assert english_left(waiting, _data(booking, user=user)) == []
    refused = hindi.post(f"/bookings/{booking.pk}/payment/return/", {"razorpay_order_id": "x"})
    assert refused.status_code == 400
    assert english_left(refused.content.decode(), _data(user=user)) == []
    Payment.objects.filter(booking=booking).update(expires_at=timezone.now() - timedelta(seconds=1))
    reconcile_online_payments()
    expired = hindi.get(f"/bookings/{booking.pk}/").content.decode()
    assert "फिर से कोशिश करें" in expired
    assert english_left(expired, _data(booking, user=user)) == []
