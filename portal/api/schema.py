"""What the OpenAPI description says beyond the serializers: error answers, headers,
examples. Kept apart so the views in portal/api.py stay short."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated

from portal.api.serializers import ErrorDetailSerializer

# --- Error answers, as the schema tells them ---------------------------------

_FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": {},
    "description": (
        'Field errors, {"<field>": ["message", …]} ("non_field_errors" for the whole '
        'body), or {"detail": "…"} for a body that is not valid JSON.'
    ),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    described = {
        400: OpenApiResponse(_FIELD_ERRORS_SCHEMA, description="Invalid input: what to fix."),
        401: OpenApiResponse(
            ErrorDetailSerializer,
            description="No credentials where they are needed, or an invalid token.",
        ),
        403: OpenApiResponse(
            ErrorDetailSerializer,
            description="Not allowed: staff only, or a session request without its CSRF token.",
        ),
        404: OpenApiResponse(ErrorDetailSerializer, description="Not found, or not yours."),
        409: OpenApiResponse(
            ErrorDetailSerializer,
            description=(
                "A request with this Idempotency-Key is still in flight: retry. Or, with "
                '"code": "slot_unavailable", the slot is full, past or unknown: nothing '
                "was booked."
            ),
        ),
        415: OpenApiResponse(ErrorDetailSerializer, description="The body is not JSON."),
        422: OpenApiResponse(
            ErrorDetailSerializer,
            description="This Idempotency-Key was used with a different body.",
        ),
        429: OpenApiResponse(
            ErrorDetailSerializer, description="Too many requests: see Retry-After."
        ),
        503: OpenApiResponse(
            ErrorDetailSerializer,
            description=(
                "The database could not be reached (see Retry-After). A booking may have "
                "been made all the same: retry with the same Idempotency-Key to get it."
            ),
        ),
    }
    return {code: described[code] for code in codes}


_DATABASE_UNAVAILABLE = OpenApiResponse(
    ErrorDetailSerializer,
    description="The database could not be reached; retry after Retry-After seconds.",
)
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


class ClinicAutoSchema(AutoSchema):
    """Each operation also lists the errors that what stands around its view can answer,
    whatever the view itself declares (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS):

    - 400: a NUL in any query string (clinic_site.middleware.RefuseNulInQueryString);
    - 401: an invalid or revoked token, wherever a token is read (even on public reads);
    - 403: a session write without its CSRF token, or a permission beyond logging in;
    - 404: a path parameter naming nothing of yours, or a page past the end;
    - 415: a body that is not JSON, wherever a body is read;
    - 429: a throttle on the view;
    - 503: the database out of reach (clinic_site.middleware.DatabaseUnavailableMiddleware).

    405 is the answer to a method a path does not have, so it is no operation's to list.
    """

    def _get_response_bodies(self, direction="response"):
        # Below @extend_schema's override of get_response_serializers, which returns the
        # view's own declarations without asking this class.
        bodies = super()._get_response_bodies(direction)
        for code, answer in self._stack_errors().items():
            if str(code) not in bodies:
                bodies[str(code)] = self._get_response_for_code(answer, str(code), None, direction)
        return bodies

    def _stack_errors(self) -> dict[int, OpenApiResponse]:
        view, method = self.view, self.method
        authenticators = view.get_authenticators()
        codes = [400]
        if authenticators:
            codes.append(401)
        session_write = method in _WRITES and any(
            isinstance(a, SessionAuthentication) for a in authenticators
        )
        beyond_login = any(
            not isinstance(p, (AllowAny, IsAuthenticated))
            for p in view.get_permissions()  # noqa: UP038
        )
        if session_write or beyond_login:
            codes.append(403)
        paginated = method == "GET" and getattr(view, "pagination_class", None) is not None
        if "{" in self.path or paginated:
            codes.append(404)
        if method in _WRITES and self.get_request_serializer() is not None:
            codes.append(415)
        if view.get_throttles():
            codes.append(429)
        return {**errors(*codes), 503: _DATABASE_UNAVAILABLE}


IDEMPOTENCY_KEY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "1–255 visible ASCII characters. The same key and body again replays the first "
        "answer; the same key with another body is a 422; while the first is in flight, 409."
    ),
)


def retry_after_header() -> OpenApiParameter:
    return OpenApiParameter(
        "Retry-After",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        required=True,
        response=[429],
        description="Seconds to wait before trying again.",
    )


LOCATION_HEADER = OpenApiParameter(
    "Location",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    response=[201],
    description="/api/booking/<id>/status, where the booking can be read.",
)


HEALTH_RESPONSES = {
    200: OpenApiResponse(
        {
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["ok"]},
                "database": {"type": "string", "enum": ["ok"]},
                "worker": {"type": "string", "enum": ["ok", "late"]},
            },
            "required": ["status", "database", "worker"],
        },
        description="Up, database reachable; `worker` is late when the background worker "
        "has not been heard from for two minutes.",
    ),
    503: OpenApiResponse(
        {
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["error"]},
                "database": {"type": "string", "enum": ["unavailable"]},
                "detail": {"type": "string"},
            },
            "required": ["status", "database", "detail"],
        },
        description="The database cannot be reached; retry after Retry-After seconds.",
    ),
}

BOOKING_EXAMPLES = [
    OpenApiExample(
        "An MRI scan",
        request_only=True,
        value={
            "patient_name": "Asha Verma",
            "gender": "female",
            "date_of_birth": "1990-11-24",
            "service_ids": [3],
            "payment_token": "tok_visa",
            "slot_id": 412,
            "expected_total": "2200.00",
        },
    ),
    OpenApiExample(
        "Confirmed with the discount",
        response_only=True,
        status_codes=["201"],
        value={
            "id": "0b9c3f6e-8a8f-4b59-9a53-2f1c6f3f7a10",
            "correlation_id": "5d2f7c1a-3e4b-4c8d-9f60-7a1b2c3d4e5f",
            "status": "confirmed",
            "patient_name": "Asha Verma",
            "gender": "female",
            "date_of_birth": "1990-11-24",
            "services": [{"id": 3, "name": "MRI Scan", "price": "2500.00"}],
            "currency": "INR",
            "base_price": "2500.00",
            "discount_eligible": True,
            "discount_applied": True,
            "quota_exhausted": False,
            "discount_percent": "12.00",
            "discount_amount": "300.00",
            "final_price": "2200.00",
            "confirmation_code": "K7QX2MPA",
            "failure_reason": None,
            "created_at": "2026-11-24T10:15:00+05:30",
            "visit_date": "2026-11-26",
            "appointment": {
                "slot_id": 412,
                "practitioner": {"id": 3, "name": "Dr. Meera Nair", "specialty": "Radiologist"},
                "start": "2026-11-26T09:00:00+05:30",
                "end": "2026-11-26T09:30:00+05:30",
            },
            "cancellation_policy": {"version": 2, "url": "/api/config/cancellation?version=2"},
            "payment": None,
            "receipts": [
                {
                    "number": "CLN/26-27/00042",
                    "kind": "bill_of_supply",
                    "issued_at": "2026-11-24T10:15:01+05:30",
                    "amount": "2200.00",
                    "url": "/receipts/CLN/26-27/00042.pdf",
                }
            ],
        },
    ),
    OpenApiExample(
        "The slot was taken meanwhile",
        response_only=True,
        status_codes=["409"],
        value={
            "detail": "This slot is no longer available; choose another.",
            "code": "slot_unavailable",
        },
    ),
    OpenApiExample(
        "The price went up before the payment",
        response_only=True,
        status_codes=["201"],
        value={
            "id": "7e1d2c3b-4a59-4f68-8e7d-6c5b4a392817",
            "correlation_id": "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
            "status": "failed",
            "patient_name": "Asha Verma",
            "gender": "female",
            "date_of_birth": "1990-11-24",
            "services": [{"id": 3, "name": "MRI Scan", "price": "2500.00"}],
            "currency": "INR",
            "base_price": "2500.00",
            "discount_eligible": True,
            "discount_applied": False,
            "quota_exhausted": True,
            "discount_percent": "12.00",
            "discount_amount": "0.00",
            "final_price": "2500.00",
            "confirmation_code": None,
            "failure_reason": "price_changed",
            "created_at": "2026-11-24T10:16:00+05:30",
            "visit_date": "2026-11-26",
            "appointment": {
                "slot_id": 412,
                "practitioner": {"id": 3, "name": "Dr. Meera Nair", "specialty": "Radiologist"},
                "start": "2026-11-26T09:00:00+05:30",
                "end": "2026-11-26T09:30:00+05:30",
            },
            "cancellation_policy": {"version": 2, "url": "/api/config/cancellation?version=2"},
            "payment": None,
            "receipts": [],
        },
    ),
    OpenApiExample(
        "Refused input",
        response_only=True,
        status_codes=["400"],
        value={"service_ids": ["No active service with id 99."]},
    ),
]
