"""Moments and days written into sentences (messages, the home page's items, timelines) the way the
templates' `date` filter writes them: moments in the reader's time zone, which on an organization's pages
is the organization's."""

from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format


def local(moment: datetime, fmt: str = "j M Y", tz=None) -> str:
    """`moment` in `tz` (by default the current time zone), e.g. "6 Dec 2026"."""
    return date_format(timezone.localtime(moment, tz), fmt)


def day(value: date | None) -> str:
    """A calendar day, e.g. "3 Nov 2026"; "no date" for none."""
    return date_format(value, "j M Y") if value else "no date"
