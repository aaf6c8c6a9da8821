"""Commit hooks that run in a plain `django_db` test as if each transaction committed.

A plain `django_db` test runs inside one transaction that is rolled back at the end,
so `transaction.on_commit` callbacks would never run and the saga (whose steps follow
each other on commit) would stop after its first step. `transaction=True` makes them
run, but flushes every table after each test: most of the suite's time went there.

`run_commit_hooks` gives the code under test the commits it would see in production
without committing: an `on_commit` outside the code's own `atomic` runs at once (as in
autocommit), and the callbacks of the code's outermost `atomic` run when it exits
without error (a rolled-back savepoint drops its callbacks, as Django always does). The
test's own atomic blocks (marked `_from_testcase` by Django) do not count as the code's.

Keep `transaction=True` where the point is a real commit: other threads or processes
reading the rows, races, crashes, or a dropped connection.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.transaction import Atomic, get_connection

logger = logging.getLogger("django.db.backends.base")


def _only_test_blocks(connection: BaseDatabaseWrapper) -> bool:
    """True when the code under test is outside any atomic block of its own."""
    return connection.in_atomic_block and all(
        block._from_testcase for block in connection.atomic_blocks
    )


def _run_pending(connection: BaseDatabaseWrapper) -> None:
    # As run_and_clear_commit_hooks after a real commit (it refuses inside a block).
    pending, connection.run_on_commit = connection.run_on_commit, []
    for _, func, robust in pending:
        if robust:
            try:
                func()
            except Exception:  # as Django: a robust hook's error is logged, not raised
                logger.exception("Error calling %s in on_commit()", func.__qualname__)
        else:
            func()


@contextmanager
def run_commit_hooks(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    connection = connections[using]
    original_exit = Atomic.__exit__
    original_on_commit = type(connection).on_commit

    def exit_then_commit(self: Atomic, exc_type, exc_value, traceback):
        result = original_exit(self, exc_type, exc_value, traceback)
        if (
            get_connection(self.using) is connection  # not another thread's
            and exc_type is None
            and not connection.needs_rollback
            and _only_test_blocks(connection)
        ):
            _run_pending(connection)
        return result

    def on_commit(self: BaseDatabaseWrapper, func, robust: bool = False) -> None:
        if self is connection and _only_test_blocks(connection):
            if not callable(func):
                raise TypeError("on_commit()'s callback must be a callable.")
            self.run_on_commit.append((set(), func, robust))
            _run_pending(connection)  # autocommit: at once
            return
        original_on_commit(self, func, robust)

    Atomic.__exit__ = exit_then_commit  # type: ignore[method-assign]
    type(connection).on_commit = on_commit  # type: ignore[method-assign]
    try:
        yield
    finally:
        Atomic.__exit__ = original_exit  # type: ignore[method-assign]
        type(connection).on_commit = original_on_commit  # type: ignore[method-assign]
