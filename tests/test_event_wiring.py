"""Every event is heard by exactly the apps its catalog entry names, in that order."""

import pytest

from bookings import events


def live_receivers(event: events.Event) -> list[tuple[str, object]]:
    """(app label, function) of each receiver connected now, in call order."""
    receivers = event.signal._live_receivers(sender=event.name)[0]
    return [(r.__module__.split(".")[0], r) for r in receivers]


@pytest.mark.parametrize("name", events.CATALOG)
def test_each_event_is_heard_by_exactly_the_apps_its_entry_names(name):
    event = events.CATALOG[name]
    connected = live_receivers(event)
    assert [app for app, _ in connected] == list(event.heard_by)
    assert all(fn.__name__ == event.receiver_name for _, fn in connected)


# shared/DESIGN.md, "Events": event → the apps that hear it, in order. Written out here,
# not read from the catalog, so a change to the wiring must also change the design.
DESIGN_TABLE = {
    "BookingRequested": ["pricing"],
    "PricingCalculated": ["quotas"],
    "DiscountQuotaReserved": ["payments"],
    "PaymentCompleted": ["confirmations", "billing"],
    "PaymentFailed": [],
    "CompensationTriggered": ["scheduling", "quotas", "payments", "bookings"],
    "SlotReleased": [],
    "DiscountQuotaReleased": [],
    "PaymentReversed": [],
    "BookingConfirmed": ["notifications"],
    "BookingFailed": [],
    "CancellationRequested": ["scheduling", "quotas", "payments", "bookings"],
    "PaymentRefunded": ["billing"],
    "ReceiptIssued": [],
    "BookingCancelled": ["notifications"],
    "BookingRescheduled": ["notifications"],
}


def test_the_catalog_has_exactly_the_designed_events():
    assert set(events.CATALOG) == set(DESIGN_TABLE)


@pytest.mark.parametrize("name", DESIGN_TABLE)
def test_each_event_has_exactly_its_designed_listeners(name):
    event = events.CATALOG[name]
    assert [app for app, _ in live_receivers(event)] == DESIGN_TABLE[name]
    assert list(event.heard_by) == DESIGN_TABLE[name]


def test_receivers_are_connected_once_with_a_dispatch_uid():
    for event in events.CATALOG.values():
        lookup_keys = [key for key, *_ in event.signal.receivers]
        assert all(isinstance(key[0], str) for key in lookup_keys), event.name
        assert len(lookup_keys) == len(set(lookup_keys))


def test_an_event_with_another_payload_than_its_entry_is_refused():
    with pytest.raises(TypeError, match="BookingFailed carries"):
        events.emit(events.BookingFailed, correlation_id=None, reason="x", extra="y")
