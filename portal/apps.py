from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Front desk and patients"

    def ready(self) -> None:
        from portal.ops import checks  # noqa: F401  (registers them)
        from portal.ops.cache_table import create_cache_tables
        from portal.ops.schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="portal.schedules")
        # Once per `migrate`: the shared cache's table (the production default; the sign-up
        # and reset limits count there).
        post_migrate.connect(
            create_cache_tables, sender=self, dispatch_uid="portal.create_cache_tables"
        )
