"""Worker task functions of this app (django-q2 calls them by dotted path)."""

from django.conf import settings

from notifications import sender, services

WATCH_TASK = "notifications.tasks.send_due_notifications"


def send_due_notifications() -> str:
    """Send what is due and watch the outbox a few seconds (sender.watch); the run that
    held the watch queues the next, so the outbox is watched without a gap while tasks
    stay short (stopping a worker waits for the task in hand). The minutely schedule and
    a starting worker process (start_watching) begin the chain again if it broke."""
    summary, watched = sender.watch(
        seconds=settings.NOTIFICATION_WATCH_SECONDS, poll=settings.NOTIFICATION_POLL_SECONDS
    )
    if watched:
        start_watching()
    return summary.as_line()


def start_watching(**_) -> None:
    """Queue a watch; also django-q2's post_spawn receiver, so the outbox is watched
    within seconds of a worker starting, not at the scheduler's first tick (half a
    minute later). Not saved when it succeeds: a run every few seconds would crowd the
    task list staff read (failures still are)."""
    from django_q.tasks import async_task

    async_task(WATCH_TASK, task_name="watch the outbox", save=False)


def sweep_event_log() -> int:
    return services.sweep_confirmed_without_notifications()
