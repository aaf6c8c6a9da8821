from bookings import services


def on_compensation_triggered(*, correlation_id, reason, **_) -> None:
    services.fail_booking(correlation_id=correlation_id, reason=reason)
