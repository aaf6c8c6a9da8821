"""Worker task functions of this app (django-q2 calls them by dotted path)."""

from notifications import sender, services


def send_due_notifications() -> str:
    return sender.send_due().as_line()


def sweep_event_log() -> int:
    return services.sweep_confirmed_without_notifications()
