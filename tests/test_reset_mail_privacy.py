"""Issue 12, item 9: with DEBUG off and no EMAIL_URL, mail would go to the console
backend, into the server's logs: no password reset link may be written there."""

import pytest

from tests.support.factories import UserFactory


@pytest.fixture
def patient(db):
    return UserFactory()


CONSOLE = "django.core.mail.backends.console.EmailBackend"


def test_without_a_mail_server_in_production_no_reset_link_is_written_out(
    client, patient, settings, capsys
):
    settings.DEBUG = False
    settings.EMAIL_BACKEND = CONSOLE
    response = client.post("/accounts/password_reset/", {"email": patient.email})
    # The same answer as always (it never tells whether the address has an account)...
    assert response.status_code == 302
    # ...but nothing was written to the console, where it would land in the logs.
    printed = capsys.readouterr()
    assert "/accounts/reset/" not in printed.out + printed.err
    assert patient.email not in printed.out + printed.err


def test_with_debug_on_the_console_still_shows_the_reset_mail(client, patient, settings, capsys):
    settings.DEBUG = True
    settings.EMAIL_BACKEND = CONSOLE
    client.post("/accounts/password_reset/", {"email": patient.email})
    assert "/accounts/reset/" in capsys.readouterr().out
