"""Real races for the tests: threads released at the same instant by one barrier.

Each thread gets its own database connection (Django's are per thread) and closes
it when done, so the races happen in PostgreSQL, between real transactions.

A large race takes one connection per racer. `make test` runs two pytest-xdist
workers against one server (max_connections 100 by default, less a superuser
reserve), so two 50-racer tests at the same moment ran out of connections ("sorry,
too many clients already"). Large races therefore take turns across processes: each
holds a server-wide advisory lock for its duration (advisory locks are per
database, so the lock lives in the server's `postgres` database, which every
worker's connection can reach whatever its test database is called).
"""

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import psycopg
from django.db import connection

T = TypeVar("T")

# Races up to this many threads run freely beside one large race of another worker.
SMALL_RACE = 8
# pg_advisory_lock's key for "a large race is running" (any constant; "RACE" in ASCII).
LARGE_RACE_LOCK = 0x52414345


@contextmanager
def large_race_turn(racers: int) -> Iterator[None]:
    """Wait until no other process runs a large race, and hold the turn meanwhile."""
    if racers <= SMALL_RACE or connection.vendor != "postgresql":
        yield
        return
    server = connection.settings_dict
    with psycopg.connect(
        dbname="postgres",
        host=server["HOST"] or None,
        port=server["PORT"] or None,
        user=server["USER"] or None,
        password=server["PASSWORD"] or None,
        autocommit=True,
    ) as turn:
        turn.execute("SELECT pg_advisory_lock(%s)", [LARGE_RACE_LOCK])
        try:
            yield
        finally:
            turn.execute("SELECT pg_advisory_unlock(%s)", [LARGE_RACE_LOCK])


def outcomes_at_once(actions: Sequence[Callable[[], T]]) -> list[T | BaseException]:
    """Start every action in its own thread at once; what each returned or raised, in order."""
    start = threading.Barrier(len(actions))
    outcomes: list[T | BaseException] = [None] * len(actions)  # type: ignore[list-item]

    def run(index: int, action: Callable[[], T]) -> None:
        try:
            start.wait()
            outcomes[index] = action()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    with large_race_turn(len(actions)):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return outcomes


def at_once(actions: Sequence[Callable[[], T]]) -> list[T]:
    """As outcomes_at_once, for races in which nothing may raise."""
    outcomes = outcomes_at_once(actions)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert errors == [], errors
    return outcomes  # type: ignore[return-value]
