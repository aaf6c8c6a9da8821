from django.contrib import admin
from django.urls import include, path

from bookings.api import HealthView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("bookings.api_urls")),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("bookings.urls")),
]
