"""Real races for the tests: threads released at the same instant by one barrier.

Each thread gets its own database connection (Django's are per thread) and closes
it when done, so the races happen in PostgreSQL, between real transactions.
"""

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


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
