"""The project's admin site: Django's, with every changelist's filters guarded.

The admin parses its filter parameters (the date hierarchy's year, month and day, each
list filter's values) when it builds a changelist. Django turns most bad values into
IncorrectLookupParameters (a redirect to the unfiltered list with `?e=1`), but not all:
`?clinic_day__year=99999999999999999999` is an OverflowError and `?day__year=9999` a
ValueError outside Django's own try (issue 22, B4), a 500. This site wraps the
ChangeList of every ModelAdmin registered with it, ours and Django's or a library's
alike, so any such value gets Django's own answer for a lookup it cannot use.
"""

from functools import cache

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError


class GuardedFilters(ChangeList):
    """Mixed into a ChangeList class: a filter value that cannot be a lookup is
    IncorrectLookupParameters, whatever the parsing raised."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError, ValidationError) as error:
            raise IncorrectLookupParameters(error) from error


@cache
def guarded(changelist_class: type[ChangeList]) -> type[ChangeList]:
    return type(f"Guarded{changelist_class.__name__}", (GuardedFilters, changelist_class), {})


class GuardedChangeListAdmin(admin.ModelAdmin):
    """Mixed into every registered ModelAdmin class by ClinicAdminSite.register."""

    def get_changelist(self, request, **kwargs):
        # A class is hashable; mypy checks type[ChangeList] against the instances' __hash__.
        return guarded(super().get_changelist(request, **kwargs))  # type: ignore[arg-type]


class ClinicAdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, GuardedChangeListAdmin):
            # A subclass of the app's own class: isinstance checks, its name and its
            # module stay as they were.
            admin_class = type(
                admin_class.__name__,
                (GuardedChangeListAdmin, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        super().register(model_or_iterable, admin_class, **options)


class ClinicAdminConfig(AdminConfig):
    """In INSTALLED_APPS in place of django.contrib.admin: `admin.site` is ours."""

    default_site = "clinic_site.admin_site.ClinicAdminSite"
