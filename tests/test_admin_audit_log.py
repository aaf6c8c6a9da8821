"""The audit log in the admin: searchable by correlation id and actor, never editable."""

import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import AuditLog
from tests.support.admin_helpers import staff_member, superuser

CHANGELIST = "admin:bookings_auditlog_changelist"


def listed(response) -> set[int]:
    return {int(i) for i in re.findall(r"/admin/bookings/auditlog/(\d+)/change/", response.text)}


@pytest.fixture
def manager(client):
    # The audit log is the Clinic manager's since issue 17 (Reception works without it).
    client.force_login(staff_member("Clinic manager"))
    return client


def people_acted_on(*bookings) -> None:
    """Audit rows as people leave them (saga steps leave none): a check-in for each."""
    for booking in bookings:
        AuditLog.record(
            actor=f"desk-{booking.patient_name.split()[0].lower()}",
            action="booking.checked_in",
            obj=booking,
            correlation_id=booking.correlation_id,
        )


@pytest.mark.usefixtures("commits")
def test_search_by_correlation_id_finds_that_bookings_rows_only(manager, book):
    first, second = book(), book()
    people_acted_on(first, second)
    response = manager.get(reverse(CHANGELIST), {"q": str(first.correlation_id)})
    assert response.status_code == 200
    expected = set(
        AuditLog.objects.filter(correlation_id=first.correlation_id).values_list("pk", flat=True)
    )
    assert expected and listed(response) == expected
    assert not expected & set(
        AuditLog.objects.filter(correlation_id=second.correlation_id).values_list("pk", flat=True)
    )


@pytest.mark.usefixtures("commits")
def test_search_by_actor(manager, book):
    booking = book()
    people_acted_on(booking)
    AuditLog.record(actor="dr_rao", action="service.changed", obj=booking)
    response = manager.get(reverse(CHANGELIST), {"q": "dr_rao"})
    expected = set(AuditLog.objects.filter(actor="dr_rao").values_list("pk", flat=True))
    assert expected and listed(response) == expected


@pytest.mark.usefixtures("commits")
def test_the_booking_page_links_to_its_audit_rows(manager, book):
    booking = book()
    page = manager.get(reverse("admin:bookings_booking_change", args=[booking.pk]))
    assert f"?q={booking.correlation_id}" in page.text


@pytest.mark.django_db
def test_an_entry_shows_before_and_after_and_times_in_ist(manager, service_priced):
    service = service_priced("300.00")
    entry = AuditLog.record(
        actor="dr_rao",
        action="service.changed",
        obj=service,
        before={"price": "300.00"},
        after={"price": "350.00"},
    )
    page = manager.get(reverse("admin:bookings_auditlog_change", args=[entry.pk]))
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert '"price": "300.00"' in text and '"price": "350.00"' in text
    assert timezone.localtime(entry.at).strftime("%d %b %Y, %H:%M:%S IST") in text
    assert entry.at.strftime("%Y-%m-%d %H:%M") not in text  # never the UTC clock


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["Clinic manager", "superuser"])
def test_an_entry_cannot_be_changed_or_deleted(client, service_priced, who):
    client.force_login(superuser() if who == "superuser" else staff_member(who))
    entry = AuditLog.record(
        actor="dr_rao", action="service.changed", obj=service_priced("300.00"), after={"a": 1}
    )
    url = reverse("admin:bookings_auditlog_change", args=[entry.pk])
    assert client.post(url, {"actor": "someone else", "after": "{}"}).status_code == 403
    delete = reverse("admin:bookings_auditlog_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert (entry.actor, entry.after) == ("dr_rao", {"a": 1})
