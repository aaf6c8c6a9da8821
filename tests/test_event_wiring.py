"""Every event is heard by exactly the apps its catalog entry names, in that order; and
each event's payload is a typed class that goes to JSON and back unchanged."""

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from django.utils import timezone

from bookings import events


def live_receivers(route: events.Route) -> list[tuple[str, object]]:
    """(app label, receiver) of each receiver connected now, in call order."""
    connected = route.signal._live_receivers(sender=route.name)[0]
    return [(r.__module__.split(".")[0], r.receiver) for r in connected]


@pytest.mark.parametrize("name", events.CATALOG)
def test_each_event_is_heard_by_exactly_the_apps_its_entry_names(name):
    route = events.CATALOG[name]
    connected = live_receivers(route)
    assert [app for app, _ in connected] == list(route.heard_by)
    # Each receiver is the app's own, found by a plain search for its name.
    for app, receiver in connected:
        assert receiver.__module__ == f"{app}.receivers"


# shared/DESIGN.md, "Events": event → the apps that hear it, in order. Written out here,
# not read from the catalog, so a change to the wiring must also change the design.
DESIGN_TABLE = {
    "BookingRequested": ["pricing"],
    "PricingCalculated": ["quotas"],
    "DiscountQuotaReserved": ["payments"],
    "PaymentAwaited": ["notifications"],  # the "finish your payment" message (issue 23)
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
    route = events.CATALOG[name]
    assert [app for app, _ in live_receivers(route)] == DESIGN_TABLE[name]
    assert list(route.heard_by) == DESIGN_TABLE[name]


def test_receivers_are_connected_once_with_a_dispatch_uid():
    for route in events.CATALOG.values():
        lookup_keys = [key for key, *_ in route.signal.receivers]
        assert all(isinstance(key[0], str) for key in lookup_keys), route.name
        assert len(lookup_keys) == len(set(lookup_keys))
        assert [uid for uid, _ in route.listeners] == [key[0] for key in lookup_keys]


def test_an_event_with_another_payload_than_its_class_is_refused():
    with pytest.raises(TypeError, match="unexpected keyword argument 'extra'"):
        events.BookingFailed(reason="x", extra="y")


EXAMPLES = [
    events.BookingRequested(
        booking_id=uuid4(),
        clinic_day=date(2026, 12, 4),
        gender="female",
        date_of_birth=date(1990, 2, 28),
        prices=(Decimal("500.00"), Decimal("1250.50")),
    ),
    events.PaymentCompleted(
        payment_id=7,
        amount=Decimal("1100.00"),
        method="card",
        booking_id=uuid4(),
        appointment_start=timezone.make_aware(datetime(2026, 12, 5, 9, 30)),
    ),
    events.PaymentCompleted(
        payment_id=8,
        amount=Decimal("0.00"),
        method="cash",
        booking_id=uuid4(),
        appointment_start=None,
    ),
    events.CancellationRequested(
        actor="asha",
        reason="",
        by_staff=False,
        refund_amount=Decimal("450.00"),
        fee=Decimal("50.00"),
        requested_on=date(2026, 12, 4),
    ),
]


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.name)
def test_a_payload_goes_to_json_and_back_unchanged(event):
    as_json = event.to_json()
    # The log's JSON keeps the shapes API clients read: money as strings, ISO dates.
    assert all(not isinstance(v, Decimal | date | UUID) for v in as_json.values())
    back = type(event).from_json(as_json)
    assert back == event
    assert back.to_json() == as_json


def test_every_event_class_names_its_fields_with_types():
    for route in events.ROUTES:
        assert route.event.__dataclass_params__.frozen, route.name
        assert route.event.__dataclass_fields__, route.name
