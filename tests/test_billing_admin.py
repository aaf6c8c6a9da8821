"""Billing in the admin: the manager edits the clinic's billing settings (a GSTIN is
checked); documents are read-only for everyone, listed by financial year and kind, and
found by number."""

import pytest
from django.urls import reverse

from billing.models import BillingSettings, Document
from bookings.models import AuditLog
from portal.flows import cancel_booking
from tests.support.admin_helpers import staff_member

pytestmark = [
    pytest.mark.usefixtures("commits"),
    pytest.mark.usefixtures("default_cancellation_policy"),
]

SETTINGS_URL = reverse("admin:billing_billingsettings_change", args=[1])


def settings_form(**fields: str) -> dict[str, str]:
    return {
        "legal_name": "Asha Clinic LLP",
        "address": "12 MG Road, Bengaluru",
        "state": "29",
        "gstin": "29AAGCB7383J1Z4",
        "receipt_prefix": "ASC",
        **fields,
    }


def test_the_manager_registers_the_clinic_and_it_is_audited(client):
    client.force_login(staff_member("Clinic manager"))
    assert client.post(SETTINGS_URL, settings_form()).status_code == 302
    assert BillingSettings.objects.get().gstin == "29AAGCB7383J1Z4"
    entry = AuditLog.objects.get(action="billing_settings.changed")
    assert entry.after["gstin"] == "29AAGCB7383J1Z4" and entry.before["gstin"] == ""


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"gstin": "29AAGCB7383J1Z5"}, "does not match"),
        ({"gstin": "27AAPFU0939F1ZV"}, "registered in state 27"),
        ({"receipt_prefix": "CLINIC"}, "at most 4 characters"),
    ],
)
def test_a_wrong_gstin_or_prefix_is_refused_with_a_message(client, fields, message):
    client.force_login(staff_member("Clinic manager"))
    answer = client.post(SETTINGS_URL, settings_form(**fields))
    assert answer.status_code == 200
    assert message in answer.content.decode()
    assert BillingSettings.objects.get().gstin == ""


def test_reception_sees_the_settings_but_cannot_change_them(client):
    client.force_login(staff_member("Reception"))
    assert client.get(SETTINGS_URL).status_code == 200
    assert client.post(SETTINGS_URL, settings_form()).status_code == 403


def test_documents_are_listed_by_year_and_kind_found_by_number_and_never_edited(client, book):
    booking = book(prices=("800.00",))
    cancel_booking(booking=booking, actor="desk", by_staff=True, reason="away")
    receipt = Document.objects.get(kind="receipt")
    client.force_login(staff_member("Reception"))
    changelist = reverse("admin:billing_document_changelist")

    found = client.get(changelist, {"q": receipt.number}).content.decode()
    assert receipt.number in found and "/R0001" not in found
    by_kind = client.get(changelist, {"kind__exact": "refund_note"}).content.decode()
    assert "/R0001" in by_kind and receipt.number + "<" not in by_kind
    by_year = client.get(changelist, {"financial_year": str(receipt.financial_year)})
    assert receipt.number in by_year.content.decode()
    page = client.get(reverse("admin:billing_document_change", args=[receipt.pk]))
    assert page.status_code == 200 and 'name="total"' not in page.content.decode()
    assert (
        client.post(reverse("admin:billing_document_delete", args=[receipt.pk])).status_code == 403
    )


def test_the_accountant_exports_a_date_range_as_csv(client, book):
    import csv
    import io
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    ist = ZoneInfo("Asia/Kolkata")
    with time_machine.travel(datetime(2026, 12, 9, 10, 0, tzinfo=ist)):
        book(prices=("300.00",))  # the day before the range
    with time_machine.travel(datetime(2026, 12, 10, 10, 0, tzinfo=ist)):
        booking = book(prices=("800.00",))
        cancel_booking(booking=booking, actor="desk", by_staff=True, reason="away")
    client.force_login(staff_member("Clinic manager"))

    answer = client.get(
        reverse("admin:billing_document_export"),
        {"issued_on__gte": "2026-12-10", "issued_on__lte": "2026-12-10"},
    )

    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:9] == [
        "number", "date", "kind", "patient", "taxable value", "CGST", "SGST", "total",
        "payment method",
    ]  # fmt: skip
    assert rows[1:] == [
        ["CLN/26-27/00002", "2026-12-10", "Receipt", "Asha Verma", "800.00", "0.00", "0.00",
         "800.00", "card", ""],
        ["CLN/26-27/R0001", "2026-12-10", "Refund note", "Asha Verma", "-800.00", "0.00",
         "0.00", "-800.00", "card", "CLN/26-27/00002"],
    ]  # fmt: skip
    bad = client.get(reverse("admin:billing_document_export"), {"issued_on__gte": "someday"})
    assert bad.status_code in (302, 400)  # never a 500


def test_the_documents_list_says_how_each_was_paid_in_words(client, book):
    book(prices=("800.00",))
    Document.objects.update(payment_method="pos")  # as a counter card's receipt records it
    client.force_login(staff_member("Reception"))

    listed = client.get(reverse("admin:billing_document_changelist")).content.decode()

    assert '<td class="field-paid_by_display">card at the counter</td>' in listed
