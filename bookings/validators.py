"""Input rules every door applies the same way (pages, API, services)."""

from datetime import date

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Also the forms' message for a number that does not parse at all (phonenumber_field's own
# is not in Hindi and names a US example).
NOT_AN_INDIAN_MOBILE = gettext_lazy("Enter an Indian mobile number, e.g. +91 98123 45678.")

MAX_AGE_YEARS = 130

# One username rule for every way an account is made (web sign-up, API registration,
# and this service under both): Django's own, letters, digits and @ . + - _ only, so no
# spaces, no ':' ("system:payments"), nothing invisible or direction-changing (U+200B,
# U+202E) that would let one name pass for another in the admin.
validate_username = UnicodeUsernameValidator()


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def validate_date_of_birth(value: date, *, today: date) -> None:
    """A past date, at most 130 years before the clinic's `today`."""
    if value >= today:
        raise ValidationError(_("The date of birth must be a past date."), code="future")
    if value < years_before(today, MAX_AGE_YEARS):
        raise ValidationError(
            _("The date of birth must be at most %(years)s years ago.") % {"years": MAX_AGE_YEARS},
            code="too_old",
        )


def validate_indian_mobile(value) -> None:
    """An Indian mobile number (+91, a mobile range): where SMS reminders can go."""
    import phonenumbers

    number = value if isinstance(value, phonenumbers.PhoneNumber) else None
    if number is None:
        try:
            number = phonenumbers.parse(str(value), "IN")
        except phonenumbers.NumberParseException:
            raise ValidationError(_("Enter a valid phone number."), code="invalid") from None
    mobile = (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    if (
        number.country_code != 91
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in mobile
    ):
        raise ValidationError(NOT_AN_INDIAN_MOBILE, code="not_indian_mobile")
