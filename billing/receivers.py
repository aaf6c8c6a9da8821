from billing import services


def on_payment_completed(*, correlation_id, payment_id, amount, method, booking_id, **_) -> None:
    services.issue_receipt(
        correlation_id=correlation_id,
        booking_id=booking_id,
        payment_id=payment_id,
        amount=amount,
        method=method,
    )


def on_payment_refunded(*, correlation_id, refund_id, amount, **_) -> None:
    services.issue_refund_note(correlation_id=correlation_id, refund_id=refund_id, amount=amount)
