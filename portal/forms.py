"""Form parts the rooms share: date inputs, the date of birth and services fields, and
the slot step's day (the patient's and the staff's "Change time" pages)."""

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookings.models import MedicalService
from bookings.services import clinic_today
from bookings.validators import (
    validate_date_of_birth,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class BirthDateInput(DateInput):
    """The picker offers no future dates: `max` is the clinic's today when the page is
    drawn (not when the form class was made: a server running past midnight moves on)."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["max"] = clinic_today().isoformat()
        return context


class DateOfBirthField(forms.DateField):
    widget = BirthDateInput  # the rule itself is checked in validate()

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        validate_date_of_birth(value, today=clinic_today())


class ServiceChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: MedicalService) -> str:
        return obj.name


class SlotDayForm(forms.Form):
    """The slot step's day (a GET form): within today … today + the booking horizon."""

    day = forms.DateField(label=gettext_lazy("Day"), input_formats=["%Y-%m-%d"], widget=DateInput())

    def __init__(self, *args, first, last, **kwargs):
        super().__init__(*args, **kwargs)
        self.first, self.last = first, last
        self.fields["day"].widget.attrs.update(min=first.isoformat(), max=last.isoformat())

    def clean_day(self):
        day = self.cleaned_data["day"]
        if not self.first <= day <= self.last:
            raise forms.ValidationError(
                _("Choose a day from %(first)s to %(last)s.")
                % {
                    "first": date_format(self.first, "j M Y"),
                    "last": date_format(self.last, "j M Y"),
                }
            )
        return day
