"""Booking in pages: details -> review (R1 preview) -> payment -> result (PRG throughout)."""

import uuid
from decimal import Decimal

import pytest

from bookings.models import Booking, BookingStatus
from bookings.services import clinic_today
from payments.models import Payment
from tests.support.pages_helpers import (
    DECLINED,
    INSUFFICIENT,
    VISA,
    details,
    expected_total_from,
    give_profile,
    request_key_from,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(client, user):
    give_profile(user, gender="female", full_name="Asha Verma")
    client.force_login(user)
    return user


def test_booking_pages_need_a_login(client):
    for url in ("/book/", "/book/review/", "/bookings/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/?next=")


def test_details_are_prefilled_from_the_profile(client, patient, service_priced):
    service_priced("400.00", name="Blood test")
    response = client.get("/book/")
    form = response.context["form"]
    assert form["patient_name"].value() == "Asha Verma"
    assert form["gender"].value() == "female"
    page = response.content.decode()
    assert "Blood test" in page and "₹400.00" in page
    assert 'type="checkbox"' in page


def test_details_without_a_service_show_the_error_next_to_services(client, patient):
    response = client.post("/book/", details())
    assert response.status_code == 200
    assert response.context["form"].errors["services"] == ["Choose at least one service."]
    assert 'id="id_services_error"' in response.content.decode()


def test_details_with_bad_fields_keep_what_was_typed(client, patient, service_priced):
    service = service_priced("400.00")
    response = client.post(
        "/book/", details(service, patient_name="", gender="robot", date_of_birth="2999-02-02")
    )
    errors = response.context["form"].errors
    assert set(errors) == {"patient_name", "gender", "date_of_birth"}
    page = response.content.decode()
    assert 'value="2999-02-02"' in page
    assert f'value="{service.pk}"' in page and "checked" in page


def test_an_inactive_service_cannot_be_chosen(client, patient, service_priced):
    service = service_priced("400.00", active=False)
    response = client.post("/book/", details(service))
    assert "services" in response.context["form"].errors


def test_valid_details_redirect_to_review(client, patient, service_priced):
    service = service_priced("400.00")
    response = client.post("/book/", details(service))
    assert response.status_code == 302 and response.url == "/book/review/"


def test_review_without_details_sends_back_to_choose_services(client, patient):
    response = client.get("/book/review/")
    assert response.url == "/book/"


def test_review_shows_base_price_and_not_eligible_below_threshold(client, patient, service_priced):
    a, b = service_priced("400.00"), service_priced("600.00")
    client.post("/book/", details(a, b, gender="male"))
    response = client.get("/book/review/")
    quote = response.context["quote"]
    assert quote.base_price == Decimal("1000.00")
    assert quote.eligible is False
    page = response.content.decode()
    assert "₹1,000.00" in page and "Not eligible for a discount" in page
    assert "Confirm &amp; Pay" in page


def test_review_shows_expected_discount_above_threshold(client, patient, service_priced):
    service = service_priced("1000.01")
    client.post("/book/", details(service, gender="male"))
    response = client.get("/book/review/")
    quote = response.context["quote"]
    assert quote.eligible is True
    assert quote.expected_discount == Decimal("120.00")  # 12% of 1000.01, half-up
    assert quote.expected_final == Decimal("880.01")
    page = response.content.decode()
    assert "subject to today's remaining discounts" in page
    assert "the base price is above ₹1,000.00" in page


def test_review_shows_birthday_eligibility(client, patient, service_priced):
    service = service_priced("200.00")
    today = clinic_today()
    birthday = today.replace(year=today.year - 30) if (today.month, today.day) != (2, 29) else None
    if birthday is None:
        pytest.skip("29 February: covered by the R1 tests")
    client.post("/book/", details(service, gender="female", date_of_birth=birthday.isoformat()))
    quote = client.get("/book/review/").context["quote"]
    assert quote.eligible and "birthday" in quote.eligibility_reason
    assert quote.expected_discount == Decimal("24.00")


def test_review_carries_a_fresh_request_key_each_time(client, patient, service_priced):
    client.post("/book/", details(service_priced("400.00")))
    first = request_key_from(client.get("/book/review/"))
    second = request_key_from(client.get("/book/review/"))
    assert uuid.UUID(first) and first != second


def test_going_back_to_details_keeps_the_draft(client, patient, service_priced):
    service = service_priced("400.00")
    client.post("/book/", details(service, patient_name="Ravi Verma", gender="male"))
    form = client.get("/book/").context["form"]
    assert form["patient_name"].value() == "Ravi Verma"
    assert form["services"].value() == [str(service.pk)]


def test_a_service_withdrawn_after_details_sends_back_with_the_error(
    client, patient, service_priced
):
    service = service_priced("400.00")
    client.post("/book/", details(service))
    service.active = False
    service.save()
    response = client.get("/book/review/", follow=True)
    assert response.redirect_chain[-1][0] == "/book/"
    assert "services" in response.context["form"].errors


@pytest.mark.parametrize("card", ["", "1234 5678 9012 3456", "4242-4242"])
def test_an_unknown_card_is_a_field_error_and_books_nothing(client, patient, service_priced, card):
    client.post("/book/", details(service_priced("400.00")))
    review = client.get("/book/review/")
    key = request_key_from(review)
    response = client.post(
        "/book/review/",
        {"card_number": card, "request_key": key, "expected_total": expected_total_from(review)},
    )
    assert response.status_code == 200
    assert "card_number" in response.context["form"].errors
    assert 'id="id_card_number_error"' in response.content.decode()
    assert request_key_from(response) == key  # the same form, still one key
    assert Booking.objects.count() == 0


def test_a_missing_request_key_is_refused(client, patient, service_priced):
    client.post("/book/", details(service_priced("400.00")))
    response = client.post("/book/review/", {"card_number": VISA, "request_key": "x"})
    assert "request_key" in response.context["form"].errors
    assert "reload the page and pay again" in response.content.decode()
    assert Booking.objects.count() == 0


@pytest.mark.usefixtures("commits")
class TestPaying:
    def pay(self, client, card, *services):
        client.post("/book/", details(*services))
        review = client.get("/book/review/")
        key = request_key_from(review)
        sent = {
            "card_number": card,
            "request_key": key,
            "expected_total": expected_total_from(review),
        }
        return client.post("/book/review/", sent), key

    def test_paying_with_the_good_card_confirms_and_redirects_to_the_result(
        self, client, patient, service_priced
    ):
        response, _ = self.pay(client, VISA, service_priced("400.00"))
        booking = Booking.objects.get()
        assert response.status_code == 302
        assert response.url == f"/bookings/{booking.pk}/"
        assert booking.status == BookingStatus.CONFIRMED
        assert booking.payment_token == "tok_visa"
        assert booking.patient_name == "Asha Verma"
        # The draft is done with: Back after paying lands on the booking just made.
        assert client.get("/book/review/").url == f"/bookings/{booking.pk}/"

    @pytest.mark.parametrize(
        ("card", "token", "reason"),
        [
            (DECLINED, "tok_chargeDeclined", "card_declined"),
            (INSUFFICIENT, "tok_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ],
    )
    def test_the_declining_cards_map_to_their_tokens_and_fail(
        self, client, patient, service_priced, card, token, reason
    ):
        self.pay(client, card, service_priced("400.00"))
        booking = Booking.objects.get()
        assert booking.payment_token == token
        assert booking.status == BookingStatus.FAILED
        assert booking.failure_reason == reason
        # The draft stays, so the patient can try another card.
        assert client.get("/book/review/").status_code == 200

    def test_card_numbers_may_be_typed_without_spaces(self, client, patient, service_priced):
        self.pay(client, VISA.replace(" ", ""), service_priced("400.00"))
        assert Booking.objects.get().status == BookingStatus.CONFIRMED

    def test_resubmitting_the_same_form_returns_the_same_booking(
        self, client, patient, service_priced
    ):
        first, key = self.pay(client, VISA, service_priced("400.00"))
        # Back and submit again: the draft is gone, the key still finds the booking.
        again = client.post("/book/review/", {"card_number": VISA, "request_key": key})
        assert again.status_code == 302 and again.url == first.url
        assert Booking.objects.count() == 1
        assert Payment.objects.count() == 1

    def test_another_users_request_key_is_not_theirs_to_find(
        self, client, patient, service_priced, django_user_model
    ):
        _, key = self.pay(client, VISA, service_priced("400.00"))
        other = django_user_model.objects.create_user("ravi", password="another-pass-123")
        give_profile(other, gender="male", full_name="Ravi")
        client.force_login(other)
        client.post("/book/", details(service_priced("300.00")))
        response = client.post(
            "/book/review/", {"card_number": VISA, "request_key": key, "expected_total": "300.00"}
        )
        mine = Booking.objects.get(user=other)
        assert response.url == f"/bookings/{mine.pk}/"
        assert Booking.objects.count() == 2
