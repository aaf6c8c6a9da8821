"""Today's discount quota in the admin: at a glance, limit changes validated and audited."""

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings.models import AuditLog
from bookings.services import clinic_today
from quotas.models import DiscountQuota, QuotaReservation
from quotas.services import ensure_day
from tests.support.admin_helpers import staff_member


def change_url(day) -> str:
    return reverse("admin:quotas_discountquota_change", args=[day.isoformat()])


def form(**fields: str) -> dict[str, str]:
    """The change form's POST: its fields and the (read-only) reservations' management form."""
    return {
        "reservations-TOTAL_FORMS": "0",
        "reservations-INITIAL_FORMS": "0",
        "_save": "Save",
        **fields,
    }


@pytest.fixture
def reception(client):
    client.force_login(staff_member("Reception", username="meera"))
    return client


@pytest.fixture
def two_discounts_today(book, set_default_limit):
    set_default_limit(5)
    return [book(prices=("2500.00",)), book(prices=("1200.00",))]


@pytest.mark.usefixtures("commits")
def test_the_list_shows_today_with_used_limit_and_remaining(reception, two_discounts_today):
    response = reception.get(reverse("admin:quotas_discountquota_changelist"))
    assert response.status_code == 200
    row = response.text[response.text.index("(today)") :]
    cells = [c for c in (x.split("<")[0].strip() for x in row.split('">')[1:6]) if c.isdigit()]
    assert cells[:3] == ["2", "5", "3"]  # used, limit, remaining


@pytest.mark.django_db
def test_opening_the_list_makes_todays_row_with_the_default_limit(reception, set_default_limit):
    set_default_limit(40)
    assert reception.get(reverse("admin:quotas_discountquota_changelist")).status_code == 200
    assert DiscountQuota.objects.get(day=clinic_today()).limit == 40


@pytest.mark.usefixtures("commits")
def test_staff_lower_todays_limit_and_it_is_audited(reception, two_discounts_today):
    today = clinic_today()
    response = reception.post(change_url(today), form(limit="3"), follow=True)
    assert response.status_code == 200
    assert DiscountQuota.objects.get(day=today).limit == 3
    entry = AuditLog.objects.get(action="quota.limit_changed")
    assert entry.actor == "meera"
    assert entry.object_id == today.isoformat()
    assert entry.before == {"day": today.isoformat(), "limit": 5}
    assert entry.after == {"day": today.isoformat(), "limit": 3}


@pytest.mark.usefixtures("commits")
def test_a_limit_below_todays_used_is_refused_with_a_message(reception, two_discounts_today):
    today = clinic_today()
    response = reception.post(change_url(today), form(limit="1"))
    assert response.status_code == 200  # the form again, with the error
    assert "2 discounts are already granted" in response.text
    assert DiscountQuota.objects.get(day=today).limit == 5
    assert not AuditLog.objects.filter(action="quota.limit_changed").exists()


@pytest.mark.usefixtures("commits")
def test_a_negative_limit_is_refused(reception, two_discounts_today):
    response = reception.post(change_url(clinic_today()), form(limit="-1"))
    assert response.status_code == 200
    assert "errorlist" in response.text
    assert DiscountQuota.objects.get(day=clinic_today()).limit == 5


@pytest.mark.usefixtures("commits")
def test_discounts_granted_after_the_form_was_checked_still_stop_the_change(
    reception, two_discounts_today, monkeypatch
):
    """The service re-checks under the row lock; the admin says so instead of saving."""
    from quotas.admin import DiscountQuotaForm

    monkeypatch.setattr(DiscountQuotaForm, "clean_limit", lambda form: form.cleaned_data["limit"])
    today = clinic_today()
    response = reception.post(change_url(today), form(limit="1"), follow=True)
    assert response.redirect_chain == [(change_url(today), 302)]  # back to the form
    assert "2 discounts are already granted" in response.text  # as an error message
    assert "changed successfully" not in response.text
    assert DiscountQuota.objects.get(day=today).limit == 5
    assert not AuditLog.objects.filter(action="quota.limit_changed").exists()


@pytest.mark.usefixtures("commits")
def test_the_days_reservations_are_listed_on_its_page(reception, two_discounts_today):
    response = reception.get(change_url(clinic_today()))
    assert response.status_code == 200
    for reservation in QuotaReservation.objects.select_related("booking"):
        booking = reservation.booking
        assert reverse("admin:bookings_booking_change", args=[booking.pk]) in response.text
        assert f">{booking.confirmation_code}</a>" in response.text
        cid = str(reservation.correlation_id)
        assert cid not in response.text, response.text[response.text.index(cid) - 300 :][:400]
    assert response.text.count("Asha Verma") >= 2  # the patient, not a cut-off id
    assert "₹300.00" in response.text and "₹144.00" in response.text  # 12% of each


@pytest.mark.usefixtures("commits")
def test_a_days_page_is_titled_in_words(reception, two_discounts_today):
    today = clinic_today()
    response = reception.get(change_url(today))
    title = f"{today:%A} {today.day} {today:%B %Y}: 2 of 5 discounts given"
    assert f"<h1>{title}</h1>" in response.text
    assert f"{today.isoformat()}: 2/5" not in response.text


@pytest.mark.django_db
def test_a_past_day_is_shown_but_cannot_be_changed(reception):
    yesterday = clinic_today() - timedelta(days=1)
    ensure_day(yesterday)
    page = reception.get(change_url(yesterday))
    assert page.status_code == 200
    assert 'name="limit"' not in page.text
    response = reception.post(change_url(yesterday), form(limit="0"))
    assert response.status_code == 403
    assert DiscountQuota.objects.get(day=yesterday).limit == 100
    assert not AuditLog.objects.exists()


@pytest.mark.django_db
def test_used_cannot_be_changed_by_a_crafted_post(reception):
    today = clinic_today()
    ensure_day(today)
    reception.post(change_url(today), form(limit="7", used="6", day="2000-01-01"))
    quota = DiscountQuota.objects.get(day=today)
    assert (quota.used, quota.limit) == (0, 7)
    assert not DiscountQuota.objects.filter(day="2000-01-01").exists()


@pytest.mark.django_db
def test_quota_days_and_reservations_cannot_be_added_or_deleted(client):
    from tests.support.admin_helpers import superuser

    client.force_login(superuser())
    ensure_day(clinic_today())
    assert client.get(reverse("admin:quotas_discountquota_add")).status_code == 403
    delete = reverse("admin:quotas_discountquota_delete", args=[clinic_today().isoformat()])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:quotas_quotareservation_add")).status_code == 403
