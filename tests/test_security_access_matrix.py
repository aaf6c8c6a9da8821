"""Every endpoint and page, tried by an anonymous visitor, another patient, the owner
and staff: each sees exactly what it should, and session writes need CSRF."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from billing.models import Document
from tests.support.admin_helpers import staff_member
from tests.support.factories import UserFactory

pytestmark = pytest.mark.usefixtures("commits")

PUBLIC_API = [
    "/api/services",
    "/api/config/discount",
    "/api/quota/status",
    "/api/schema/",
    "/api/docs/",
    "/healthz",
]
PUBLIC_PAGES = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password_reset/"]
PATIENT_PAGES = ["/book/", "/bookings/", "/accounts/password_change/"]


@pytest.fixture
def people(book, user):
    owner_booking = book(prices=("500.00",), by=user)
    return {
        "owner": user,
        "other": UserFactory(),
        # Staff in the Reception group: the permissions the admin's groups grant.
        "staff": staff_member("Reception"),
        # is_staff alone (no group) grants nothing, in the admin or the API.
        "bare_staff": UserFactory(is_staff=True),
        "booking": owner_booking,
    }


def api_as(person) -> APIClient:
    client = APIClient()
    if person is not None:
        client.credentials(
            HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=person)[0]}"
        )
    return client


def page_as(person) -> Client:
    client = Client()
    if person is not None:
        client.force_login(person)
    return client


@pytest.mark.parametrize("path", PUBLIC_API)
def test_public_api_answers_everyone(people, path):
    for who in (None, people["other"], people["staff"]):
        assert api_as(who).get(path).status_code == 200, (path, who)


@pytest.mark.parametrize(
    ("who", "expected"),
    [(None, 401), ("other", 404), ("bare_staff", 404), ("owner", 200), ("staff", 200)],
)
def test_a_booking_status_is_for_its_owner_and_staff_only(people, who, expected):
    path = f"/api/booking/{people['booking'].pk}/status"
    assert api_as(people.get(who)).get(path).status_code == expected


# Acting on a booking: anyone but its owner and staff holding the permission gets the
# same 404 as for a booking that does not exist, and changes nothing.
OWNED_ACTIONS = {
    "cancel quote": ("get", "cancellation", None),
    "cancel": ("post", "cancel", {"reason": "not mine"}),
    "reschedule": ("post", "reschedule", {"slot_id": 1}),
    "calendar": ("get", "calendar.ics", None),
}


@pytest.mark.usefixtures("default_cancellation_policy")
@pytest.mark.parametrize("action", OWNED_ACTIONS)
@pytest.mark.parametrize(("who", "expected"), [(None, 401), ("other", 404), ("bare_staff", 404)])
def test_another_users_booking_cannot_be_acted_on(people, action, who, expected):
    method, tail, body = OWNED_ACTIONS[action]
    booking = people["booking"]
    path = f"/api/booking/{booking.pk}/{tail}"
    answer = getattr(api_as(people.get(who)), method)(path, body, format="json")
    assert answer.status_code == expected, (action, who, answer.content)
    before = (booking.status, booking.cancellation_requested_at, booking.reschedules)
    booking.refresh_from_db()
    assert (booking.status, booking.cancellation_requested_at, booking.reschedules) == before


@pytest.mark.usefixtures("default_cancellation_policy")
@pytest.mark.parametrize("who", ["owner", "staff"])
def test_the_owner_and_staff_get_the_cancel_quote(people, who):
    path = f"/api/booking/{people['booking'].pk}/cancellation"
    assert api_as(people[who]).get(path).status_code == 200


@pytest.mark.usefixtures("default_cancellation_policy")
def test_the_owner_cancels_their_own_booking(people):
    path = f"/api/booking/{people['booking'].pk}/cancel"
    answer = api_as(people["owner"]).post(path, {"reason": "ill"}, format="json")
    assert answer.status_code == 200
    assert answer.json()["status"] == "cancelled"


@pytest.mark.parametrize(("who", "count"), [("other", 0), ("owner", 1)])
def test_the_booking_list_holds_only_ones_own(people, who, count):
    assert api_as(people[who]).get("/api/booking").json()["count"] == count


def test_anonymous_cannot_list_or_book(people):
    assert api_as(None).get("/api/booking").status_code == 401
    assert api_as(None).post("/api/booking", {}, format="json").status_code == 401


@pytest.mark.parametrize(
    ("who", "expected"), [(None, 401), ("other", 403), ("bare_staff", 403), ("staff", 200)]
)
def test_the_quota_limit_is_staff_only(people, who, expected):
    answer = api_as(people.get(who)).put("/api/admin/quota", {"limit": 50}, format="json")
    assert answer.status_code == expected


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_answer_anonymous_visitors(people, path):
    assert page_as(None).get(path).status_code == 200


@pytest.mark.parametrize("path", PATIENT_PAGES)
def test_patient_pages_send_anonymous_visitors_to_log_in(people, path):
    answer = page_as(None).get(path)
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(("who", "expected"), [("other", 404), ("owner", 200)])
def test_a_booking_page_is_its_owners_alone(people, who, expected):
    path = f"/bookings/{people['booking'].pk}/"
    assert page_as(people[who]).get(path).status_code == expected


@pytest.mark.parametrize(
    ("who", "expected"), [(None, 302), ("other", 404), ("staff", 404), ("owner", 200)]
)
def test_a_bookings_receipt_page_is_its_owners_alone(people, who, expected):
    """The e-mails' receipt link: sign in first, then one's own documents only (staff
    read documents in the admin and the API)."""
    number = Document.objects.get(booking=people["booking"]).number
    path = f"/bookings/{people['booking'].pk}/documents/{number}.pdf"
    answer = page_as(people.get(who)).get(path)
    assert answer.status_code == expected
    if who is None:
        assert answer["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(("who", "expected"), [(None, 302), ("other", 302), ("staff", 200)])
def test_the_admin_is_for_staff(people, who, expected):
    assert page_as(people.get(who)).get("/admin/").status_code == expected


def test_session_authenticated_api_writes_need_the_csrf_token(people):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(people["staff"])
    refused = client.put("/api/admin/quota", {"limit": 50}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]


def test_page_forms_refuse_a_post_without_the_csrf_token(people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["owner"])
    assert client.post("/book/", {"patient_name": "x"}).status_code == 403


@pytest.mark.parametrize("who", [None, "other", "bare_staff", "owner"])
def test_a_payment_return_without_this_bookings_signed_proof_changes_nothing(people, who):
    # The gateway's return is CSRF-exempt and needs no session (a cross-site POST): the
    # signature against the order this booking stored is the only key, for anyone.
    booking = people["booking"]
    forged = {
        "razorpay_order_id": "order_NotThisOne0001",
        "razorpay_payment_id": "pay_NotThisOne00001",
        "razorpay_signature": "0" * 64,
    }
    path = f"/bookings/{booking.pk}/payment/return/"
    answer = Client(enforce_csrf_checks=True)
    if people.get(who) is not None:
        answer.force_login(people[who])
    assert answer.post(path, forged).status_code == 400
    before = (booking.status, booking.final_price)
    booking.refresh_from_db()
    assert (booking.status, booking.final_price) == before
