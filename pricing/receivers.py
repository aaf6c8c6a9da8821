from pricing import services


def on_booking_requested(
    *, correlation_id, booking_id, clinic_day, gender, date_of_birth, prices, **_
) -> None:
    services.calculate_price(
        correlation_id=correlation_id,
        booking_id=booking_id,
        clinic_day=clinic_day,
        gender=gender,
        date_of_birth=date_of_birth,
        prices=prices,
    )
