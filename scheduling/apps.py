from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Practitioners and times"

    def ready(self) -> None:
        # Explicit import: a broken receivers module must crash start-up, not be skipped.
        from bookings import events
        from scheduling import receivers

        events.connect(events.CompensationTriggered, receivers.on_compensation_triggered)
        events.connect(events.CancellationRequested, receivers.on_cancellation_requested)
