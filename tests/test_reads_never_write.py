"""GET pages and the public API read the settings rows (a migration makes them) and never
write: no INSERT or UPDATE, even where a row is missing (issue 21)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pricing.models import DiscountSettings
from quotas.models import QuotaSettings

PAGES = ["/", "/api/config/discount", "/api/quota/status", "/api/services"]


@pytest.mark.django_db
@pytest.mark.parametrize("missing", [False, True], ids=["rows-present", "rows-missing"])
@pytest.mark.parametrize("path", PAGES)
def test_a_read_writes_nothing(client, path, missing):
    if missing:
        DiscountSettings.objects.all().delete()
        QuotaSettings.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    assert writes == []
    assert DiscountSettings.objects.exists() is not missing
    assert QuotaSettings.objects.exists() is not missing


@pytest.mark.django_db
def test_a_missing_row_reads_as_the_migrations_defaults():
    DiscountSettings.objects.all().delete()
    QuotaSettings.objects.all().delete()
    assert str(DiscountSettings.current().discount_percent) == "12.00"
    assert QuotaSettings.current().default_daily_limit == 100
