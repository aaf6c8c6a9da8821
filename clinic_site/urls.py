from django.contrib import admin
from django.urls import include, path

from portal.api.online_payments import razorpay_webhook
from portal.api.receipts import DocumentPdfView
from portal.ops.health import HealthView
from portal.staff.day_close import day_close
from portal.staff.front_desk import desk_book, desk_payment, front_desk
from portal.staff.practitioner_day import my_day
from portal.web.accounts import ThrottledLoginView, ThrottledPasswordResetView

urlpatterns = [
    # Before the admin's own URLs: a staff page of the admin site.
    path("admin/front-desk/", admin.site.admin_view(front_desk), name="front_desk"),
    path("admin/front-desk/book/", admin.site.admin_view(desk_book), name="front_desk_book"),
    path("admin/my-day/", admin.site.admin_view(my_day), name="my_day"),
    path("admin/day-close/", admin.site.admin_view(day_close), name="day_close"),
    path(
        "admin/front-desk/payment/<uuid:booking_id>/",
        admin.site.admin_view(desk_payment),
        name="front_desk_payment",
    ),
    path("admin/", admin.site.urls),
    path("api/", include("portal.api.urls")),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("webhooks/razorpay", razorpay_webhook, name="webhook-razorpay"),
    # A receipt or refund note by number (CLN/26-27/00001: slashes included).
    path("receipts/<path:number>.pdf", DocumentPdfView.as_view(), name="receipt_pdf"),
    # The language switch: Django's set_language (a POST form, no JavaScript).
    path("i18n/", include("django.conf.urls.i18n")),
    # Before Django's auth URLs: the same login page, rate-limited.
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path(
        "accounts/password_reset/",
        ThrottledPasswordResetView.as_view(),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("portal.web.urls")),
]
