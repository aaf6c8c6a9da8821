from django.apps import AppConfig


class ConfirmationsConfig(AppConfig):
    name = "confirmations"
    verbose_name = "Confirmations"

    def ready(self) -> None:
        # Explicit import: a broken receivers module must crash start-up, not be skipped.
        from bookings import events
        from confirmations import checks, receivers  # noqa: F401 - checks register themselves

        events.connect(events.PaymentCompleted, receivers.on_payment_completed)
