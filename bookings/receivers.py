from bookings import services


def on_compensation_triggered(*, correlation_id, reason, **_) -> None:
    services.fail_booking(correlation_id=correlation_id, reason=reason)


def on_cancellation_requested(*, correlation_id, reason, refund_amount, **_) -> None:
    services.mark_cancelled(
        correlation_id=correlation_id, reason=reason, refund_amount=refund_amount
    )
