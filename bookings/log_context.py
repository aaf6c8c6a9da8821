"""The saga ids bound to the code running now, for every log line it writes.

`saga_log_context(...)` binds ids (correlation_id, booking_id, step);
`clinic_site.log_format` copies them onto each record. Kept in the kernel because
every saga step binds them; the formatting is the site's business.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# The saga ids bound for the code running now (a request, a recovery run).
_saga_fields: ContextVar[dict[str, str] | None] = ContextVar("saga_log_fields", default=None)


@contextmanager
def saga_log_context(**fields: Any) -> Iterator[dict[str, str]]:
    """Bind ids to every log line written inside; nested contexts add to the outer one.

    The dict yielded may be updated inside (e.g. with an id only known later).
    """
    current = dict(_saga_fields.get() or {})
    current.update({k: str(v) for k, v in fields.items() if v is not None})
    token = _saga_fields.set(current)
    try:
        yield current
    finally:
        _saga_fields.reset(token)


def bound_saga_fields() -> dict[str, str]:
    """The ids bound now (empty outside any saga_log_context)."""
    return _saga_fields.get() or {}
