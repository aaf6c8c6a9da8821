from quotas import services


def on_pricing_calculated(*, correlation_id, base_price, discount_eligible, **_) -> None:
    services.reserve_discount(
        correlation_id=correlation_id, base_price=base_price, discount_eligible=discount_eligible
    )


def on_compensation_triggered(*, correlation_id, **_) -> None:
    services.release_discount(correlation_id=correlation_id)


def on_cancellation_requested(*, correlation_id, requested_on, **_) -> None:
    services.release_on_cancellation(correlation_id=correlation_id, requested_on=requested_on)
