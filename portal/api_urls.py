from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from portal import api

urlpatterns = [
    path("auth/register", api.RegisterView.as_view(), name="api-register"),
    path("auth/token", api.TokenView.as_view(), name="api-token"),
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
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
