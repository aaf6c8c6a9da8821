"""The front desk's payment link in real browsers (issue 23): a receptionist books a
walk-in paid online, the desk page shows the QR code; the patient's phone (360 px, no
JavaScript) opens the link's hosted page at the Razorpay stand-in and pays by UPI; the
stand-in posts its signed webhooks over HTTP to the app's live server; the desk page,
refreshing itself, shows the booking confirmed."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from bookings.models import Booking, BookingStatus, SagaEvent
from bookings.services import clinic_today
from payments.models import Payment, PaymentStatus
from tests.support.admin_helpers import STAFF_PASSWORD, staff_member
from tests.support.razorpay import razorpay  # noqa: F401
from tests.support.scheduling import appointment_service, practitioner, slot


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_walk_in_scans_the_desks_qr_code_pays_by_upi_and_the_desk_sees_it_confirmed(
    page,
    shot,
    browser,
    live_server,
    razorpay,  # noqa: F811
):
    razorpay.webhook_url = f"{live_server.url}/webhooks/razorpay"  # over HTTP to the app
    consult = appointment_service("900.00", name="Browser Consultation")
    doctor = practitioner(consult, name="Dr. Browser Rao")
    place = slot(doctor, day=clinic_today() + timedelta(days=1), at=(10, 0), capacity=1)
    staff_member("Reception", username="rekha")

    page.goto("/admin/")
    page.fill("#id_username", "rekha")
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"/admin/front-desk/book/?day={place.start.date().isoformat()}")
    page.fill("#id_patient_name", "Gopal Menon")
    page.select_option("#id_gender", "male")
    page.fill("#id_date_of_birth", "1975-03-09")
    page.fill("#id_phone", "98765 43210")
    page.check(f"input[name=services][value='{consult.pk}']")
    page.check(f"input[name=slot][value='{place.pk}']")
    expect(page.locator("input[name=payment]")).to_have_count(3)  # cash, counter card, link
    page.check("input[name=payment][value=payment_link]")
    page.click("input[type=submit][value=Book]")
    expect(page.locator("#desk-payment-link")).to_contain_text("Waiting for Gopal Menon")
    expect(page.locator("#payment-link-qr svg")).to_be_visible()
    shot(page, "1-desk-shows-the-qr-code")
    booking = Booking.objects.get(patient_name="Gopal Menon")
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    url = Payment.objects.get(booking=booking).payment_link_url

    phone = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    try:
        scanned = phone.new_page()
        scanned.goto(url)
        expect(scanned.locator("h1")).to_have_text("Pay ₹900.00")
        scanned.click("button[value=upi]")
        expect(scanned.locator("h1")).to_have_text("Paid ₹900.00")
        assert scanned.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        phone.close()

    # No click at the desk: the page refreshes itself until the webhook has confirmed it.
    expect(page.locator("#desk-payment-link")).to_contain_text(
        "Paid: Gopal Menon is booked", timeout=20_000
    )
    shot(page, "2-desk-sees-it-paid")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    payment = Payment.objects.get(booking=booking)
    assert payment.status == PaymentStatus.CAPTURED
    assert {status for _, status in razorpay.sent} == {200}
    assert "payment_link.paid" in {webhook.event for webhook, _ in razorpay.sent}
    completed = SagaEvent.objects.filter(
        correlation_id=booking.correlation_id, event_type="PaymentCompleted"
    )
    assert completed.count() == 1
