"""Start-up checks of the edge's own needs."""

import sqlite3

from django.conf import settings
from django.core.checks import Error, register

# Pricing's UPDATE … RETURNING and the throttles' upsert with RETURNING.
SQLITE_NEEDED = (3, 35)


@register()
def sqlite_takes_returning(app_configs, **kwargs) -> list[Error]:
    """`make run`'s embedded SQLite must understand RETURNING (3.35, 2021)."""
    return returning_problems(
        engine=settings.DATABASES["default"]["ENGINE"],
        version=sqlite3.sqlite_version_info,
    )


def returning_problems(*, engine: str, version: tuple[int, ...]) -> list[Error]:
    if "sqlite" not in engine or version >= SQLITE_NEEDED:
        return []
    shown = ".".join(map(str, version))
    return [
        Error(
            f"SQLite {shown} is too old: 3.35 or newer is needed (RETURNING).",
            hint="Use a Python built against a newer SQLite, or set DATABASE_URL to PostgreSQL.",
            id="portal.E001",
        )
    ]
