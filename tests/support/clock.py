"""The clock the tests stop or set: one fixed clinic morning, in IST."""

from datetime import datetime
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")
# 08:00 IST on a Thursday: a walk-in's visit (which ends at midnight) is 16 hours away,
# so what a cancellation refunds, and what a move allows, does not depend on the hour
# the suite happens to run at.
MORNING = datetime(2026, 12, 10, 8, 0, tzinfo=IST)
