from confirmations import services


def on_payment_completed(*, correlation_id, **_) -> None:
    services.confirm_booking(correlation_id=correlation_id)
