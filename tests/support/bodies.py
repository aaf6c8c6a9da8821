"""The request body of POST /api/booking that the API tests send, in one place."""

from typing import Any

from tests.support.factories import ADULT_BIRTHDAY


def booking_body(*services: Any, **changes: Any) -> dict[str, Any]:
    """A valid booking of these services (model instances or ids) for an adult paying by
    the simulated gateway's accepting card; `changes` replace or add fields."""
    return {
        "patient_name": "Asha Verma",
        "gender": "female",
        "date_of_birth": ADULT_BIRTHDAY.isoformat(),
        "service_ids": [getattr(service, "pk", service) for service in services],
        "payment_token": "tok_visa",
        **changes,
    }
