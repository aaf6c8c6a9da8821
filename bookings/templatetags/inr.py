"""`{{ amount|inr }}`: rupees with Indian digit grouping, e.g. ₹1,25,000.00."""

from django import template

from bookings.money import format_inr

register = template.Library()
register.filter("inr", format_inr)
