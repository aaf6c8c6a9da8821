from quotas import services


def on_pricing_calculated(
    *, correlation_id, booking_id, clinic_day, base_price, discount_eligible, discount_percent, **_
) -> None:
    services.reserve_discount(
        correlation_id=correlation_id,
        booking_id=booking_id,
        clinic_day=clinic_day,
        base_price=base_price,
        discount_eligible=discount_eligible,
        discount_percent=discount_percent,
    )


def on_compensation_triggered(*, correlation_id, **_) -> None:
    services.release_discount(correlation_id=correlation_id)


def on_cancellation_requested(*, correlation_id, requested_on, **_) -> None:
    services.release_on_cancellation(correlation_id=correlation_id, requested_on=requested_on)
