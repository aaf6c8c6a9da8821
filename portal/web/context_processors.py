"""What every page may show about the clinic itself."""

from django.conf import settings


def clinic(request) -> dict:
    return {"clinic_address": settings.CLINIC_ADDRESS}
