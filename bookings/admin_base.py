"""Building blocks shared by the apps' admin modules."""

import json
import uuid
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from bookings.admin_display import NOT_YET


class ReadOnlyInline:
    """History and money are never edited by hand: view only, for everyone.

    A mixin for inlines; ReadOnlyAdmin applies it to whole model admins.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyInline, admin.ModelAdmin):
    """A model admin whose rows are view only, for everyone."""


class UUIDSearchMixin(admin.ModelAdmin):
    """A pasted UUID finds its row by exact match on `uuid_search_fields`.

    Django's own search would compare the text against UUID columns with
    `icontains`, which PostgreSQL cannot do on a uuid column without a cast.
    """

    uuid_search_fields: tuple[str, ...] = ()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        try:
            value = uuid.UUID(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        matches = Q()
        for field in self.uuid_search_fields:
            matches |= Q(**{field: value})
        return queryset.filter(matches), False


def pretty_json(value: Any) -> str:
    if value is None:
        return NOT_YET
    return format_html(
        '<pre style="margin:0;white-space:pre-wrap">{}</pre>',
        json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True),
    )


def booking_link(booking_id: Any) -> str:
    """A link to a booking's page, short enough for a list column (full id on hover)."""
    url = reverse("admin:bookings_booking_change", args=[booking_id])
    return format_html('<a href="{}" title="{}">{}…</a>', url, booking_id, str(booking_id)[:8])


def booking_words_link(booking: Any) -> str:
    """A link to a booking's page named as staff know it: its code, or its status."""
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    label = booking.confirmation_code or booking.get_status_display().lower()
    return format_html('<a href="{}">{}</a>', url, label)


def booking_named_link(booking: Any) -> str:
    """A link to a booking's page named by its patient and confirmation code (a list
    of refunds or payments is read by who, not by id)."""
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    code = booking.confirmation_code or booking.get_status_display().lower()
    return format_html(
        '<a href="{}" title="{}">{} · {}</a>', url, booking.pk, booking.patient_name, code
    )
