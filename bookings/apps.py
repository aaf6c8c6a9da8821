from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self) -> None:
        # Explicit import: a broken receivers module must crash start-up, not be skipped.
        from bookings import events, receivers

        events.CompensationTriggered.signal.connect(
            receivers.on_compensation_triggered, dispatch_uid="bookings.on_compensation_triggered"
        )
        # Once per `migrate` (this app's post_migrate): the throttles' shared cache table.
        from clinic_site.cache_table import create_cache_tables

        post_migrate.connect(
            create_cache_tables, sender=self, dispatch_uid="clinic_site.create_cache_tables"
        )
