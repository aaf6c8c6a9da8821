"""Structured log lines: one JSON object per line, with the saga's ids and nothing personal.

`saga_log_context(...)` binds ids (correlation_id, booking_id, step) for the code
running inside it; `SagaContextFilter` copies them onto every record, and
`JsonFormatter` writes only an allow-list of fields, so a patient's name or date
of birth cannot reach the log through `extra=` by accident.
"""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The saga ids bound for the code running now (a request, a recovery run).
_saga_fields: ContextVar[dict[str, str] | None] = ContextVar("saga_log_fields", default=None)

# Fields a record may carry into a log line, besides time, level, logger and message.
STRUCTURED_FIELDS = ("correlation_id", "booking_id", "event", "step", "action")


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


def bind_saga_log(**fields: Any) -> None:
    """Add ids to the enclosing saga_log_context, if there is one (else do nothing)."""
    current = _saga_fields.get()
    if current is not None:
        current.update({k: str(v) for k, v in fields.items() if v is not None})


class SagaContextFilter(logging.Filter):
    """Put the bound saga ids on each record (values given with `extra=` win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_saga_fields.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, allowed ids."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in STRUCTURED_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = str(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)
