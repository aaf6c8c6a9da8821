from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Front desk and patients"

    def ready(self) -> None:
        from portal.schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="portal.schedules")
