from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Explicit import: a broken receivers module must crash start-up, not be skipped.
        from bookings import events
        from notifications import checks, receivers  # noqa: F401 - checks register themselves

        events.connect(events.BookingConfirmed, receivers.on_booking_confirmed)
        events.connect(events.BookingCancelled, receivers.on_booking_cancelled)
        events.connect(events.BookingRescheduled, receivers.on_booking_rescheduled)
        events.connect(events.PaymentAwaited, receivers.on_payment_awaited)

        from django_q.signals import post_spawn

        from notifications.tasks import start_watching

        post_spawn.connect(start_watching, dispatch_uid="notifications.start_watching")
