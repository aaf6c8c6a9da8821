from scheduling import services


def on_compensation_triggered(*, correlation_id, **_) -> None:
    services.release_slot(correlation_id=correlation_id)


def on_cancellation_requested(*, correlation_id, **_) -> None:
    services.release_on_cancellation(correlation_id=correlation_id)
