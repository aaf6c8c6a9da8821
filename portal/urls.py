from django.urls import path

from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/signup/", views.signup, name="signup"),
    path("book/", views.book, name="book"),
    path("book/time/", views.book_slot, name="book_slot"),
    path("book/review/", views.book_review, name="book_review"),
    path("bookings/", views.my_bookings, name="my_bookings"),
    path("bookings/<uuid:pk>/", views.booking_detail, name="booking_detail"),
    path("bookings/<uuid:pk>/retry/", views.booking_retry, name="booking_retry"),
    path("bookings/<uuid:pk>/calendar.ics", views.booking_calendar, name="booking_calendar"),
    path("bookings/<uuid:pk>/cancel/", views.cancel, name="booking_cancel"),
    path("bookings/<uuid:pk>/change-time/", views.reschedule, name="booking_reschedule"),
]
