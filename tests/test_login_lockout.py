"""Issue 12, item 6: password guessing is stopped at every door at once.

django-axes counts failed logins in the database (one count for every process and
host) per username and client address together, whichever door they came through: the
API token endpoint, the web login and the admin login; and caps an address's failures
for any usernames (issue 22: failures from one address must not lock a staff member
out at every other). The hand-written login throttle
(API.md's 429 with Retry-After) counts per address and per username too, never per
token. Password reset and sign-up are limited per address and per e-mail address.
"""

import pytest
from django.core import mail
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.support.admin_helpers import STAFF_PASSWORD, staff_member
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
TOKEN = "/api/auth/token"
WEB_LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def generous_throttles(settings):
    # The hand-written throttle stays out of the way of the lockout tests below.
    settings.THROTTLE_LOGIN_RATE = "1000/minute"


def api_login(username: str, password: str, address: str = "198.51.100.1", **headers):
    client = APIClient(REMOTE_ADDR=address)
    return client.post(
        TOKEN, {"username": username, "password": password}, format="json", **headers
    )


def web_login(path: str, username: str, password: str, address: str = "198.51.100.1"):
    from django.test import Client

    client = Client(REMOTE_ADDR=address)
    return client, client.post(path, {"username": username, "password": password})


def test_the_failure_limit_is_ten_wrong_passwords(settings):
    assert settings.AXES_FAILURE_LIMIT == 10
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT == 20


def test_after_ten_wrong_admin_passwords_the_right_one_is_refused():
    staff = staff_member("Reception")
    for _ in range(9):
        _, answer = web_login(ADMIN_LOGIN, staff.username, "wrong")
        assert answer.status_code == 200  # the form again
    _, answer = web_login(ADMIN_LOGIN, staff.username, "wrong")
    assert answer.status_code == 429  # the tenth failure locks the door
    client, answer = web_login(ADMIN_LOGIN, staff.username, STAFF_PASSWORD)
    assert answer.status_code == 429
    assert int(answer["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_nine_wrong_passwords_still_let_the_right_one_in():
    user = UserFactory()
    for _ in range(9):
        web_login(WEB_LOGIN, user.username, "wrong")
    client, answer = web_login(WEB_LOGIN, user.username, PASSWORD)
    assert answer.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_the_doors_share_one_count_per_username_at_one_address():
    user = UserFactory()
    address = "203.0.113.1"
    for _ in range(4):
        assert api_login(user.username, "wrong", address=address).status_code == 400
    for _ in range(3):
        web_login(WEB_LOGIN, user.username, "wrong", address=address)
    for _ in range(3):
        web_login(ADMIN_LOGIN, user.username, "wrong", address=address)

    refused = api_login(user.username, PASSWORD, address=address)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "detail" in refused.json()
    assert not Token.objects.filter(user=user).exists()
    _, page = web_login(WEB_LOGIN, user.username, PASSWORD, address=address)
    assert page.status_code == 429
    assert b"Too many attempts" in page.content


def test_failures_from_one_address_do_not_lock_a_staff_member_out_elsewhere():
    """Issue 22: ten bad admin logins for manager1 from one address locked manager1 out
    from every address for 15 minutes. Now only that address is refused for them."""
    manager = staff_member("Clinic manager", username="manager1")
    attacker, own_desk = "203.0.113.66", "192.0.2.10"
    for _ in range(12):
        _, answer = web_login(ADMIN_LOGIN, "manager1", "wrong", address=attacker)
    assert answer.status_code == 429
    _, answer = web_login(ADMIN_LOGIN, "manager1", STAFF_PASSWORD, address=attacker)
    assert answer.status_code == 429  # still locked where the guessing came from

    client, answer = web_login(ADMIN_LOGIN, "manager1", STAFF_PASSWORD, address=own_desk)
    assert answer.status_code == 302
    assert client.session["_auth_user_id"] == str(manager.pk)
    assert api_login("manager1", STAFF_PASSWORD, address=own_desk).status_code == 200


def test_one_address_trying_many_usernames_is_capped(settings):
    """The per-address cap: LOGIN_ADDRESS_FAILURE_LIMIT failures from one address, spread
    over usernames each far below their own limit, lock that address for every
    username, while other addresses go on."""
    cap = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    victims = [UserFactory() for _ in range(cap // 2)]
    codes = [
        api_login(victim.username, "wrong", address="203.0.113.7").status_code
        for victim in victims
        for _ in range(2)
    ]
    assert codes == [400] * (cap - 1) + [429]  # the failure that reaches the cap is refused
    fresh = UserFactory()
    assert api_login(fresh.username, PASSWORD, address="203.0.113.7").status_code == 429
    assert api_login(fresh.username, PASSWORD, address="203.0.113.8").status_code == 200


def test_one_failure_below_the_address_cap_still_lets_a_login_in(settings):
    cap = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    for n in range(cap - 1):
        api_login(f"nobody{n}", "wrong", address="203.0.113.9")
    user = UserFactory()
    assert api_login(user.username, PASSWORD, address="203.0.113.9").status_code == 200


# --- The hand-written login throttle: per address and per username, never per token ---


def test_another_users_token_gives_no_fresh_login_allowance(settings, user):
    settings.THROTTLE_LOGIN_RATE = "3/minute"
    for _ in range(3):
        assert api_login(user.username, "wrong").status_code == 400
    someone = UserFactory()
    token = Token.objects.create(user=someone).key
    answer = api_login(user.username, PASSWORD, HTTP_AUTHORIZATION=f"Token {token}")
    assert answer.status_code == 429
    assert int(answer["Retry-After"]) > 0


def test_the_login_throttle_counts_per_username_across_addresses(settings, user):
    settings.THROTTLE_LOGIN_RATE = "3/minute"
    for n in range(3):
        assert api_login(user.username, "wrong", address=f"203.0.113.{n}").status_code == 400
    assert api_login(user.username, PASSWORD, address="203.0.113.50").status_code == 429
    assert api_login(UserFactory().username, PASSWORD, address="203.0.113.51").status_code == 200


def test_the_web_login_throttle_counts_per_username_across_addresses(settings, user):
    settings.THROTTLE_LOGIN_RATE = "3/minute"
    for n in range(3):
        web_login(WEB_LOGIN, user.username, "wrong", address=f"203.0.113.{n}")
    _, answer = web_login(WEB_LOGIN, user.username, PASSWORD, address="203.0.113.60")
    assert answer.status_code == 429


# --- Password reset and sign-up ------------------------------------------------------


def reset(email: str, address: str = "198.51.100.1"):
    from django.test import Client

    return Client(REMOTE_ADDR=address).post("/accounts/password_reset/", {"email": email})


def test_password_reset_mails_are_limited_per_email_address(settings):
    settings.PASSWORD_RESET_RATE = "3/hour"
    user = UserFactory()
    answers = [reset(user.email, address=f"203.0.113.{n}").status_code for n in range(5)]
    assert answers == [302, 302, 302, 429, 429]
    assert len(mail.outbox) == 3


def test_password_reset_is_limited_per_client_address(settings):
    settings.PASSWORD_RESET_RATE = "3/hour"
    answers = [reset(f"nobody{n}@example.in").status_code for n in range(4)]
    assert answers == [302, 302, 302, 429]


def test_a_refused_password_reset_says_when_to_retry(settings):
    settings.PASSWORD_RESET_RATE = "1/hour"
    reset("a@example.in")
    answer = reset("a@example.in")
    assert answer.status_code == 429
    assert 0 < int(answer["Retry-After"]) <= 3600
    assert b"Too many" in answer.content


def signup(n: int, address: str = "198.51.100.1", email: str | None = None):
    from django.test import Client

    return Client(REMOTE_ADDR=address).post(
        "/accounts/signup/",
        {
            "username": f"newpatient{n}",
            "email": email or f"newpatient{n}@example.in",
            "full_name": "New Patient",
            "gender": "female",
            "date_of_birth": "1990-01-01",
            "password": "saffron-lantern-42",
            "password_again": "saffron-lantern-42",
        },
    )


def test_sign_up_is_limited_per_client_address(settings):
    settings.SIGNUP_RATE = "2/hour"
    answers = [signup(n).status_code for n in range(3)]
    assert answers == [302, 302, 429]


def test_sign_up_is_limited_per_email_address(settings):
    settings.SIGNUP_RATE = "2/hour"
    answers = [
        signup(n, address=f"203.0.113.{n}", email="same@example.in").status_code for n in range(3)
    ]
    assert answers[2] == 429


RACERS = 30


@pytest.fixture
def production_cache(settings):
    """The cache production has by default (the database cache): the count must not
    depend on it (a cache's add-then-incr there is a read, then a write)."""
    from django.core.management import call_command

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "clinic_cache",
        }
    }
    call_command("createcachetable", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_password_resets_at_the_same_instant_let_exactly_the_limit_through(
    settings, production_cache
):
    """30 resets of one e-mail address released together, each on its own connection:
    the count is one upsert per attempt, so exactly PASSWORD_RESET_RATE pass (a cache's
    add-then-incr let 14-24 of 30 through at 5/hour)."""
    from tests.support.racing import at_once

    settings.PASSWORD_RESET_RATE = "5/hour"
    user = UserFactory()
    answers = at_once(
        [lambda n=n: reset(user.email, address=f"203.0.113.{n}") for n in range(RACERS)]
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [302] * 5 + [429] * (RACERS - 5)
    assert len(mail.outbox) == 5


@pytest.mark.django_db(transaction=True)
def test_sign_ups_at_the_same_instant_from_one_address_let_exactly_the_limit_through(
    settings, production_cache
):
    from django.contrib.auth import get_user_model

    from tests.support.racing import at_once

    settings.SIGNUP_RATE = "10/hour"
    answers = at_once([lambda n=n: signup(n) for n in range(RACERS)])
    codes = sorted(a.status_code for a in answers)
    assert codes == [302] * 10 + [429] * (RACERS - 10)
    assert get_user_model().objects.filter(username__startswith="newpatient").count() == 10
