"""The front desk's day close (an admin page): per receptionist and clinic day, the cash
taken, the cash handed back, and what the drawer should hold. The clinic manager sees
every receptionist's drawer; a receptionist only their own."""

from datetime import date
from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from bookings.services import clinic_today
from payments.selectors import Drawer, cash_day_close, owed_at_desk

SEES_EVERY_DRAWER = "payments.view_any_day_close"
SEES_OWN_DRAWER = "payments.view_own_day_close"


@require_GET
def day_close(request: HttpRequest) -> HttpResponse:
    user = request.user
    everyone = user.has_perm(SEES_EVERY_DRAWER)
    if not (everyone or user.has_perm(SEES_OWN_DRAWER)):
        raise PermissionDenied
    day = _closing_day(request)
    me = user.get_username()
    drawers = [
        d for d in cash_day_close(day=day, receptionist=None if everyone else me) if d.receptionist
    ]
    if not everyone and not drawers:
        drawers = [Drawer(me)]  # nothing taken or handed back: a drawer of ₹0
    context = {
        **admin.site.each_context(request),
        "title": f"Day close: {day:%A %d %B %Y}",
        "day": day,
        "today": clinic_today(),
        "drawers": drawers,
        "everyone": everyone,
        "total": _total(drawers) if everyone else None,
        # Refunds of bookings patients cancelled themselves: in a drawer once handed back.
        "owed_to_patients": owed_at_desk() if everyone else None,
    }
    return render(request, "admin/clinic/day_close.html", context)


def _total(drawers: list[Drawer]) -> Drawer:
    return Drawer(
        "",
        payments=sum(d.payments for d in drawers),
        taken=sum((d.taken for d in drawers), Decimal("0.00")),
        refunds=sum(d.refunds for d in drawers),
        refunded=sum((d.refunded for d in drawers), Decimal("0.00")),
    )


def _closing_day(request: HttpRequest) -> date:
    """The chosen clinic day, up to today; today (with a message saying why) for a
    malformed or future one."""
    today = clinic_today()
    text = request.GET.get("day", "")
    if not text:
        return today
    try:
        day = date.fromisoformat(text)
    except ValueError:
        messages.error(request, f"“{text[:20]}” is not a date (YYYY-MM-DD); showing today.")
        return today
    if day > today:
        messages.error(request, f"{day.isoformat()} has not closed yet; showing today.")
        return today
    return day
