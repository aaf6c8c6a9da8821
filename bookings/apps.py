from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self) -> None:
        # Explicit import: a broken receivers module must crash start-up, not be skipped.
        from bookings import events, receivers

        events.connect(events.CompensationTriggered, receivers.on_compensation_triggered)
        events.connect(events.CancellationRequested, receivers.on_cancellation_requested)
