"""Document numbers: `<prefix>/<FY>/<serial>`, consecutive per series and financial year.

The serial is taken from the series' counter row for the financial year by one
conditional `UPDATE … RETURNING` inside the transaction that writes the document: the
row stays locked until that transaction ends, so a second issuer waits and gets the
next number, and a transaction that fails after taking a number rolls the counter back
with it (no gap). The row of a new year is created race-free by `INSERT … ON CONFLICT
DO NOTHING` the first time the UPDATE finds none.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection, models
from django.utils import timezone

from billing.models import BillingSettings, DocumentCounter, Series

SERIAL_DIGITS = {Series.DOCUMENTS: 5, Series.REFUND_NOTES: 4}
SERIES_MARK = {Series.DOCUMENTS: "", Series.REFUND_NOTES: "R"}


def financial_year_of(day: date) -> int:
    """The Indian financial year (April to March) holding `day`, by its first year."""
    return day.year if day.month >= 4 else day.year - 1


def clinic_date(moment: datetime) -> date:
    """The clinic's date (IST) of `moment`: the financial year turns at 1 April 00:00 IST."""
    return timezone.localdate(moment)


def fy_label(financial_year: int) -> str:
    return f"{financial_year % 100:02d}-{(financial_year + 1) % 100:02d}"


def format_number(*, prefix: str, series: str, financial_year: int, serial: int) -> str:
    digits = SERIAL_DIGITS[Series(series)]
    return f"{prefix}/{fy_label(financial_year)}/{SERIES_MARK[Series(series)]}{serial:0{digits}d}"


@dataclass(frozen=True)
class Clinic:
    """The clinic as a document names it (BillingSettings' row, read with the number)."""

    legal_name: str
    address: str
    state: str
    gstin: str
    receipt_prefix: str


CLINIC_FIELDS = ("legal_name", "address", "state", "gstin", "receipt_prefix")


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)  # a concrete column, not a relation's far side
    assert field.column is not None
    return field.column


def take_serial(*, series: str, financial_year: int) -> tuple[int, Clinic]:
    """The next serial of `series` in `financial_year`, and the clinic's billing settings
    (read by the same statement: one round trip). Call inside the document's transaction:
    the counter row stays locked until it ends, and is rolled back with it."""
    quote = connection.ops.quote_name
    table = quote(DocumentCounter._meta.db_table)
    last, series_col, year_col = (
        quote(_column(DocumentCounter, name))
        for name in ("last_serial", "series", "financial_year")
    )
    # The settings as scalar subqueries of RETURNING (SQLite's RETURNING may not name
    # an UPDATE … FROM table; PostgreSQL takes either).
    clinic_table = quote(BillingSettings._meta.db_table)
    clinic_columns = ", ".join(
        f"(SELECT {quote(_column(BillingSettings, name))} FROM {clinic_table} "
        f"WHERE {quote('id')} = {BillingSettings.SINGLETON_ID})"
        for name in CLINIC_FIELDS
    )
    update = (
        f"UPDATE {table} SET {last} = {last} + 1 "
        f"WHERE {series_col} = %s AND {year_col} = %s "
        f"RETURNING {last}, {clinic_columns}"
    )
    with connection.cursor() as cursor:
        cursor.execute(update, (series, financial_year))
        row = cursor.fetchone()
        if row is None:  # the year's first document: make its row, then take from it
            cursor.execute(
                f"INSERT INTO {table} ({series_col}, {year_col}, {last}) VALUES (%s, %s, 0) "
                f"ON CONFLICT ({series_col}, {year_col}) DO NOTHING",
                (series, financial_year),
            )
            cursor.execute(update, (series, financial_year))
            row = cursor.fetchone()
    if row[1] is None:
        raise BillingSettings.DoesNotExist("the billing settings row is missing (migrate)")
    return row[0], Clinic(*row[1:])
