"""Test-only URLs whose views need the database (the DB-unavailable middleware's tests)."""

from django.http import HttpResponse, JsonResponse
from django.urls import path

from bookings.models import Booking


def count_bookings(request):
    return JsonResponse({"bookings": Booking.objects.count()})


def page(request):
    return HttpResponse(f"<p>{Booking.objects.count()} bookings</p>")


def remember_in_session(request):
    # No query here: the session is saved (a query) by SessionMiddleware, after the view.
    request.session["seen"] = True
    return HttpResponse("remembered")


urlpatterns = [
    path("api/probe", count_bookings),
    path("healthz", count_bookings),
    path("page", page),
    path("remember", remember_in_session),
]
