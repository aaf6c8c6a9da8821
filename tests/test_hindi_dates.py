"""Hindi month and day names as the pages, e-mails and SMS print them, checked against
CLDR (Babel's data for the `hi` locale), not against our own list.

Django's Hindi catalogue wrote December "दिसमबर" and abbreviated it "दिस्"; the project's
locale/hi/LC_MESSAGES/django.po overrides every month and day name with CLDR's forms
(clinic_site/date_names.py keeps them there through makemessages)."""

from datetime import date, datetime

import pytest
from babel import Locale
from django.template import Context, Template
from django.utils import translation
from django.utils.dateformat import format as date_format

CLDR = Locale.parse("hi")
# Each month's 4th, a Thursday in December 2026 among others.
DAYS_OF_2026 = [date(2026, month, 4) for month in range(1, 13)]
# 7–13 December 2026: Monday to Sunday.
A_WEEK = [date(2026, 12, 7 + n) for n in range(7)]


def in_hindi(day: date, fmt: str) -> str:
    with translation.override("hi"):
        return date_format(day, fmt)


@pytest.mark.parametrize("day", DAYS_OF_2026, ids=lambda d: d.strftime("%b"))
def test_month_names_are_cldrs(day):
    wide = CLDR.months["format"]["wide"][day.month]
    abbreviated = CLDR.months["format"]["abbreviated"][day.month]
    assert in_hindi(day, "F") == wide  # "l j F Y", the pages' and e-mails' long dates
    assert in_hindi(day, "M") == abbreviated  # "j M Y", "D j M": the short ones
    assert in_hindi(day, "b") == abbreviated
    assert in_hindi(day, "N") == abbreviated
    assert in_hindi(day, "E") == CLDR.months["stand-alone"]["wide"][day.month]


@pytest.mark.parametrize("day", A_WEEK, ids=lambda d: d.strftime("%a"))
def test_day_names_are_cldrs(day):
    weekday = day.weekday()  # Monday 0, as CLDR's days in Babel
    assert in_hindi(day, "l") == CLDR.days["format"]["wide"][weekday]
    assert in_hindi(day, "D") == CLDR.days["format"]["abbreviated"][weekday]


def test_december_as_the_issue_saw_it():
    """Issue 25's example, spelled out: Babel's data and the pages agree on it."""
    december = date(2026, 12, 4)
    assert (CLDR.months["format"]["wide"][12], CLDR.months["format"]["abbreviated"][12]) == (
        "दिसंबर",
        "दिस॰",
    )
    assert in_hindi(december, "l j F Y") == "शुक्रवार 4 दिसंबर 2026"
    assert in_hindi(december, "D j M Y") == "शुक्र 4 दिस॰ 2026"
    assert "दिसमबर" not in in_hindi(december, "F") and "दिस्" not in in_hindi(december, "M")


def test_a_template_prints_them_too():
    """The `date` filter, as the templates use it, goes through the same catalogue."""
    template = Template('{{ day|date:"l j F Y" }} · {{ day|date:"j M, H:i" }}')
    with translation.override("hi"):
        text = template.render(Context({"day": datetime(2026, 9, 24, 10, 30)}))
    assert text == (
        f"{CLDR.days['format']['wide'][3]} 24 {CLDR.months['format']['wide'][9]} 2026 · "
        f"24 {CLDR.months['format']['abbreviated'][9]}, 10:30"
    )


def test_english_is_unchanged():
    with translation.override("en"):
        assert date_format(date(2026, 12, 4), "D j M Y, l F") == "Fri 4 Dec 2026, Friday December"
