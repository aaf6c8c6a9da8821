from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "pricing"
    verbose_name = "Pricing (rule R1)"

    def ready(self) -> None:
        from bookings import events
        from pricing import receivers

        events.BookingRequested.signal.connect(
            receivers.on_booking_requested, dispatch_uid="pricing.on_booking_requested"
        )
