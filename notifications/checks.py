"""Deployment checks (`manage.py check --deploy`) for the messages the worker sends."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register

LOCAL_HOSTS = {"127.0.0.1", "localhost", "0.0.0.0", "::1"}


@register(Tags.security, deploy=True)
def links_reach_patients(app_configs, **kwargs) -> list[Warning]:
    # The "finish your payment" message links to the booking's page under SITE_URL; a
    # local address (the default, for make run) reaches no patient's phone.
    if settings.DEBUG or urlsplit(settings.SITE_URL).hostname not in LOCAL_HOSTS:
        return []
    return [
        Warning(
            f"SITE_URL is {settings.SITE_URL!r}: links in messages to patients point at "
            "this machine.",
            hint="Set SITE_URL to the address patients reach the site at, e.g. "
            "https://clinic.example.in.",
            id="notifications.W001",
        )
    ]
