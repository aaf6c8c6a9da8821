"""Medical services in the admin: add, edit, deactivate, audited; never deleted while booked."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from bookings.models import AuditLog, BookingItem, MedicalService
from tests.support.admin_helpers import staff_member, superuser


def service_form(**fields: str) -> dict[str, str]:
    return {
        "name_en": "Vitamin D",
        "name_hi": "",
        "description_en": "25-OH vitamin D.",
        "description_hi": "",
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
    response = manager.post(
        url, service_form(name_en=service.name, price="650.00", description_en="")
    )
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
        reverse("admin:bookings_medicalservice_add"), service_form(name_en="ECG (resting)")
    )
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors["name_en"])
    assert MedicalService.objects.filter(name="ECG (resting)").count() == 1


# --- The Hindi name and description (django-modeltranslation) -------------------------


@pytest.mark.django_db
def test_a_manager_writes_the_hindi_name_and_description_and_it_is_audited(manager):
    form = service_form(name_hi="विटामिन डी", description_hi="25-ओएच विटामिन डी की जाँच।")
    assert manager.post(reverse("admin:bookings_medicalservice_add"), form).status_code == 302
    service = MedicalService.objects.get(name_en="Vitamin D")
    assert (service.name_hi, service.description_hi) == ("विटामिन डी", "25-ओएच विटामिन डी की जाँच।")
    with translation.override("hi"):
        assert (service.name, service.description) == ("विटामिन डी", "25-ओएच विटामिन डी की जाँच।")
    assert (service.name, service.description) == ("Vitamin D", "25-OH vitamin D.")
    entry = AuditLog.objects.get(action="service.created", object_id=str(service.pk))
    assert (entry.after["name"], entry.after["name_hi"]) == ("Vitamin D", "विटामिन डी")

    url = reverse("admin:bookings_medicalservice_change", args=[service.pk])
    changed = service_form(name_hi="विटामिन डी3", description_hi="25-ओएच विटामिन डी की जाँच।")
    assert manager.post(url, changed).status_code == 302
    entry = AuditLog.objects.get(action="service.changed", object_id=str(service.pk))
    assert (entry.before["name_hi"], entry.after["name_hi"]) == ("विटामिन डी", "विटामिन डी3")


@pytest.mark.django_db
def test_the_add_page_asks_for_both_languages_and_english_is_required(manager):
    page = manager.get(reverse("admin:bookings_medicalservice_add")).text
    assert 'name="name_en"' in page and 'name="name_hi"' in page
    assert 'name="description_hi"' in page
    response = manager.post(reverse("admin:bookings_medicalservice_add"), service_form(name_en=""))
    assert response.status_code == 200
    assert "name_en" in response.context["adminform"].form.errors
    assert "name_hi" not in response.context["adminform"].form.errors


@pytest.mark.django_db
def test_services_without_a_hindi_name_do_not_clash(manager):
    """A blank Hindi name is stored as NULL: the names are unique in each language, and
    two services without Hindi must not collide on an empty string."""
    add = reverse("admin:bookings_medicalservice_add")
    assert manager.post(add, service_form(name_en="Vitamin D")).status_code == 302
    assert manager.post(add, service_form(name_en="Vitamin B12")).status_code == 302
    assert list(
        MedicalService.objects.filter(name_en__startswith="Vitamin").values_list(
            "name_hi", flat=True
        )
    ) == [None, None]


@pytest.mark.django_db
def test_a_duplicate_hindi_name_is_refused_with_a_message(manager):
    add = reverse("admin:bookings_medicalservice_add")
    assert (
        manager.post(add, service_form(name_en="Vitamin D", name_hi="विटामिन")).status_code == 302
    )
    response = manager.post(add, service_form(name_en="Vitamin B12", name_hi="विटामिन"))
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors["name_hi"])


@pytest.mark.django_db
def test_saving_from_the_admin_in_hindi_keeps_the_english_in_the_original_column(manager):
    """The original `name` column (its unique index, migrations, billing's reads through
    Booking) holds English whatever language the admin was shown in."""
    form = service_form(name_hi="विटामिन डी")
    response = manager.post(
        reverse("admin:bookings_medicalservice_add"), form, HTTP_ACCEPT_LANGUAGE="hi"
    )
    assert response.status_code == 302
    assert list(MedicalService.objects.raw_values("name").filter(name_en="Vitamin D")) == [
        {"name": "Vitamin D"}
    ]
