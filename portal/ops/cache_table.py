"""The database cache's table is made by `migrate`, so the production default
(CACHE_URL unset: dbcache://clinic_cache) works with no extra deploy step."""

from django.core.management import call_command


def create_cache_tables(*, using: str = "default", **kwargs) -> None:
    """post_migrate: `createcachetable` for every database cache in CACHES (a no-op for
    other backends, and for a table that already exists), on PostgreSQL and SQLite alike."""
    call_command("createcachetable", database=using, verbosity=0)
