"""DRF's exception handler, plus the one request error Django would answer in HTML."""

from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.views import exception_handler


def api_exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        # Raised while reading the body; left alone it becomes Django's HTML 400 page.
        exc = ParseError("The request body is too large.")
    return exception_handler(exc, context)
