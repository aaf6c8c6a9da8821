"""Deployment checks (`manage.py check --deploy`) for the confirmation e-mail."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"


@register(Tags.security, deploy=True)
def confirmation_mail_goes_somewhere_private(app_configs, **kwargs) -> list[Warning]:
    if settings.EMAIL_BACKEND != CONSOLE_BACKEND:
        return []
    return [
        Warning(
            "Confirmation e-mails are written to the server's output (the console "
            "backend), so patients' names and booking codes end up in its logs.",
            hint="Set EMAIL_URL to the clinic's mail server, e.g. smtp+tls://user:pass@host:587.",
            id="confirmations.W001",
        )
    ]
