from pricing import services


def on_booking_requested(*, correlation_id, booking_id, **_) -> None:
    services.calculate_price(correlation_id=correlation_id, booking_id=booking_id)
