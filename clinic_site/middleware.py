"""A database that cannot be reached answers 503, never a hang or a 500 with a trace."""

import logging
import sys
from collections.abc import Callable

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from portal.api.errors import RETRY_AFTER_SECONDS
from portal.api.errors import UNAVAILABLE_DETAIL as DETAIL

logger = logging.getLogger("clinic_site.database")
JSON_PATHS = ("/api/", "/healthz")


DATABASE_ERRORS = (OperationalError, InterfaceError)


def _note_database_error(sender, request=None, **kwargs) -> None:
    """Django turns an error in an inner middleware into a 500 before we see it; note why."""
    error = sys.exc_info()[1]
    if request is not None and isinstance(error, DATABASE_ERRORS):
        request.database_error = error


class DatabaseUnavailableMiddleware:
    """Turn a lost or refused database connection into 503 + Retry-After.

    JSON `{"detail": …}` for the API and the health check, a short page otherwise.
    The broken connection is closed so the next request connects afresh.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        got_request_exception.connect(
            _note_database_error, dispatch_uid="clinic_site.database_unavailable"
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        error = getattr(request, "database_error", None)
        if response.status_code == 500 and error is not None:
            return self.unavailable(request, error)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Raised inside a view: answered here, before Django's 500 handler sees it.
        if isinstance(exception, DATABASE_ERRORS):
            return self.unavailable(request, exception)
        return None

    def unavailable(self, request: HttpRequest, error: Exception) -> HttpResponse:
        logger.error(
            "database unavailable method=%s path=%s error=%s",
            request.method,
            request.path,
            type(error).__name__,
        )
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
        if request.path.startswith(JSON_PATHS):
            response: HttpResponse = JsonResponse({"detail": DETAIL}, status=503)
        else:
            response = HttpResponse(
                render_to_string("503.html", {"detail": DETAIL}),
                status=503,
                content_type="text/html; charset=utf-8",
            )
        response["Retry-After"] = RETRY_AFTER_SECONDS
        response["Cache-Control"] = "no-store"
        return response


class IgnoreMalformedSessionCookie:
    """A session cookie that cannot be a session key (Django's are short lowercase
    letters and digits) is dropped before the session store queries with it: a forged
    cookie with a NUL byte would otherwise be a database error, a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        name = settings.SESSION_COOKIE_NAME
        key = request.COOKIES.get(name)
        if key is not None and not (len(key) <= 64 and key.isascii() and key.isalnum()):
            del request.COOKIES[name]
        return self.get_response(request)


NUL_DETAIL = "The query string holds a NUL character."


class RefuseNulInQueryString:
    """A NUL in a query string is a 400, for every page at once.

    PostgreSQL cannot store or compare text with a NUL byte: a NUL reaching a filter
    (an admin list filter, its search, a date filter) raises DataError, a 500. No
    legitimate link carries one, so it is refused here rather than in each view.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any("\x00" in name or "\x00" in "".join(values) for name, values in request.GET.lists()):
            return bad_request(request, NUL_DETAIL)
        return self.get_response(request)


def bad_request(request: HttpRequest, detail: str) -> HttpResponse:
    """400 as JSON `{"detail": …}` under /api/ and /healthz, a short page elsewhere."""
    if request.path.startswith(JSON_PATHS):
        return JsonResponse({"detail": detail}, status=400)
    return HttpResponse(
        render_to_string("400.html", {"detail": detail}),
        status=400,
        content_type="text/html; charset=utf-8",
    )


API_PATHS = ("/api/",)


class ApiResponseHeaders:
    """What every answer under /api/ needs, whichever view (or none) made it.

    - An unknown address is Django's HTML 404 page; an API client gets `{"detail"}`.
    - `Cache-Control: no-store`: most API answers hold a patient's data (bookings, a
      token, a profile), and a shared proxy or the phone's HTTP cache must keep none.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(API_PATHS):
            return response
        if response.status_code == 404 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            response = JsonResponse({"detail": "Not found."}, status=404)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


# The admin (its own change_list.html and ours) and Swagger UI carry <style> blocks;
# inline styles cannot run code, inline scripts stay refused everywhere.
INLINE_STYLE_PATHS = ("/admin/", "/api/docs/")


class ContentSecurityPolicy(CSPMiddleware):
    """django-csp's middleware with the one per-path allowance above."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path.startswith(INLINE_STYLE_PATHS) and parts.update is None:
            parts.update = {"style-src": [UNSAFE_INLINE]}
        return parts


SELECTED_ACTION_DETAIL = "The selected rows are not ids of this list: choose them on the list."


class RefuseMalformedAdminSelection:
    """An admin list action posted with a selection that cannot be ids of that list's
    model (`_selected_action=abc`, a NUL, a number out of range) is a 400.

    The admin filters `pk__in` the posted values as they are: one that is not the pk's
    type raises ValueError (or PostgreSQL a DataError), a 500, on every changelist, ours
    and the libraries' (auth, axes, django-q). Checked against each registered model's pk
    field, for the whole admin site at once. Placed after CSRF and authentication.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if (
            request.method != "POST"
            or match is None
            or match.namespace != "admin"
            or not (match.url_name or "").endswith("_changelist")
        ):
            return None
        model = _changelist_models().get(match.url_name or "")
        if model is None:
            return None
        selected = request.POST.getlist("_selected_action")
        if all(_could_be_pk(model, value) for value in selected):
            return None
        return bad_request(request, SELECTED_ACTION_DETAIL)


def _changelist_models() -> dict[str, type]:
    from django.contrib import admin

    return {
        f"{model._meta.app_label}_{model._meta.model_name}_changelist": model
        for model in admin.site._registry
    }


def _could_be_pk(model, value: str) -> bool:
    from django.core.exceptions import ValidationError

    field = model._meta.pk
    while field.is_relation:  # a one-to-one primary key: the target's type
        field = field.target_field
    if "\x00" in value:
        return False
    try:
        field.run_validators(field.to_python(value))  # the type, and its range
    except ValidationError:
        return False
    return True
