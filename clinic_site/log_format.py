"""Structured log lines: one JSON object per line, with the saga's ids and nothing personal.

`SagaContextFilter` copies the ids bound by `bookings.log_context.saga_log_context`
onto every record, and `JsonFormatter` writes only an allow-list of fields, so a
patient's name or date of birth cannot reach the log through `extra=` by accident.
"""

import json
import logging
from datetime import UTC, datetime
from typing import Any

from bookings.log_context import bound_saga_fields

# Fields a record may carry into a log line, besides time, level, logger and message.
STRUCTURED_FIELDS = ("correlation_id", "booking_id", "event", "step", "action")


class SagaContextFilter(logging.Filter):
    """Put the bound saga ids on each record (values given with `extra=` win)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in bound_saga_fields().items():
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
