"""Who may open the admin's pages: staff in the clinic's groups and superusers; nobody else."""

import pytest
from django.urls import reverse

from bookings.models import AuditLog, SagaEvent
from bookings.services import clinic_today
from payments.models import Payment, SimulatedGatewayCharge
from quotas.models import QuotaReservation
from tests.admin_helpers import staff_member, superuser
from tests.factories import UserFactory

LIST_PAGES = [
    "admin:index",
    "admin:bookings_booking_changelist",
    "admin:bookings_medicalservice_changelist",
    "admin:bookings_sagaevent_changelist",
    "admin:bookings_auditlog_changelist",
    "admin:bookings_patientprofile_changelist",
    "admin:quotas_discountquota_changelist",
    "admin:quotas_quotareservation_changelist",
    "admin:payments_payment_changelist",
]


@pytest.fixture
def one_of_everything(book, set_default_limit):
    """A discounted confirmed booking and a declined one: rows on every list."""
    set_default_limit(5)
    confirmed = book(prices=("2500.00",))
    failed = book(prices=("1500.00",), payment_token="tok_chargeDeclined")
    return confirmed, failed


def detail_pages(confirmed, failed) -> list[str]:
    return [
        reverse("admin:bookings_booking_change", args=[confirmed.pk]),
        reverse("admin:bookings_booking_change", args=[failed.pk]),
        reverse("admin:bookings_medicalservice_change", args=[confirmed.items.get().service_id]),
        reverse(
            "admin:bookings_sagaevent_change",
            args=[SagaEvent.objects.filter(correlation_id=confirmed.correlation_id).first().pk],
        ),
        reverse("admin:bookings_auditlog_change", args=[AuditLog.objects.first().pk]),
        reverse("admin:quotas_discountquota_change", args=[clinic_today().isoformat()]),
        reverse(
            "admin:quotas_quotareservation_change",
            args=[QuotaReservation.objects.get(booking=confirmed).pk],
        ),
        reverse("admin:payments_payment_change", args=[Payment.objects.get(booking=failed).pk]),
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["Reception", "Clinic manager", "superuser"])
def test_every_list_and_detail_page_renders_for_staff(client, one_of_everything, who):
    client.force_login(superuser() if who == "superuser" else staff_member(who))
    for url in [reverse(name) for name in LIST_PAGES] + detail_pages(*one_of_everything):
        response = client.get(url)
        assert response.status_code == 200, url


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["Clinic manager", "superuser"])
def test_settings_and_gateway_ledger_render_for_those_allowed(client, one_of_everything, who):
    client.force_login(superuser() if who == "superuser" else staff_member(who))
    settings_page = client.get(reverse("admin:pricing_clinicsettings_changelist"), follow=True)
    assert settings_page.status_code == 200
    assert b"Default daily discount limit" in settings_page.content
    ledger = client.get(reverse("admin:payments_simulatedgatewaycharge_changelist"))
    assert ledger.status_code == 200
    charge = SimulatedGatewayCharge.objects.first()
    detail = client.get(reverse("admin:payments_simulatedgatewaycharge_change", args=[charge.pk]))
    assert detail.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_reception_sees_the_settings_but_not_the_gateway_ledger(client, one_of_everything):
    client.force_login(staff_member("Reception"))
    settings_page = client.get(reverse("admin:pricing_clinicsettings_changelist"), follow=True)
    assert settings_page.status_code == 200
    assert b"12.00%" in settings_page.content  # shown, not offered as an input
    assert b'name="discount_percent"' not in settings_page.content
    assert (
        client.get(reverse("admin:payments_simulatedgatewaycharge_changelist")).status_code == 403
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", LIST_PAGES)
def test_a_logged_out_visitor_is_sent_to_the_admin_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", LIST_PAGES)
def test_a_patient_account_is_sent_to_the_admin_login(client, name):
    client.force_login(UserFactory())  # not staff
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_staff_without_a_group_may_open_nothing(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("admin:bookings_booking_changelist")).status_code == 403
    index = client.get(reverse("admin:index"))
    assert b"today-at-a-glance" not in index.content
