"""A practitioner's specialty in Hindi (django-modeltranslation; bookings/translation.py
says how it reads). Their name is a person's name: written one way."""

from modeltranslation.translator import TranslationOptions, register

from scheduling.models import Practitioner


@register(Practitioner)
class PractitionerTranslation(TranslationOptions):
    fields = ("specialty",)
    required_languages = {"en": ("specialty",)}
