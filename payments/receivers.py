from payments import services


def on_discount_quota_reserved(*, correlation_id, final_price, **_) -> None:
    services.charge_booking(correlation_id=correlation_id, final_price=final_price)


def on_compensation_triggered(*, correlation_id, **_) -> None:
    services.reverse_payment(correlation_id=correlation_id)


def on_cancellation_requested(*, correlation_id, refund_amount, **_) -> None:
    services.refund_cancellation(correlation_id=correlation_id, refund_amount=refund_amount)
