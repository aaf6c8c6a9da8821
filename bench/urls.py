"""The app's URLs plus the baseline endpoint, mounted only in the benchmark's settings."""

from django.urls import path

from bench.views import BaselineInsert
from clinic_site.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("bench/baseline", BaselineInsert.as_view()),
    *app_urlpatterns,
]
