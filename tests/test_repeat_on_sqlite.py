"""`make run` keeps its data in SQLite, whose unique-constraint errors name columns, not
constraints: a repeated saga step must be told from a real error there too. Only
`.correlation_id` columns were recognised, so a repeat caught by another step's own
constraint (a capture reversed twice: the proof and the webhook of one late payment; a
receipt issued twice) raised instead of being skipped. The errors here are SQLite's own."""

import sqlite3

import pytest
from django.db import IntegrityError

from bookings import events
from payments.models import ONE_REFUND_PER_SAGA, ONE_REVERSAL_PER_CAPTURE


def sqlite_unique_error(table: str, columns: tuple[str, ...]) -> IntegrityError:
    """The IntegrityError Django raises for SQLite's own error on inserting a row twice."""
    db = sqlite3.connect(":memory:")
    listed = ", ".join(columns)
    db.execute(f"CREATE TABLE {table} ({listed})")
    db.execute(f"CREATE UNIQUE INDEX once ON {table} ({listed})")
    row = f"INSERT INTO {table} VALUES ({', '.join('1' for _ in columns)})"
    db.execute(row)
    with pytest.raises(sqlite3.IntegrityError) as raised:
        db.execute(row)
    wrapped = IntegrityError(*raised.value.args)  # as django.db.utils wraps it
    wrapped.__cause__ = raised.value
    return wrapped


@pytest.mark.parametrize(
    ("constraint", "table", "columns"),
    [
        (ONE_REVERSAL_PER_CAPTURE, "payments_reversedcapture", ("gateway_payment_id",)),
        (ONE_REFUND_PER_SAGA, "payments_refund", ("correlation_id",)),
        (
            events.DUPLICATE_EVENT_CONSTRAINT,
            "bookings_sagaevent",
            ("correlation_id", "event_type", "occurrence"),
        ),
    ],
)
def test_a_repeat_is_recognised_by_the_constraint_sqlite_names(constraint, table, columns):
    error = sqlite_unique_error(table, columns)
    assert events._is_repeat(error, (constraint,))
    others = {ONE_REVERSAL_PER_CAPTURE, ONE_REFUND_PER_SAGA, events.DUPLICATE_EVENT_CONSTRAINT}
    assert not events._is_repeat(error, tuple(others - {constraint}))


def test_another_unique_error_on_sqlite_is_not_a_repeat():
    """A unique column that is not the step's guard (a confirmation code drawn twice) is a
    real error: raised, never skipped as done."""
    error = sqlite_unique_error("bookings_booking", ("confirmation_code",))
    assert not events._is_repeat(error, (events.DUPLICATE_EVENT_CONSTRAINT,))
