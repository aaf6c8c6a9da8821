"""The staff pages' forms: booking at the front desk, and a cancellation's reason."""

from typing import cast

from django import forms
from django.utils import timezone
from phonenumber_field.formfields import PhoneNumberField

from bookings.models import Gender, MedicalService
from bookings.validators import (
    NOT_AN_INDIAN_MOBILE,
    validate_indian_mobile,
)
from portal.forms import BirthDateInput, DateOfBirthField, ServiceChoiceField


class StaffCancellationForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Told to the patient and kept in the audit log.",
    )


# What the desk takes: never a test card token (those are the simulated gateway's, for
# the API's tests). The payment link needs the online gateway (PAYMENT_GATEWAY=razorpay).
CASH = ("cash", "Cash received at the desk")
COUNTER_CARD = ("counter_card", "Card at the counter (the clinic's card machine approved it)")
PAYMENT_LINK = (
    "payment_link",
    "Online (UPI, card): a payment link texted to the patient's phone, shown as a QR code",
)


class DeskBookingForm(forms.Form):
    """The front desk books a walk-in or telephone patient on the day shown."""

    patient_name = forms.CharField(max_length=120, label="Patient's name")
    gender = forms.ChoiceField(choices=[("", "Choose…"), *Gender.choices])
    date_of_birth = DateOfBirthField(widget=BirthDateInput())
    phone = PhoneNumberField(
        region="IN",
        validators=[validate_indian_mobile],
        error_messages={"invalid": NOT_AN_INDIAN_MOBILE},
        help_text="Indian mobile: the booking goes to the patient's account with this number.",
        widget=forms.TextInput({"inputmode": "tel"}),
    )
    services = ServiceChoiceField(
        queryset=MedicalService.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    slot = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
        help_text="Needed for consultations and imaging; none for lab tests (walk-in).",
    )
    payment = forms.ChoiceField(
        choices=[CASH, COUNTER_CARD], initial="cash", widget=forms.RadioSelect
    )

    def __init__(self, *args, slots=(), online: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        payment = cast(forms.ChoiceField, self.fields["payment"])
        payment.choices = [CASH, COUNTER_CARD, *([PAYMENT_LINK] if online else [])]
        services = cast(ServiceChoiceField, self.fields["services"])
        services.queryset = MedicalService.objects.filter(active=True).order_by("name")
        slot = cast(forms.TypedChoiceField, self.fields["slot"])
        slot.choices = [("", "No appointment (walk-in)")] + [
            (
                s.pk,
                f"{timezone.localtime(s.start):%H:%M} · {s.practitioner.name} "
                f"({s.practitioner.specialty})",
            )
            for s in slots
        ]
