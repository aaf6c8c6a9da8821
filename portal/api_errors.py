"""DRF's exception handler, plus the errors Django would otherwise answer its own way."""

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ParseError
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from scheduling.services import SlotUnavailable


def api_exception_handler(exc, context):
    if isinstance(exc, SlotUnavailable):
        # Nothing was booked (the whole request rolled back); another slot may do.
        return Response(
            {
                "detail": "This slot is no longer available; choose another.",
                "code": "slot_unavailable",
            },
            status=409,
        )
    if isinstance(exc, RequestDataTooBig):
        # Raised while reading the body; left alone it becomes Django's HTML 400 page.
        exc = ParseError("The request body is too large.")
    elif isinstance(exc, DjangoValidationError):
        # A service refused the input: DRF's {"field": ["message"]} shape, a 400.
        exc = DRFValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    return exception_handler(exc, context)
