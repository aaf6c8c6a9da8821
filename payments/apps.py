from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        # Explicit import: a broken receivers module must crash start-up, not be skipped.
        from bookings import events
        from payments import checks, receivers  # noqa: F401 (checks register themselves)

        events.listen("payments", receivers)
