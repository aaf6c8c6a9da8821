"""A document's lines and totals: the discount spread over the lines, then tax.

Prices include GST (the patient pays the booking's final price, never more): a taxable
line's value after its discount is split into taxable value, CGST and SGST (half the
rate each: a clinic's services are supplied where it stands, so always intra-state).
Each tax is rounded half-up to the paisa and the taxable value is what remains, so every
line, and the document, adds up exactly to what was paid.
"""

from dataclasses import dataclass
from decimal import Decimal

from bookings.money import PAISA, to_money


@dataclass(frozen=True)
class LineIn:
    description: str
    sac: str
    price: Decimal
    gst_rate: Decimal
    description_hi: str = ""  # the service's Hindi name when booked, if it had one


@dataclass(frozen=True)
class Line:
    description: str
    sac: str
    price: Decimal
    discount: Decimal
    taxable_value: Decimal
    gst_rate: Decimal
    cgst: Decimal
    sgst: Decimal
    total: Decimal
    description_hi: str = ""


@dataclass(frozen=True)
class Totals:
    gross: Decimal
    discount: Decimal
    taxable_value: Decimal
    cgst: Decimal
    sgst: Decimal
    total: Decimal


def spread_discount(prices: list[Decimal], discount: Decimal) -> list[Decimal]:
    """`discount` shared over `prices` in proportion, to the paisa; the last line takes
    what rounding left, so the shares add up to the discount exactly."""
    gross = sum(prices, Decimal(0))
    if not prices or discount <= 0 or gross <= 0:
        return [Decimal("0.00")] * len(prices)
    shares = [to_money(discount * price / gross) for price in prices[:-1]]
    return [*shares, to_money(discount - sum(shares, Decimal(0)))]


def compute_lines(items: list[LineIn], *, discount: Decimal, taxed: bool) -> list[Line]:
    """`taxed`: the clinic is registered for GST (an unregistered one collects none)."""
    lines = []
    for item, share in zip(items, spread_discount([i.price for i in items], discount), strict=True):
        value = to_money(item.price - share)
        rate = item.gst_rate if taxed else Decimal("0")
        half = to_money(value * rate / (Decimal(100) + rate) / 2) if rate else Decimal("0.00")
        lines.append(
            Line(
                description=item.description,
                description_hi=item.description_hi,
                sac=item.sac,
                price=to_money(item.price),
                discount=share,
                taxable_value=value - 2 * half,
                gst_rate=rate,
                cgst=half,
                sgst=half,
                total=value,
            )
        )
    return lines


def totals_of(lines: list[Line]) -> Totals:
    def add(name: str) -> Decimal:
        return sum((getattr(line, name) for line in lines), Decimal("0.00")).quantize(PAISA)

    return Totals(
        gross=add("price"),
        discount=add("discount"),
        taxable_value=add("taxable_value"),
        cgst=add("cgst"),
        sgst=add("sgst"),
        total=add("total"),
    )
