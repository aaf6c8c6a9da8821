"""Deployment checks (`manage.py check --deploy`) for the e-mail the app sends."""

from django.conf import settings
from django.core.checks import Error, Tags, register

CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"


@register(Tags.security, deploy=True)
def mail_goes_somewhere_private(app_configs, **kwargs) -> list[Error]:
    # An error, not a warning: besides patients' names and booking codes, the console
    # would print password reset links, a superuser's too, into the server's logs.
    # (The reset form also refuses to send through it while DEBUG is off.)
    if settings.EMAIL_BACKEND != CONSOLE_BACKEND or settings.DEBUG:
        return []
    return [
        Error(
            "E-mails are written to the server's output (the console backend, EMAIL_URL "
            "unset), so password reset links, patients' names and booking codes end up "
            "in its logs.",
            hint="Set EMAIL_URL to the clinic's mail server, e.g. smtp+tls://user:pass@host:587.",
            id="confirmations.E001",
        )
    ]
