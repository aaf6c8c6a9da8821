"""The patient's words (issue 17): running total, retries, sign-up in one round, Back."""

from datetime import date

import pytest

from bookings.models import Booking, BookingStatus

pytestmark = pytest.mark.usefixtures("commits")


def test_update_total_without_javascript_sums_the_chosen_services(client, user, service_priced):
    ecg = service_priced("600.00", description="Heart rhythm trace")
    mri = service_priced("700.00")
    client.force_login(user)
    page = client.get("/book/").content.decode()
    assert "Heart rhythm trace" in page  # descriptions where the services are chosen
    assert 'name="update_total"' in page and "js/running-total.js" in page
    response = client.post("/book/", {"services": [ecg.pk, mri.pk], "update_total": "1"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="running-total-amount">₹1,300.00<' in page
    assert "eligible for the 12% discount" in page
    assert "This field is required" not in page  # nothing reached yet is an error


def test_retry_books_that_bookings_own_services_not_the_newest_draft(
    client, user, book, service_priced
):
    failed = book(prices=("572.00",), payment_token="tok_chargeDeclined")
    mri = service_priced("6500.00")
    client.force_login(user)
    client.post(
        "/book/",
        {
            "services": [mri.pk],
            "patient_name": "Someone Else",
            "gender": "male",
            "date_of_birth": "1980-01-01",
        },
    )
    response = client.post(f"/bookings/{failed.pk}/retry/")
    assert response.url == "/book/review/"
    review = client.get("/book/review/")
    assert [s.pk for s in review.context["details"]["services"]] == [failed.items.get().service_id]
    assert review.context["details"]["patient_name"] == failed.patient_name
    assert "₹6,500.00" not in review.content.decode()


def test_retry_is_only_for_ones_own_failed_booking(client, user, book):
    confirmed = book()
    client.force_login(user)
    assert client.post(f"/bookings/{confirmed.pk}/retry/").status_code == 404
    assert client.get(f"/bookings/{confirmed.pk}/retry/").status_code == 405


def test_declined_retries_fold_under_the_booking_finally_made(client, user, book, service_priced):
    ecg = service_priced("572.00")
    book(services=[ecg], payment_token="tok_chargeDeclined")
    book(services=[ecg], payment_token="tok_chargeDeclined")
    made = book(services=[ecg])
    client.force_login(user)
    response = client.get("/bookings/")
    rows = response.context["rows"]
    assert len(rows) == 1 and rows[0]["booking"] == made and len(rows[0]["attempts"]) == 2
    assert "2 earlier attempts that did not go through (not charged)" in response.content.decode()


def test_sign_up_reports_every_problem_in_one_round_and_links_them(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "asha",
            "email": "not-an-address",
            "full_name": "Asha Verma",
            "gender": "female",
            "date_of_birth": "1990-01-01",
            "password": "12345678",
            "password_again": "12345678",
        },
    )
    form = response.context["form"]
    assert set(form.errors) == {"email", "password"}  # password strength in the same round
    page = response.content.decode()
    assert '<a href="#id_email">' in page and '<a href="#id_password">' in page
    assert 'value="Asha Verma"' in page and 'value="asha"' in page  # other fields kept
    assert 'value="12345678"' not in page  # passwords are never sent back


def test_date_of_birth_pickers_offer_no_future_day(client, user):
    from bookings.services import clinic_today

    today = clinic_today().isoformat()
    assert f'max="{today}"' in client.get("/accounts/signup/").content.decode()
    client.force_login(user)
    assert f'max="{today}"' in client.get("/book/").content.decode()


def test_the_date_of_birth_max_is_the_day_the_page_is_drawn(client):
    """Not the day the form class was made: a server running past midnight moves on."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    with time_machine.travel(datetime(2027, 3, 1, 0, 5, tzinfo=ZoneInfo("Asia/Kolkata"))):
        assert 'max="2027-03-01"' in client.get("/accounts/signup/").content.decode()


def test_back_after_paying_lands_on_the_booking_just_made(client, user, service_priced):
    service = service_priced("500.00")
    client.force_login(user)
    client.post(
        "/book/",
        {
            "services": [service.pk],
            "patient_name": "Asha Verma",
            "gender": "female",
            "date_of_birth": date(1990, 1, 1).isoformat(),
        },
    )
    form = client.get("/book/review/").context["form"]
    client.post(
        "/book/review/",
        {
            "card_number": "4242424242424242",
            "request_key": form.initial["request_key"],
            "expected_total": form.initial["expected_total"],
        },
    )
    booking = Booking.objects.get(user=user)
    assert booking.status == BookingStatus.CONFIRMED
    back = client.get("/book/review/")
    assert back.url == f"/bookings/{booking.pk}/"
