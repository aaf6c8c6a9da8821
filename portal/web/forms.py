"""The patient pages' forms: sign-up, booking details, payment and password reset.

Forms check what a patient can fix on the page; the services they call check again.
"""

import logging
from datetime import date, datetime
from typing import cast

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from phonenumber_field.formfields import PhoneNumberField

from bookings.models import Gender, Language, MedicalService
from bookings.services import MAX_SERVICES_PER_BOOKING, email_taken, email_taken_message
from bookings.validators import (
    NOT_AN_INDIAN_MOBILE,
    validate_indian_mobile,
    validate_username,
)
from portal.forms import BirthDateInput, DateOfBirthField, ServiceChoiceField

CONSOLE_MAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

logger = logging.getLogger("portal.accounts")

# The simulated gateway's test cards, mapped to its tokens on the server: a card
# number never leaves this form, only the token does.
TEST_CARDS = {
    "4242424242424242": "tok_visa",
    "4000000000000002": "tok_chargeDeclined",
    "4000000000009995": "tok_chargeDeclinedInsufficientFunds",
}


class SignUpForm(forms.Form):
    username = forms.CharField(
        label=gettext_lazy("Username"),
        max_length=150,
        validators=[validate_username],  # the API's rule (bookings/services.py)
        widget=forms.TextInput({"autocomplete": "username"}),
    )
    email = forms.EmailField(
        label=gettext_lazy("Email"),
        help_text=gettext_lazy("For password resets."),
        widget=forms.EmailInput({"autocomplete": "email"}),
    )
    full_name = forms.CharField(
        label=gettext_lazy("Full name"),
        max_length=120,
        widget=forms.TextInput({"autocomplete": "name"}),
    )
    gender = forms.ChoiceField(
        label=gettext_lazy("Gender"), choices=[("", gettext_lazy("Choose…")), *Gender.choices]
    )
    date_of_birth = DateOfBirthField(
        label=gettext_lazy("Date of birth"), widget=BirthDateInput(attrs={"autocomplete": "bday"})
    )
    phone = PhoneNumberField(
        required=False,
        label=gettext_lazy("Mobile number"),
        region="IN",
        validators=[validate_indian_mobile],
        error_messages={"invalid": NOT_AN_INDIAN_MOBILE},
        help_text=gettext_lazy("Optional: an Indian mobile number for SMS reminders."),
        widget=forms.TextInput({"autocomplete": "tel", "inputmode": "tel"}),
    )
    language = forms.ChoiceField(
        choices=settings.LANGUAGES,  # each language named in itself: English, हिन्दी
        initial=Language.ENGLISH,
        required=False,  # English unless chosen
        label=gettext_lazy("Language of e-mails and SMS"),
    )
    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput({"autocomplete": "new-password"}),
        help_text=gettext_lazy("At least 8 characters; not only digits, not a common password."),
    )
    password_again = forms.CharField(
        label=gettext_lazy("Password (again)"),
        strip=False,
        widget=forms.PasswordInput({"autocomplete": "new-password"}),
    )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        # Said in the first round too; register_patient still refuses a race's loser.
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError(_("This username is taken; choose another."))
        return username

    def clean_email(self) -> str:
        # One account per address (a unique index); register_patient refuses a race's loser.
        email = self.cleaned_data["email"]
        if email_taken(email):
            raise ValidationError(email_taken_message())
        return email

    def clean(self):
        super().clean()
        data = self.cleaned_data
        password, again = data.get("password"), data.get("password_again")
        if password and again and password != again:
            self.add_error(
                "password_again", _("The two passwords differ; type the same one twice.")
            )
        if password:
            # In the same round as every other field, not only once they are all right.
            candidate = get_user_model()(
                username=data.get("username", ""), email=data.get("email", "")
            )
            try:
                password_validation.validate_password(password, user=candidate)
            except ValidationError as weak:
                self.add_error("password", weak)
        return data


class BookingDetailsForm(forms.Form):
    services = ServiceChoiceField(
        label=gettext_lazy("Services"),
        queryset=MedicalService.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": gettext_lazy("Choose at least one service."),
            "invalid_choice": gettext_lazy("That service is no longer offered; choose again."),
            "invalid_pk_value": gettext_lazy("That service is no longer offered; choose again."),
        },
    )
    patient_name = forms.CharField(
        label=gettext_lazy("Patient's full name"),
        max_length=120,
        help_text=gettext_lazy("You may book for a family member."),
    )
    gender = forms.ChoiceField(
        label=gettext_lazy("Gender"), choices=Gender.choices, widget=forms.RadioSelect
    )
    date_of_birth = DateOfBirthField(label=gettext_lazy("Date of birth"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        services = cast(ServiceChoiceField, self.fields["services"])
        services.queryset = MedicalService.objects.filter(active=True)

    def clean_services(self):
        services = self.cleaned_data["services"]
        if len(services) > MAX_SERVICES_PER_BOOKING:
            raise ValidationError(
                _("Choose at most %(n)s services.") % {"n": MAX_SERVICES_PER_BOOKING}
            )
        return services


class PaymentForm(forms.Form):
    card_number = forms.CharField(
        label=gettext_lazy("Card number"),
        max_length=30,
        help_text=gettext_lazy(
            "Test cards: 4242 4242 4242 4242 (succeeds), "
            "4000 0000 0000 0002 (declined), 4000 0000 0000 9995 (insufficient funds)."
        ),
        widget=forms.TextInput({"inputmode": "numeric", "autocomplete": "cc-number"}),
    )
    # One key per rendering of this form: sent twice, it books once.
    request_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": gettext_lazy(
                "This payment form is incomplete; reload the page and pay again."
            ),
            "invalid": gettext_lazy(
                "This payment form is incomplete; reload the page and pay again."
            ),
        },
    )

    # The amount the page showed (what the patient agreed to pay): payments charges
    # nothing if the final price turns out higher. Set by the view from its quote.
    expected_total = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        widget=forms.HiddenInput,
        error_messages={
            "required": gettext_lazy(
                "This payment form is incomplete; reload the page and pay again."
            ),
            "invalid": gettext_lazy(
                "This payment form is incomplete; reload the page and pay again."
            ),
        },
    )

    # A walk-in's day (the view offers the open days, or removes this for an appointment).
    # Not sent (an older page): today, checked like any other day.
    visit_date = forms.TypedChoiceField(
        label=gettext_lazy("Day of your visit"),
        coerce=date.fromisoformat,
        required=False,
        empty_value=None,
        # A list of up to two months of days: a select (the phone's own picker) fits 360 px.
        widget=forms.Select,
        error_messages={
            "invalid_choice": gettext_lazy(
                "The clinic is not open for walk-ins on that day any more: choose another day."
            ),
        },
    )

    def offer_days(self, days: list[tuple[date, tuple[datetime, datetime]]]) -> None:
        """The walk-in days to choose from, each with its opening hours; the first chosen."""
        zone = timezone.get_current_timezone()
        field = cast(forms.TypedChoiceField, self.fields["visit_date"])
        field.choices = [
            (
                day.isoformat(),
                f"{date_format(day, 'l j F')}, "
                f"{timezone.localtime(opens, zone):%H:%M}–{timezone.localtime(closes, zone):%H:%M}",
            )
            for day, (opens, closes) in days
        ]
        if days:
            self.initial.setdefault("visit_date", days[0][0].isoformat())

    def show_amount(self, amount) -> None:
        """Carry `amount`, the price this rendering of the page shows, as expected_total."""
        if self.is_bound:
            data = cast(QueryDict, self.data).copy()  # bound to request.POST
            data["expected_total"] = str(amount)
            self.data = data
        else:
            self.initial["expected_total"] = amount

    def clean_card_number(self) -> str:
        digits = self.cleaned_data["card_number"].replace(" ", "")
        if digits not in TEST_CARDS:
            raise ValidationError(
                _("This card is not accepted. Use one of the test cards listed above.")
            )
        return digits

    @property
    def payment_token(self) -> str:
        return TEST_CARDS[self.cleaned_data["card_number"]]


class PrivatePasswordResetForm(PasswordResetForm):
    """Django's reset form, which will not write a reset link into the server's logs.

    With DEBUG off and no EMAIL_URL the console backend would print the mail, link and
    all, to stdout, which is the log (`check --deploy` fails on it too,
    confirmations.E001). The patient sees the usual answer; the log says why no mail
    went, without the address or the link.

    The mail is written in the patient's language (their profile's, as their booking
    e-mails are), whatever language the page that asked for it was in."""

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        if settings.EMAIL_BACKEND == CONSOLE_MAIL_BACKEND and not settings.DEBUG:
            logger.error("password reset mail not sent: EMAIL_URL is not set")
            return
        profile = getattr(context.get("user"), "patient_profile", None)
        language = getattr(profile, "language", "") or translation.get_language()
        with translation.override(language):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)
