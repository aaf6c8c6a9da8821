"""Every event has exactly the listeners DESIGN.md's table names, in that order."""

import pytest

from bookings import events

# DESIGN.md, "Events": event → the apps that hear it.
DESIGN_TABLE = {
    "BookingRequested": ["pricing"],
    "PricingCalculated": ["quotas"],
    "DiscountQuotaReserved": ["payments"],
    "PaymentCompleted": ["confirmations"],
    "PaymentFailed": [],
    "CompensationTriggered": ["quotas", "payments", "bookings"],
    "DiscountQuotaReleased": [],
    "PaymentReversed": [],
    "BookingConfirmed": [],
    "BookingFailed": [],
}


def listening_apps(event: events.Event) -> list[str]:
    receivers = event.signal._live_receivers(sender=event.name)[0]
    return [r.__module__.split(".")[0] for r in receivers]


def test_the_catalog_has_exactly_the_designed_events():
    assert set(events.CATALOG) == set(DESIGN_TABLE)


@pytest.mark.parametrize("name", DESIGN_TABLE)
def test_each_event_has_exactly_its_designed_listeners(name):
    event = events.CATALOG[name]
    assert listening_apps(event) == DESIGN_TABLE[name]
    assert list(event.heard_by) == DESIGN_TABLE[name]


def test_receivers_are_connected_once_with_a_dispatch_uid():
    for event in events.CATALOG.values():
        lookup_keys = [key for key, *_ in event.signal.receivers]
        assert all(isinstance(key[0], str) for key in lookup_keys), event.name
        assert len(lookup_keys) == len(set(lookup_keys))
