from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal.api import accounts, bookings, catalogue, online_payments, receipts

urlpatterns = [
    path("auth/register", accounts.RegisterView.as_view(), name="api-register"),
    path("auth/token", accounts.TokenView.as_view(), name="api-token"),
    path("auth/logout", accounts.LogoutView.as_view(), name="api-logout"),
    path("me", accounts.MeView.as_view(), name="api-me"),
    path("services", catalogue.ServiceListView.as_view(), name="api-services"),
    path("practitioners", catalogue.PractitionerListView.as_view(), name="api-practitioners"),
    path("slots", catalogue.SlotListView.as_view(), name="api-slots"),
    path("config/discount", catalogue.DiscountConfigView.as_view(), name="api-config-discount"),
    path("quota/status", catalogue.QuotaStatusView.as_view(), name="api-quota-status"),
    path("admin/quota", catalogue.AdminQuotaView.as_view(), name="api-admin-quota"),
    path("booking", bookings.BookingListCreateView.as_view(), name="api-bookings"),
    path(
        "booking/<str:booking_id>/status",
        bookings.BookingStatusView.as_view(),
        name="api-booking-status",
    ),
    path(
        "booking/<str:booking_id>/calendar.ics",
        bookings.BookingCalendarView.as_view(),
        name="api-booking-calendar",
    ),
    path(
        "config/cancellation",
        catalogue.CancellationPolicyView.as_view(),
        name="api-config-cancellation",
    ),
    path(
        "booking/<str:booking_id>/cancellation",
        bookings.CancellationQuoteView.as_view(),
        name="api-booking-cancellation",
    ),
    path(
        "booking/<str:booking_id>/cancel", bookings.CancelView.as_view(), name="api-booking-cancel"
    ),
    path(
        "booking/<str:booking_id>/reschedule",
        bookings.RescheduleView.as_view(),
        name="api-booking-reschedule",
    ),
    path(
        "booking/<str:booking_id>/payment",
        online_payments.PaymentProofView.as_view(),
        name="api-booking-payment",
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
