"""`{{ amount|inr }}`: rupees with Indian digit grouping, e.g. ₹1,25,000.00."""

from decimal import Decimal, InvalidOperation

from django import template

from bookings.money import to_money

register = template.Library()


def group_indian(whole: str) -> str:
    """12345678 -> 1,23,45,678: the last three digits, then pairs."""
    if len(whole) <= 3:
        return whole
    head, tail = whole[:-3], whole[-3:]
    pairs = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head, *pairs, tail])


@register.filter
def inr(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        amount = to_money(Decimal(str(value)))
    except InvalidOperation:
        return str(value)
    sign = "−" if amount < 0 else ""
    whole, _, paise = f"{abs(amount):.2f}".partition(".")
    return f"{sign}₹{group_indian(whole)}.{paise}"
