"""Never charge more than shown (DESIGN.md): the request carries the amount the patient
saw (`expected_total`, API.md); when the final price is higher, payments charges
nothing, the booking fails with `price_changed` and the saga gives everything back.

Both ends: the JSON API, and the review page, which shows the price the patient will
really pay and always sends it.
"""

from decimal import Decimal

import pytest

from bookings.models import Booking, BookingStatus, SagaEvent
from bookings.services import clinic_today
from payments.models import Payment, SimulatedGatewayCharge
from portal.ops.invariants import find_violations
from quotas.models import DiscountQuota, QuotaReservation
from quotas.services import ensure_day
from tests.support.bodies import booking_body
from tests.support.factories import UserFactory
from tests.support.pages_helpers import VISA, details, give_profile, request_key_from

pytestmark = pytest.mark.usefixtures("commits")  # the saga runs on commit

BOOKINGS = "/api/booking"
FULL = "3000.00"
DISCOUNTED = "2640.00"  # 12% off


def set_today(limit: int, used: int = 0) -> None:
    ensure_day(clinic_today())
    DiscountQuota.objects.filter(day=clinic_today()).update(limit=limit, used=used)


def someone_else_takes_a_discount(token_client, service) -> None:
    other = token_client(UserFactory())
    taken = other.post(BOOKINGS, booking_body(service, gender="male"), format="json").json()
    assert (taken["status"], taken["discount_applied"]) == ("confirmed", True)


def nothing_was_charged_or_held(booking_id: str) -> None:
    booking = Booking.objects.get(pk=booking_id)
    assert not SimulatedGatewayCharge.objects.filter(
        idempotency_key=str(booking.correlation_id)
    ).exists()
    assert not Payment.objects.filter(booking=booking).exists()
    assert not QuotaReservation.objects.filter(booking=booking, released_at__isnull=True).exists()
    assert find_violations() == []


# --- The API --------------------------------------------------------------------


def test_the_expected_total_is_charged_when_the_price_holds(patient_api, service_priced):
    service = service_priced(FULL)
    response = patient_api.post(
        BOOKINGS, booking_body(service, gender="male", expected_total=DISCOUNTED), format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["final_price"]) == ("confirmed", DISCOUNTED)
    assert Booking.objects.get().expected_total == Decimal(DISCOUNTED)


def test_a_lower_final_price_than_expected_is_charged_as_it_is(patient_api, service_priced):
    service = service_priced(FULL)
    body = patient_api.post(
        BOOKINGS, booking_body(service, gender="male", expected_total=FULL), format="json"
    ).json()
    assert (body["status"], body["final_price"]) == ("confirmed", DISCOUNTED)


def test_the_last_discount_taken_between_review_and_pay_charges_nothing(
    patient_api, token_client, service_priced
):
    service = service_priced(FULL)
    set_today(limit=1)
    # The patient's app reads the rule and today's quota: one discount left.
    assert patient_api.get("/api/quota/status").json()["remaining"] == 1
    shown = DISCOUNTED
    # Meanwhile another patient takes it.
    someone_else_takes_a_discount(token_client, service)

    response = patient_api.post(
        BOOKINGS, booking_body(service, gender="male", expected_total=shown), format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["failure_reason"]) == ("failed", "price_changed")
    assert (body["quota_exhausted"], body["final_price"]) == (True, FULL)
    assert body["confirmation_code"] is None
    nothing_was_charged_or_held(body["id"])
    trail = list(
        SagaEvent.objects.filter(correlation_id=body["correlation_id"])
        .order_by("sequence")
        .values_list("event_type", flat=True)
    )
    assert trail[-4:] == [
        "DiscountQuotaReserved",
        "PaymentFailed",
        "CompensationTriggered",
        "BookingFailed",
    ]
    # Told the new price, the app confirms it and pays it.
    again = patient_api.post(
        BOOKINGS, booking_body(service, gender="male", expected_total=FULL), format="json"
    )
    assert (again.json()["status"], again.json()["final_price"]) == ("confirmed", FULL)


def test_a_discount_given_back_by_compensation_when_the_price_changed(patient_api, service_priced):
    """A discount reserved before payments refuses the price is released again."""
    service = service_priced(FULL)
    # Shown less than even the discounted price (a stale or wrong app): refused.
    body = patient_api.post(
        BOOKINGS, booking_body(service, gender="male", expected_total="100.00"), format="json"
    ).json()
    assert (body["status"], body["failure_reason"], body["discount_applied"]) == (
        "failed",
        "price_changed",
        True,
    )
    assert DiscountQuota.objects.get(day=clinic_today()).used == 0
    nothing_was_charged_or_held(body["id"])


@pytest.mark.parametrize("bad", ["-1.00", "abc", "1.234", "1" * 20])
def test_a_malformed_expected_total_is_400(patient_api, service_priced, bad):
    response = patient_api.post(
        BOOKINGS,
        booking_body(service_priced(FULL), gender="male", expected_total=bad),
        format="json",
    )
    assert response.status_code == 400
    assert "expected_total" in response.json()
    assert not Booking.objects.exists()


# --- The review page ------------------------------------------------------------


@pytest.fixture
def patient(client, user):
    give_profile(user, gender="male", full_name="Ravi Verma")
    client.force_login(user)
    return user


def review(client, service):
    client.post("/book/", details(service, gender="male"))
    return client.get("/book/review/")


def pay(client, page) -> object:
    form = page.context["form"]
    return client.post(
        "/book/review/",
        {
            "card_number": VISA,
            "request_key": request_key_from(page),
            "expected_total": form["expected_total"].value(),
        },
    )


def test_with_no_discount_left_the_review_page_shows_the_full_price(
    client, patient, service_priced
):
    service = service_priced(FULL)
    set_today(limit=3, used=3)

    page = review(client, service)

    html = page.content.decode()
    assert "₹3,000.00" in html and "₹2,640.00" not in html
    assert "0 left now" not in html
    assert "today's discounts are all used up" in html
    assert page.context["form"]["expected_total"].value() == Decimal(FULL)
    # And that is what is charged.
    pay(client, page)
    booking = Booking.objects.get()
    assert (booking.status, booking.final_price) == (BookingStatus.CONFIRMED, Decimal(FULL))


def test_with_a_discount_left_the_review_page_shows_and_sends_the_discounted_price(
    client, patient, service_priced
):
    service = service_priced(FULL)
    set_today(limit=3, used=2)

    page = review(client, service)

    assert "1 left now" in page.content.decode()
    assert page.context["form"]["expected_total"].value() == Decimal(DISCOUNTED)
    pay(client, page)
    booking = Booking.objects.get()
    assert (booking.status, booking.final_price) == (BookingStatus.CONFIRMED, Decimal(DISCOUNTED))
    assert booking.expected_total == Decimal(DISCOUNTED)


def test_the_last_discount_going_to_someone_else_before_pay_asks_to_confirm_the_new_price(
    client, patient, token_client, service_priced
):
    service = service_priced(FULL)
    set_today(limit=1)
    page = review(client, service)
    assert "₹2,640.00" in page.content.decode()
    someone_else_takes_a_discount(token_client, service)

    result = client.get(pay(client, page).url)

    mine = Booking.objects.get(user=patient)
    assert (mine.status, mine.failure_reason) == (BookingStatus.FAILED, "price_changed")
    nothing_was_charged_or_held(str(mine.pk))
    html = result.content.decode()
    assert "The price went up before the payment" in html
    assert "nothing was charged" in html
    assert "The price now: <strong>₹3,000.00</strong>" in html
    assert "Review and pay the new price" in html
    # The patient follows the offer: the review shows the new price, and paying it books.
    page = client.get("/book/review/")
    assert page.context["form"]["expected_total"].value() == Decimal(FULL)
    assert "today's discounts are all used up" in page.content.decode()
    pay(client, page)
    confirmed = Booking.objects.filter(user=patient, status=BookingStatus.CONFIRMED).get()
    assert confirmed.final_price == Decimal(FULL)
    assert find_violations() == []


def test_a_form_sent_back_with_an_error_carries_the_price_it_now_shows(
    client, patient, service_priced, token_client
):
    service = service_priced(FULL)
    set_today(limit=1)
    page = review(client, service)
    someone_else_takes_a_discount(token_client, service)

    again = client.post(
        "/book/review/",
        {
            "card_number": "1234",
            "request_key": request_key_from(page),
            "expected_total": DISCOUNTED,
        },
    )

    assert "card_number" in again.context["form"].errors
    assert again.context["form"]["expected_total"].value() == FULL
    assert "₹2,640.00" not in again.content.decode()


def test_a_payment_form_without_the_amount_shown_books_nothing(client, patient, service_priced):
    page = review(client, service_priced(FULL))
    response = client.post(
        "/book/review/", {"card_number": VISA, "request_key": request_key_from(page)}
    )
    assert "expected_total" in response.context["form"].errors
    assert "reload the page and pay again" in response.content.decode()
    assert not Booking.objects.exists()
