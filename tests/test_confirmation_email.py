"""The confirmation e-mail: sent to the patient, and never able to undo or hold a booking."""

import socket
import threading

import pytest
from django.core import mail

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_patient_with_an_address_gets_the_code_and_the_services(book, user):
    booking = book(prices=("500.00",))

    assert [m.to for m in mail.outbox] == [[user.email]]
    assert booking.confirmation_code in mail.outbox[0].body
    assert booking.items.get().name in mail.outbox[0].body


def test_a_patient_without_an_address_is_confirmed_without_a_mail(book, user):
    user.email = ""
    user.save()

    booking = book()

    assert booking.status == "confirmed"
    assert mail.outbox == []


@pytest.fixture
def mail_server_that_never_answers():
    """A port that accepts SMTP connections and then says nothing, ever."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], accepted
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_mail_server_that_never_answers_gives_up_and_the_booking_stays_confirmed(
    book, settings, caplog, mail_server_that_never_answers
):
    port, connections = mail_server_that_never_answers
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 1  # without a timeout this booking would wait forever

    booking = book()

    assert booking.status == "confirmed"
    assert len(connections) == 1  # the mail was tried
    assert "confirmation e-mail failed" in caplog.text


def test_by_default_the_wait_for_the_mail_server_is_bounded():
    from django.conf import settings

    assert settings.EMAIL_TIMEOUT == 10


def test_an_after_commit_callback_that_raises_is_logged_not_lost(book, caplog):
    """Django 5.2 logs a failing robust on_commit callback by its __qualname__: with a
    functools.partial (which has none) the logging itself raised and the failure was
    lost. The database connection drops as the e-mail reads the booking: the error is
    logged by name with its cause, and the booking stays confirmed."""
    from django.db import OperationalError, connection

    def connection_cut_at_the_mail_read(execute, sql, params, many, context):
        if "auth_user" in sql and "bookings_booking" in sql:  # the e-mail's read only
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(connection_cut_at_the_mail_read):
        booking = book(prices=("500.00",))

    assert booking.status == "confirmed"
    assert mail.outbox == []
    logged = [r for r in caplog.records if "in on_commit()" in r.getMessage()]
    assert len(logged) == 1, [r.getMessage() for r in caplog.records]
    assert "send_confirmation_email_after_commit" in logged[0].getMessage()
    assert isinstance(logged[0].exc_info[1], OperationalError)
    assert not [
        r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], AttributeError)
    ]
    assert "saga receiver raised" not in caplog.text  # the step itself never failed
