"""The catalogue's text in Hindi (django-modeltranslation, discovered by its app).

Each field listed gets `<field>_en` and `<field>_hi` columns; reading `service.name`
gives the active language's text, English when the Hindi is blank. English is required
(a manager fills it in; the admin says so), Hindi optional. A booked item keeps both
texts as they were when it was booked (bookings.services.request_booking copies them),
so a later rename never rewrites a booking, in either language.
"""

from modeltranslation.translator import TranslationOptions, register

from bookings.models import BookingItem, MedicalService


@register(MedicalService)
class MedicalServiceTranslation(TranslationOptions):
    fields = ("name", "description")
    required_languages = {"en": ("name",)}
    # A blank Hindi name is NULL, not "": the names are unique in each language.
    empty_values = {"name": None}


@register(BookingItem)
class BookingItemTranslation(TranslationOptions):
    fields = ("name",)
    required_languages = {"en": ("name",)}
