"""Medical services in the admin: add, edit, deactivate, audited; never deleted while booked."""

from decimal import Decimal

import pytest
from django.urls import reverse

from bookings.models import AuditLog, BookingItem, MedicalService
from tests.support.admin_helpers import staff_member, superuser


def service_form(**fields: str) -> dict[str, str]:
    return {
        "name": "Vitamin D",
        "description": "25-OH vitamin D.",
        "price": "1200.00",
        "sac_code": "999316",
        "gst_rate": "0",
        "duration_minutes": "15",
        "active": "on",
        **fields,
    }


@pytest.fixture
def manager(client):
    client.force_login(staff_member("Clinic manager", username="dr_rao"))
    return client


@pytest.mark.django_db
def test_the_list_shows_prices_in_rupees(manager, service_priced):
    service_priced("125000.50", name="Full body check")
    response = manager.get(reverse("admin:bookings_medicalservice_changelist"))
    assert "₹1,25,000.50" in response.text


@pytest.mark.django_db
def test_a_manager_adds_a_service_and_it_is_audited(manager):
    response = manager.post(reverse("admin:bookings_medicalservice_add"), service_form())
    assert response.status_code == 302
    service = MedicalService.objects.get(name="Vitamin D")
    assert service.price == Decimal("1200.00") and service.active
    assert (service.sac_code, service.gst_rate) == ("999316", Decimal("0"))
    entry = AuditLog.objects.get(action="service.created", object_id=str(service.pk))
    assert entry.actor == "dr_rao" and entry.before is None
    assert entry.after["price"] == "1200.00"


@pytest.mark.django_db
def test_a_bad_price_is_refused_with_a_message(manager):
    for price in ("0", "-5", "abc"):
        response = manager.post(
            reverse("admin:bookings_medicalservice_add"), service_form(price=price)
        )
        assert response.status_code == 200
        assert "price" in response.context["adminform"].form.errors
    assert not MedicalService.objects.filter(name="Vitamin D").exists()


@pytest.mark.usefixtures("commits")
def test_a_price_change_is_audited_and_old_bookings_keep_their_price(manager, book):
    booking = book(prices=("500.00",))
    service = booking.items.get().service
    url = reverse("admin:bookings_medicalservice_change", args=[service.pk])
    response = manager.post(url, service_form(name=service.name, price="650.00", description=""))
    assert response.status_code == 302
    entry = AuditLog.objects.get(action="service.changed", object_id=str(service.pk))
    assert (entry.before["price"], entry.after["price"]) == ("500.00", "650.00")
    assert BookingItem.objects.get(booking=booking).price == Decimal("500.00")


@pytest.mark.django_db
def test_deactivating_services_is_audited(manager, service_priced):
    first, second = service_priced("300.00"), service_priced("400.00")
    response = manager.post(
        reverse("admin:bookings_medicalservice_changelist"),
        {"action": "deactivate", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )
    assert "2 service(s) deactivated" in response.text
    assert not MedicalService.objects.filter(pk__in=[first.pk, second.pk], active=True).exists()
    entries = AuditLog.objects.filter(action="service.deactivated")
    assert {e.object_id for e in entries} == {str(first.pk), str(second.pk)}
    assert all(e.before["active"] and not e.after["active"] for e in entries)


@pytest.mark.usefixtures("commits")
def test_a_booked_service_cannot_be_deleted_even_by_a_superuser(client, book):
    client.force_login(superuser())
    service = book().items.get().service
    page = client.get(reverse("admin:bookings_medicalservice_change", args=[service.pk]))
    assert "deletelink" not in page.text
    assert "cannot be deleted" in page.text
    delete = reverse("admin:bookings_medicalservice_delete", args=[service.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    listing = client.get(reverse("admin:bookings_medicalservice_changelist"))
    assert "delete_selected" not in listing.text
    assert MedicalService.objects.filter(pk=service.pk).exists()


@pytest.mark.django_db
def test_a_never_booked_service_may_be_deleted_by_a_superuser(client, service_priced):
    client.force_login(superuser())
    service = service_priced("300.00")
    delete = reverse("admin:bookings_medicalservice_delete", args=[service.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not MedicalService.objects.filter(pk=service.pk).exists()


@pytest.mark.django_db
def test_reception_sees_services_but_cannot_change_them(client, service_priced):
    client.force_login(staff_member("Reception"))
    service = service_priced("300.00")
    url = reverse("admin:bookings_medicalservice_change", args=[service.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, service_form(price="1.00")).status_code == 403
    assert client.get(reverse("admin:bookings_medicalservice_add")).status_code == 403
    assert MedicalService.objects.get(pk=service.pk).price == Decimal("300.00")


@pytest.mark.django_db
def test_a_duplicate_service_name_is_refused_with_a_message(manager, service_priced):
    service_priced("300.00", name="ECG (resting)")
    response = manager.post(
        reverse("admin:bookings_medicalservice_add"), service_form(name="ECG (resting)")
    )
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors["name"])
    assert MedicalService.objects.filter(name="ECG (resting)").count() == 1
