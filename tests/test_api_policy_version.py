"""The API's booking answer links the cancellation policy version it was sold under
(`cancellation_policy`: version and url), the url answers that version even after a
newer one is published, and the answer built from the events carries it too."""

from decimal import Decimal

import pytest

from pricing.models import CancellationPolicy, CancellationTier
from tests.support.bodies import booking_body

pytestmark = pytest.mark.usefixtures("commits", "default_cancellation_policy", "morning")


def publish(*, fee: str) -> CancellationPolicy:
    policy = CancellationPolicy.objects.create(reschedule_until_hours_before=4, max_reschedules=2)
    CancellationTier.objects.create(
        policy=policy, min_hours_before=24, refund_percent=Decimal("100"), fee=Decimal(fee)
    )
    return policy


def test_the_booking_answer_links_the_version_it_was_sold_under(patient_api, service_priced):
    sold_under = CancellationPolicy.objects.order_by("-pk").first()
    made = patient_api.post("/api/booking", booking_body(service_priced("500.00")), format="json")
    assert made.status_code == 201, made.json()
    linked = made.json()["cancellation_policy"]
    assert linked == {
        "version": sold_under.pk,
        "url": f"/api/config/cancellation?version={sold_under.pk}",
    }
    newer = publish(fee="75.00")
    read_back = patient_api.get(f"/api/booking/{made.json()['id']}/status").json()
    assert read_back["cancellation_policy"] == linked  # a newer version changes nothing
    terms = patient_api.get(linked["url"]).json()
    assert terms["version"] == sold_under.pk
    assert [t["fee"] for t in terms["tiers"]] != ["75.00"]
    assert patient_api.get("/api/config/cancellation").json()["version"] == newer.pk


@pytest.mark.parametrize(("asked", "status"), [("abc", 400), ("0", 400), ("99999", 404)])
def test_an_unknown_or_malformed_version_is_told(api, asked, status):
    answer = api.get(f"/api/config/cancellation?version={asked}")
    assert answer.status_code == status
    assert "version" in str(answer.json()) or status == 404
