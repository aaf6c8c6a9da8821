"""Test-only control over the saga's delivery: stop an event's listeners, or run a hook first.

Django calls a signal's receivers in connection order, so a hook that must act
before an app's receiver (crash, terminate a connection, "the process died here")
is connected first and the app's receivers are connected again after it.
Nothing here is imported by production code.
"""

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import ClassVar

from bookings import events
from payments.gateway import ChargeResult, SimulatedGateway


def _route(event: events.Route | type[events.Payload]) -> events.Route:
    return event if isinstance(event, events.Route) else events.route(event)


@contextmanager
def listeners_replaced(
    event: events.Route | type[events.Payload],
    *hooks: Callable,
    keep_apps: tuple[str, ...] | None = None,
) -> Iterator[None]:
    """While inside: `event` is heard by `hooks`, then by the apps in `keep_apps`.

    `keep_apps=None` keeps every app's receiver (after the hooks); `()` keeps none,
    which stops the saga right after `event` is logged, as a crash there would.
    """
    route = _route(event)
    signal = route.signal
    originals = list(route.listeners)  # (dispatch_uid, connected function), in order
    kept = [
        (uid, fn) for uid, fn in originals if keep_apps is None or uid.split(".")[0] in keep_apps
    ]
    for uid, _ in originals:
        signal.disconnect(dispatch_uid=uid)
    hook_uids = [f"test-hook-{route.name}-{i}" for i in range(len(hooks))]
    try:
        for uid, hook in zip(hook_uids, hooks, strict=True):
            signal.connect(hook, dispatch_uid=uid, weak=False)
        for uid, fn in kept:
            signal.connect(fn, dispatch_uid=uid, weak=False)
        yield
    finally:
        for uid in hook_uids:
            signal.disconnect(dispatch_uid=uid)
        for uid, _ in originals:
            signal.disconnect(dispatch_uid=uid)
        for uid, fn in originals:
            signal.connect(fn, dispatch_uid=uid, weak=False)


def delivery_stopped(event: events.Route | type[events.Payload]):
    """The saga stops right after `event` is logged: nobody acts on it."""
    return listeners_replaced(event, keep_apps=())


def hook_runs_first(event: events.Route | type[events.Payload], hook: Callable):
    """`hook(event=..., correlation_id=..., **_)` runs when `event` is delivered, before
    any app acts on it."""
    return listeners_replaced(event, hook)


class CountingGateway(SimulatedGateway):
    """The simulated gateway, counting charge calls per idempotency key (tests only)."""

    charges: ClassVar[Counter] = Counter()
    _lock = threading.Lock()

    def charge(self, *, amount: Decimal, token: str, idempotency_key: str) -> ChargeResult:
        with self._lock:
            CountingGateway.charges[idempotency_key] += 1
        return super().charge(amount=amount, token=token, idempotency_key=idempotency_key)
