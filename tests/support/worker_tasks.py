"""Tasks the real worker runs in tests (by dotted path, from the ORM queue)."""

import signal
import time


def deaf_to_alarms(seconds: float) -> None:
    """A task stuck where django-q2's own timeout (SIGALRM in the worker) cannot reach
    it, as a call blocked in C code would be: only the sentinel's kill ends it."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(seconds)
