"""The patient's account pages: sign up, and Django's login and password reset with
the API's rate limits."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bookings.services import register_patient
from portal.login_guard import client_address, seconds_until_allowed
from portal.throttles import LoginThrottle, LoginUsernameThrottle
from portal.web.booking import _add_service_errors
from portal.web.forms import (
    PrivatePasswordResetForm,
    SignUpForm,
)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    if request.method == "POST":
        refused = _too_many(
            request, scope="signup", rate=settings.SIGNUP_RATE, what=_("signing up")
        )
        if refused is not None:
            return refused
    form = SignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = register_patient(
                username=data["username"],
                password=data["password"],
                email=data["email"],
                full_name=data["full_name"],
                gender=data["gender"],
                date_of_birth=data["date_of_birth"],
                phone=data["phone"] or "",
                language=data["language"] or "en",
            )
        except ValidationError as error:
            _add_service_errors(form, error, default_field="password")
        else:
            # Named: with axes' backend listed first, Django cannot guess which one applies.
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome! Your account is ready."))
            return redirect("book")
    return render(request, "registration/signup.html", {"form": form})


class ThrottledLoginView(auth_views.LoginView):
    """Django's login page, sharing the API login's rate limits (THROTTLE_LOGIN_RATE, per
    address and per username): password guessing through the web form is slowed exactly
    as through the API. The lockout (django-axes) covers this door as well."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        for throttle in (LoginThrottle(), LoginUsernameThrottle()):
            if not throttle.allow_request(request, self):
                response = render(request, "429.html", {"paused": _("logging in")}, status=429)
                response["Retry-After"] = str(int(throttle.wait() or 1))
                return response
        return super().post(request, *args, **kwargs)


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, limited per address and per e-mail address
    (PASSWORD_RESET_RATE): nobody can flood an inbox or the mail server with reset mails."""

    form_class = PrivatePasswordResetForm

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refused = _too_many(
            request,
            scope="password-reset",
            rate=settings.PASSWORD_RESET_RATE,
            what=_("sending password reset e-mails"),
        )
        if refused is not None:
            return refused
        return super().post(request, *args, **kwargs)


def _too_many(request: HttpRequest, *, scope: str, rate: str, what: str) -> HttpResponse | None:
    """A 429 page when this address or the e-mail address in the form is over `rate`."""
    idents = [f"address:{client_address(request)}"]
    email = request.POST.get("email", "").strip().casefold()
    if email:
        idents.append(f"email:{email}")
    wait = seconds_until_allowed(scope=scope, idents=idents, rate=rate)
    if not wait:
        return None
    response = render(request, "429.html", {"paused": what}, status=429)
    response["Retry-After"] = str(wait)
    return response
