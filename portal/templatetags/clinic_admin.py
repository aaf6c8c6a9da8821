from datetime import datetime, time, timedelta

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from bookings.admin_display import inr
from bookings.models import BookingStatus
from bookings.services import clinic_today
from portal.staff.dashboard import today_at_a_glance

register = template.Library()


def _url(name: str, **query: str) -> str:
    return f"{reverse(name)}?{urlencode(query)}" if query else reverse(name)


@register.inclusion_tag("admin/clinic/today_at_a_glance.html", takes_context=True)
def today_at_a_glance_panel(context) -> dict:
    """The front page's panel, for staff who may see bookings."""
    user = context["request"].user
    if not user.has_perm("bookings.view_booking"):
        return {"glance": None}
    day = clinic_today()
    glance = today_at_a_glance(day)
    start = timezone.make_aware(datetime.combine(day, time.min))
    today_payments = {"created_at__gte": str(start), "created_at__lt": str(start + timedelta(1))}
    bookings = "admin:bookings_booking_changelist"
    return {
        "glance": glance,
        "statuses": [
            {
                "label": label,
                "count": glance.bookings_by_status[value],
                "url": _url(bookings, status__exact=value, clinic_day=day.isoformat()),
            }
            for value, label in BookingStatus.choices
            if value != BookingStatus.FAILED
        ],
        "visits": [
            {
                "label": BookingStatus(value).label,
                "count": count,
                "url": _url(bookings, status__exact=value, visit_date=day.isoformat()),
            }
            for value, count in glance.visits_by_status.items()
        ],
        "visits_url": _url(bookings, visit_date=day.isoformat()),
        "attempts_url": _url(
            bookings, status__exact=BookingStatus.FAILED, clinic_day=day.isoformat()
        ),
        "bookings_url": _url(bookings, clinic_day=day.isoformat()),
        "revenue": inr(glance.revenue_collected),
        "payments_url": _url(
            "admin:payments_payment_changelist", status__exact="captured", **today_payments
        ),
        "payments_failed_url": _url(
            "admin:payments_payment_changelist", status__exact="declined", **today_payments
        ),
        "quota_url": reverse("admin:quotas_discountquota_changelist"),
        "deliveries_unknown_url": _url(
            "admin:notifications_notification_changelist", delivery="unknown"
        ),
        "refunds_failed_url": _url("admin:payments_refund_changelist", status__exact="failed"),
        "refunds_pending_url": _url("admin:payments_refund_changelist", status__exact="pending"),
        "reversals_unsettled_url": _url("admin:payments_reversedcapture_changelist", settled="no"),
        "can_see_refunds": user.has_perm("payments.view_refund"),
        "can_see_notifications": user.has_perm("notifications.view_notification"),
        "can_see_payments": user.has_perm("payments.view_payment"),
        "can_see_quota": user.has_perm("quotas.view_discountquota"),
    }
