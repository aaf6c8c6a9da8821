"""Issue 25: the cancellation terms are shown before paying, in words, for this booking
(a patient booking at 21:14 for 09:00 next morning lost ₹100 cancelling a minute later,
never told). English and Hindi."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from tests.support.scheduling import appointment_service, practitioner, slot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_cancellation_policy")]

# Friday 4 Dec 2026, 21:14 IST.
EVENING = datetime(2026, 12, 4, 15, 44, tzinfo=UTC)
DETAILS = {"patient_name": "Asha Verma", "gender": "female", "date_of_birth": "1990-01-02"}


def _terms(page: str) -> list[str]:
    block = page.split('class="cancellation-terms"')[1].split("</section>")[0]
    return [li.split("</li>")[0] for li in block.split("<li>")[1:]]


def test_the_review_page_says_what_comes_back_until_when_for_an_appointment(client, user):
    consult = appointment_service("500.00", name="Test consultation")
    doctor = practitioner(consult, name="Dr. Terms Rao")
    client.force_login(user)
    with time_machine.travel(EVENING, tick=False):
        morning = slot(doctor, day=date(2026, 12, 5), at=(9, 0))
        client.post("/book/", {**DETAILS, "services": [consult.pk]})
        client.post("/book/time/?day=2026-12-05", {"slot": morning.pk})
        page = client.get("/book/review/").content.decode()
    # Seeded tiers: 24 h all back; 6 h all back less ₹100; 2 h half; later nothing. At
    # 21:14 for 09:00 the first is over already: the fee applies from the start.
    assert _terms(page) == [
        "Cancelled until Saturday 5 December, 03:00 IST: everything you paid comes back, "
        "less a fee of ₹100.00.",
        "Cancelled until Saturday 5 December, 07:00 IST: 50% of what you paid comes back.",
        "Later than that: nothing comes back.",
    ]
    assert page.index("If you cancel") < page.index("Confirm &amp; Pay")


def test_a_walk_in_review_gives_the_terms_in_hours_and_in_hindi(client, user, service_priced):
    lab = service_priced("300.00", name="Test CBC")
    client.force_login(user)
    client.post("/book/", {**DETAILS, "services": [lab.pk]})
    page = client.get("/book/review/").content.decode()
    assert _terms(page)[0] == (
        "Cancelled at least 24 hours before the visit: everything you paid comes back."
    )
    assert "For a walk-in visit the hours count to the end of its day." in page
    hindi = client.get("/book/review/", HTTP_ACCEPT_LANGUAGE="hi").content.decode()
    assert _terms(hindi)[0] == (
        "विज़िट से कम से कम 24 घंटे पहले रद्द करने पर: चुकाई गई पूरी राशि वापस मिलती है।"
    )
    assert "अगर आप रद्द करें" in hindi
