"""Money is Decimal with two places, in INR. Shared by every participant."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PAISA = Decimal("0.01")


def to_money(value: Decimal | str | int) -> Decimal:
    return Decimal(value).quantize(PAISA, rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    """amount × percent / 100, rounded half-up to the paisa."""
    return (amount * percent / Decimal(100)).quantize(PAISA, rounding=ROUND_HALF_UP)


NOT_SET = "—"


def format_inr(amount: Decimal | str | int | None) -> str:
    """₹ with two decimals and Indian digit grouping: ₹1,25,000.00 (— when not set yet).

    The one way money is written for people: pages, e-mails, the admin.
    """
    if amount is None or amount == "":
        return NOT_SET
    try:
        value = to_money(Decimal(str(amount)))
    except InvalidOperation:
        return str(amount)
    sign = "-" if value < 0 else ""
    rupees, paise = f"{abs(value):.2f}".split(".")
    # Indian grouping: the last three digits, then pairs (lakh, crore).
    head, groups = rupees[:-3], [rupees[-3:]]
    while head:
        groups.insert(0, head[-2:])
        head = head[:-2]
    return f"{sign}₹{','.join(groups)}.{paise}"
