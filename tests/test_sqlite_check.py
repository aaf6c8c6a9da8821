"""`make run` runs on the embedded SQLite: one too old for RETURNING is said at start-up."""

import sqlite3

from portal.ops.checks import returning_problems, sqlite_takes_returning

SQLITE = "django.db.backends.sqlite3"


def test_an_old_sqlite_is_refused_with_what_to_do():
    (error,) = returning_problems(engine=SQLITE, version=(3, 31, 1))

    assert error.id == "portal.E001" and "3.31.1" in error.msg


def test_this_machines_sqlite_and_postgresql_pass():
    assert returning_problems(engine=SQLITE, version=sqlite3.sqlite_version_info) == []
    assert sqlite_takes_returning(None) == []  # PostgreSQL in the tests
