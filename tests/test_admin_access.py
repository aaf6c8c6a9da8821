"""Who may open the admin's pages: staff in the clinic's groups and superusers; nobody else."""

from datetime import datetime, time

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import AuditLog, PatientProfile, SagaEvent
from bookings.services import clinic_today
from payments.models import Payment, SimulatedGatewayCharge
from quotas.models import QuotaReservation
from tests.support.admin_helpers import staff_member, superuser
from tests.support.factories import PatientProfileFactory, UserFactory

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
# The Clinic manager's (and superusers'): Reception works without them (issue 17).
TECHNICAL = ("/admin/bookings/sagaevent/", "/admin/bookings/auditlog/")


@pytest.fixture
def one_of_everything(book, set_default_limit):
    """A discounted confirmed booking and a declined one: rows on every list."""
    set_default_limit(5)
    confirmed = book(prices=("2500.00",))
    failed = book(prices=("1500.00",), payment_token="tok_chargeDeclined")
    PatientProfileFactory(user=confirmed.user)
    # What people did is audited (saga steps are not): the desk checks the patient in.
    AuditLog.record(
        actor="rekha",
        action="booking.checked_in",
        obj=confirmed,
        correlation_id=confirmed.correlation_id,
        before={"status": "confirmed"},
        after={"status": "completed"},
    )
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
        reverse("admin:bookings_patientprofile_change", args=[PatientProfile.objects.get().pk]),
    ]


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("who", ["Reception", "Clinic manager", "superuser"])
def test_every_list_and_detail_page_renders_for_staff(client, one_of_everything, who):
    client.force_login(superuser() if who == "superuser" else staff_member(who))
    for url in [reverse(name) for name in LIST_PAGES] + detail_pages(*one_of_everything):
        response = client.get(url)
        technical = url.startswith(TECHNICAL)
        assert response.status_code == (403 if who == "Reception" and technical else 200), url


@pytest.mark.usefixtures("commits")
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


@pytest.mark.usefixtures("commits")
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


def filters_and_searches(confirmed, failed) -> list[tuple[str, dict[str, str]]]:
    """Every filter and search box of every list, with a value that matches something."""
    today = clinic_today().isoformat()
    start_of_today = str(timezone.make_aware(datetime.combine(clinic_today(), time.min)))
    cid = str(confirmed.correlation_id)
    return [
        ("admin:bookings_booking_changelist", {"status__exact": "failed"}),
        ("admin:bookings_booking_changelist", {"discount_applied__exact": "1"}),
        ("admin:bookings_booking_changelist", {"quota_exhausted__exact": "0"}),
        ("admin:bookings_booking_changelist", {"clinic_day__gte": today}),
        ("admin:bookings_booking_changelist", {"q": "asha"}),
        ("admin:bookings_medicalservice_changelist", {"active__exact": "1", "q": "test"}),
        ("admin:bookings_sagaevent_changelist", {"event_type": "BookingFailed"}),
        ("admin:bookings_sagaevent_changelist", {"q": cid}),
        ("admin:bookings_sagaevent_changelist", {"q": "Payment"}),
        ("admin:bookings_auditlog_changelist", {"action": "booking.failed"}),
        ("admin:bookings_auditlog_changelist", {"object_type": "bookings.Booking"}),
        ("admin:bookings_auditlog_changelist", {"q": cid}),
        ("admin:bookings_auditlog_changelist", {"q": "system:payments"}),
        ("admin:bookings_patientprofile_changelist", {"q": "asha"}),
        ("admin:quotas_discountquota_changelist", {"day__year": today[:4]}),
        ("admin:quotas_quotareservation_changelist", {"released_at__isempty": "0"}),
        ("admin:quotas_quotareservation_changelist", {"quota__day__gte": today}),
        ("admin:quotas_quotareservation_changelist", {"q": cid}),
        ("admin:quotas_quotareservation_changelist", {"q": "asha"}),
        ("admin:payments_payment_changelist", {"status__exact": "declined"}),
        ("admin:payments_payment_changelist", {"created_at__gte": start_of_today}),
        ("admin:payments_payment_changelist", {"q": str(failed.pk)}),
        ("admin:payments_payment_changelist", {"q": "asha"}),
    ]


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("who", ["Reception", "Clinic manager"])
def test_every_filter_and_search_renders_results_for_staff(client, one_of_everything, who):
    client.force_login(staff_member(who))
    for name, query in filters_and_searches(*one_of_everything):
        if who == "Reception" and reverse(name).startswith(TECHNICAL):
            assert client.get(reverse(name), query).status_code == 403, name
            continue
        response = client.get(reverse(name), query)
        assert response.status_code == 200, (name, query)
        # A bad filter makes the admin redirect with ?e=1; a match shows at least one row.
        assert "result_list" in response.text, (name, query)


@pytest.mark.usefixtures("commits")
@pytest.mark.parametrize("who", ["Clinic manager", "superuser"])
def test_crafted_posts_to_payments_events_and_reservations_are_refused(
    client, one_of_everything, who
):
    client.force_login(superuser() if who == "superuser" else staff_member(who))
    confirmed, failed = one_of_everything
    payment = Payment.objects.get(booking=confirmed)
    event = SagaEvent.objects.filter(correlation_id=confirmed.correlation_id).first()
    reservation = QuotaReservation.objects.get(booking=confirmed)
    attempts = [
        ("admin:payments_payment_change", payment.pk, {"amount": "1.00", "status": "refunded"}),
        ("admin:bookings_sagaevent_change", event.pk, {"event_type": "BookingFailed"}),
        ("admin:quotas_quotareservation_change", reservation.pk, {"released_at": "2026-01-01"}),
    ]
    for name, pk, data in attempts:
        assert client.post(reverse(name, args=[pk]), data).status_code == 403, name
        delete = reverse(name.replace("_change", "_delete"), args=[pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403, name
    payment_after = Payment.objects.get(pk=payment.pk)
    assert (payment_after.amount, payment_after.status) == (payment.amount, payment.status)
    assert SagaEvent.objects.get(pk=event.pk).event_type == event.event_type
    assert QuotaReservation.objects.get(pk=reservation.pk).released_at is None
