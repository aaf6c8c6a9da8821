"""Start-up checks of the edge's own needs."""

import sqlite3
from typing import cast

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.checks import Error, Tags, register
from django.core.files.storage import storages
from django.utils.module_loading import import_string

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


@register(Tags.staticfiles, deploy=True)
def static_manifest_collected(app_configs, **kwargs) -> list[Error]:
    """With DEBUG off, every page names its static files through the manifest that
    `collectstatic` writes (whitenoise's CompressedManifestStaticFilesStorage): without
    it every page is a 500. A deploy check, not a start-up one: `migrate` runs before
    `collectstatic` in a deploy and must not be stopped by it."""
    if settings.DEBUG:
        return []
    backend = import_string(settings.STORAGES["staticfiles"]["BACKEND"])
    if not issubclass(backend, ManifestFilesMixin):
        return []
    try:
        # A ManifestFilesMixin (the backend checked above); it reads the manifest as made.
        storage = cast(ManifestFilesMixin, storages["staticfiles"])
        # ({}, "") when the file is missing. (Django returns (paths, hash); the stubs: a dict.)
        paths, _ = cast(tuple[dict[str, str], str], storage.load_manifest())
    except ValueError:  # there, but not a manifest Django can read
        paths = {}
    if paths:
        return []
    name = ManifestFilesMixin.manifest_name
    return [
        Error(
            f"No static files manifest ({name}) in STATIC_ROOT "
            f"({settings.STATIC_ROOT}): with DEBUG off every page would be a 500.",
            hint="Run `manage.py collectstatic --noinput` (with the same STATIC_ROOT) before "
            "starting the app.",
            id="portal.E002",
        )
    ]
