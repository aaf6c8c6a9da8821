"""DRF's exception handler, plus the errors Django would otherwise answer its own way."""

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.views import exception_handler

from scheduling.services import SlotUnavailable

# A database that cannot be reached: the 503's words and wait, for the middleware
# (pages, the API) and /healthz alike.
RETRY_AFTER_SECONDS = "5"
UNAVAILABLE_DETAIL = (
    "The service is temporarily unavailable (database unreachable). Please retry shortly."
)


class Conflict(APIException):
    """A 409 whose body also names its reason for programs: {"detail", "code"}."""

    status_code = status.HTTP_409_CONFLICT

    def __init__(self, detail: str, *, code: str) -> None:
        super().__init__(detail, code)
        self.public_code = code


def api_exception_handler(exc, context):
    if isinstance(exc, SlotUnavailable):
        # Nothing was booked (the whole request rolled back); another slot may do.
        exc = Conflict("This slot is no longer available; choose another.", code="slot_unavailable")
    elif isinstance(exc, RequestDataTooBig):
        # Raised while reading the body; left alone it becomes Django's HTML 400 page.
        exc = ParseError("The request body is too large.")
    elif isinstance(exc, DjangoValidationError):
        # A service refused the input: DRF's {"field": ["message"]} shape, a 400.
        exc = DRFValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, Conflict):
        response.data["code"] = exc.public_code
    return response
