"""`manage.py qcluster`: django-q2's worker, stopping within seconds of a SIGTERM sent to
its whole process group (issue 22: it did not stop within 35 s).

Why it hung (django-q2 issue #346): a group SIGTERM reaches every process of the cluster
at once, and django-q2 leaves SIGTERM at its default in the sentinel and everything it
forks, so they die wherever they are: the sentinel asleep in `stop_event.wait()` (the main
process's `stop_event.set()` then waits forever for its acknowledgement), the pusher or a
worker while holding a queue's lock (the sentinel's own stop then waits forever on it).

Here the cluster's processes ignore SIGTERM: the main process alone acts on it and stops
them in order through the event, as for a SIGTERM sent to the main process only. Each
worker finishes the task in hand (the outbox watch is a few seconds) and takes its
poison pill. Two bounds replace what the default signal did: a task past Q_TIMEOUT is
ended with SIGKILL instead of SIGTERM, and a worker still busy WORKER_STOP_SECONDS after
the stop began is killed, so a stop never outlasts that.
"""

import signal
import threading

from django.conf import settings
from django_q import cluster
from django_q.management.commands.qcluster import Command as DjangoQCommand


class GroupSignalSafeSentinel(cluster.Sentinel):
    def start(self):
        # Before the pool is forked: the workers, pusher and monitor inherit it.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        super().start()

    def reincarnate(self, process):
        if process in self.pool and process.timer.value == 0:
            process.kill()  # a task past Q_TIMEOUT: terminate() would be ignored
        super().reincarnate(process)

    def stop(self):
        def kill_busy_workers():
            for process in list(self.pool):
                if process.is_alive():
                    process.kill()

        overrun = threading.Timer(settings.WORKER_STOP_SECONDS, kill_busy_workers)
        overrun.daemon = True
        overrun.start()
        try:
            super().stop()
        finally:
            overrun.cancel()


class Command(DjangoQCommand):
    def handle(self, *args, **options):
        cluster.Sentinel = GroupSignalSafeSentinel  # what Cluster.start() forks
        super().handle(*args, **options)
