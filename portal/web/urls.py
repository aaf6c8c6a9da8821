from django.urls import path

from portal.web import accounts, booking, bookings, online_payment

urlpatterns = [
    path("", booking.home, name="home"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("book/", booking.book, name="book"),
    path("book/time/", booking.book_slot, name="book_slot"),
    path("book/review/", booking.book_review, name="book_review"),
    path("bookings/", bookings.my_bookings, name="my_bookings"),
    path("bookings/<uuid:pk>/", bookings.booking_detail, name="booking_detail"),
    path("bookings/<uuid:pk>/retry/", bookings.booking_retry, name="booking_retry"),
    path(
        "bookings/<uuid:pk>/payment/return/",
        online_payment.payment_return,
        name="booking_payment_return",
    ),
    path("bookings/<uuid:pk>/calendar.ics", bookings.booking_calendar, name="booking_calendar"),
    # A receipt or refund note by number (CLN/26-27/00001: slashes included).
    path(
        "bookings/<uuid:pk>/documents/<path:number>.pdf",
        bookings.booking_document,
        name="booking_document",
    ),
    path("bookings/<uuid:pk>/cancel/", bookings.cancel, name="booking_cancel"),
    path("bookings/<uuid:pk>/change-time/", bookings.reschedule, name="booking_reschedule"),
]
