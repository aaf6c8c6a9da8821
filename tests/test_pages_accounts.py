"""Sign up, log in and out, password change and reset through the configured e-mail backend."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from bookings.models import PatientProfile
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def signup_data(**overrides) -> dict:
    data = {
        "username": "meera",
        "email": "meera@example.in",
        "full_name": "Meera Nair",
        "gender": "female",
        "date_of_birth": "1992-03-14",
        "password": "a-long-unusual-passphrase",
        "password_again": "a-long-unusual-passphrase",
    }
    data.update(overrides)
    return data


def test_sign_up_page_has_a_label_for_every_input(client):
    page = client.get("/accounts/signup/").content.decode()
    for name in ("username", "email", "full_name", "gender", "date_of_birth", "password"):
        assert f'for="id_{name}"' in page


def test_sign_up_creates_profile_logs_in_and_redirects_to_booking(client):
    response = client.post("/accounts/signup/", signup_data())
    assert response.status_code == 302
    assert response.url == "/book/"
    profile = PatientProfile.objects.get(user__username="meera")
    assert profile.full_name == "Meera Nair"
    assert str(profile.date_of_birth) == "1992-03-14"
    assert client.get("/book/").status_code == 200  # logged in


def test_sign_up_with_a_taken_username_shows_the_error_next_to_it(client):
    UserFactory(username="meera")
    response = client.post("/accounts/signup/", signup_data())
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == [
        "This username is taken; choose another."
    ]
    assert 'value="Meera Nair"' in response.content.decode()  # what was typed is kept


def test_sign_up_with_a_weak_password_shows_why_next_to_the_password(client):
    response = client.post(
        "/accounts/signup/", signup_data(password="12345678", password_again="12345678")
    )
    errors = response.context["form"].errors["password"]
    assert any("too common" in e for e in errors)
    assert not get_user_model().objects.filter(username="meera").exists()


def test_sign_up_with_mismatched_passwords_is_refused(client):
    response = client.post("/accounts/signup/", signup_data(password_again="something-else-9"))
    assert "password_again" in response.context["form"].errors
    assert not get_user_model().objects.exists()


def test_sign_up_with_a_future_birth_date_is_refused(client):
    response = client.post("/accounts/signup/", signup_data(date_of_birth="2999-01-01"))
    assert response.context["form"].errors["date_of_birth"] == [
        "The date of birth must be a past date."
    ]


def test_sign_up_with_missing_fields_marks_each_one(client):
    response = client.post("/accounts/signup/", {})
    assert set(response.context["form"].errors) == {
        "username",
        "email",
        "full_name",
        "gender",
        "date_of_birth",
        "password",
        "password_again",
    }
    page = response.content.decode()
    assert 'class="errors" id="id_username_error"' in page
    assert 'aria-describedby="id_username_error"' in page  # read out with the field


def test_logged_in_user_visiting_sign_up_goes_home(client):
    client.force_login(UserFactory())
    assert client.get("/accounts/signup/").url == "/"


def test_log_in_page_renders_and_logs_in(client):
    user = UserFactory()
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/"


def test_log_in_with_a_wrong_password_says_so(client):
    user = UserFactory()
    response = client.post("/accounts/login/", {"username": user.username, "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_log_out_is_a_post_and_goes_home(client):
    client.force_login(UserFactory())
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.url == "/"
    assert client.get("/bookings/").status_code == 302  # logged out


def test_password_change_works_for_a_logged_in_user(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/accounts/password_change/").status_code == 200
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
    )
    assert response.url == "/accounts/password_change/done/"
    user.refresh_from_db()
    assert user.check_password("another-long-passphrase")
    assert "Password changed" in client.get(response.url).content.decode()


def test_password_change_with_a_wrong_old_password_shows_the_error(client):
    client.force_login(UserFactory())
    response = client.post(
        "/accounts/password_change/",
        {"old_password": "wrong", "new_password1": "x-y-z-1234", "new_password2": "x-y-z-1234"},
    )
    assert "old_password" in response.context["form"].errors


def test_password_reset_sends_a_working_link_by_email(client):
    user = UserFactory(email="asha@example.in")
    response = client.post("/accounts/password_reset/", {"email": "asha@example.in"})
    assert response.url == "/accounts/password_reset/done/"
    assert "Check your e-mail" in client.get(response.url).content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Reset your City Clinic password"
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link).url  # Django swaps the token for a session marker
    assert "Choose a new password" in client.get(form_url).content.decode()
    done = client.post(
        form_url,
        {"new_password1": "brand-new-passphrase", "new_password2": "brand-new-passphrase"},
    )
    assert done.url == "/accounts/reset/done/"
    user.refresh_from_db()
    assert user.check_password("brand-new-passphrase")


def test_password_reset_link_with_a_bad_token_says_it_no_longer_works(client):
    user = UserFactory()
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    page = client.get(f"/accounts/reset/{uid}/bad-token/").content.decode()
    assert "This link no longer works" in page


def test_sign_up_asks_for_a_gender_rather_than_assuming_one(client):
    page = client.get("/accounts/signup/").content.decode()
    assert '<option value="" selected>Choose…</option>' in page


def test_log_in_returns_to_the_page_that_asked_for_it(client):
    user = UserFactory()
    login_page = client.get("/book/", follow=True)
    assert 'name="next" value="/book/"' in login_page.content.decode()
    response = client.post(
        "/accounts/login/?next=/book/",
        {"username": user.username, "password": PASSWORD, "next": "/book/"},
    )
    assert response.url == "/book/"


def test_a_form_sent_without_its_csrf_token_gets_a_friendly_403():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", {"username": "a", "password": "b"}
    )
    assert response.status_code == 403
    assert "reload the page" in response.content.decode()


def test_the_password_reset_mail_speaks_the_patients_language(client):
    """The profile's language chooses the mail, not the page's: a Hindi patient asking
    from an English page gets it in Hindi, an English one asking from a Hindi page in
    English."""
    from tests.support.pages_helpers import give_profile

    asha = UserFactory(username="asha", email="asha@example.in")
    PatientProfile.objects.filter(pk=give_profile(asha).pk).update(language="hi")
    meera = UserFactory(username="meera", email="meera@example.in")
    give_profile(meera, full_name="Meera Nair")

    client.post("/accounts/password_reset/", {"email": "asha@example.in"})
    client.post(
        "/accounts/password_reset/", {"email": "meera@example.in"}, HTTP_ACCEPT_LANGUAGE="hi"
    )

    hindi, english = mail.outbox
    assert hindi.subject == "अपना सिटी क्लिनिक पासवर्ड फिर से बनाएँ"
    assert hindi.body.startswith("नमस्ते asha जी,")
    assert "नया पासवर्ड यहाँ चुनें:" in hindi.body
    assert "आपका पासवर्ड जैसा है वैसा ही रहेगा" in hindi.body
    assert re.search(r"/accounts/reset/[\w-]+/[\w-]+/", hindi.body)
    # Nothing left in English but the link.
    words = re.findall(r"[A-Za-z]{3,}", re.sub(r"https?://\S+", "", hindi.body))
    assert words == ["asha"], words
    assert english.subject == "Reset your City Clinic password"
    assert english.body.startswith("Hello meera,")
    assert "your password stays as it is" in english.body
