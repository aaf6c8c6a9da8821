from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal import api, receipts

urlpatterns = [
    path("auth/register", api.RegisterView.as_view(), name="api-register"),
    path("auth/token", api.TokenView.as_view(), name="api-token"),
    path("auth/logout", api.LogoutView.as_view(), name="api-logout"),
    path("me", api.MeView.as_view(), name="api-me"),
    path("services", api.ServiceListView.as_view(), name="api-services"),
    path("practitioners", api.PractitionerListView.as_view(), name="api-practitioners"),
    path("slots", api.SlotListView.as_view(), name="api-slots"),
    path("config/discount", api.DiscountConfigView.as_view(), name="api-config-discount"),
    path("quota/status", api.QuotaStatusView.as_view(), name="api-quota-status"),
    path("admin/quota", api.AdminQuotaView.as_view(), name="api-admin-quota"),
    path("booking", api.BookingListCreateView.as_view(), name="api-bookings"),
    path(
        "booking/<str:booking_id>/status",
        api.BookingStatusView.as_view(),
        name="api-booking-status",
    ),
    path(
        "booking/<str:booking_id>/calendar.ics",
        api.BookingCalendarView.as_view(),
        name="api-booking-calendar",
    ),
    path(
        "config/cancellation", api.CancellationPolicyView.as_view(), name="api-config-cancellation"
    ),
    path(
        "booking/<str:booking_id>/cancellation",
        api.CancellationQuoteView.as_view(),
        name="api-booking-cancellation",
    ),
    path("booking/<str:booking_id>/cancel", api.CancelView.as_view(), name="api-booking-cancel"),
    path(
        "booking/<str:booking_id>/reschedule",
        api.RescheduleView.as_view(),
        name="api-booking-reschedule",
    ),
    path(
        "booking/<str:booking_id>/receipt",
        receipts.BookingReceiptView.as_view(),
        name="api-booking-receipt",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's set-up script as a file (?script): no inline
    # script, so the Content-Security-Policy can refuse them all.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
