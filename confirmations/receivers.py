from confirmations import services


def on_payment_completed(*, correlation_id, booking_id, appointment_start, **_) -> None:
    services.confirm_booking(
        correlation_id=correlation_id, booking_id=booking_id, appointment_start=appointment_start
    )
