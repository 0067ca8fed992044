"""Moments written into sentences (messages, the home page's items) the way the templates' `date` filter
writes them: in the reader's time zone, which on an organization's pages is the organization's."""

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format


def local(moment: datetime, fmt: str = "j M Y", tz=None) -> str:
    """`moment` in `tz` (by default the current time zone), e.g. "6 Dec 2026"."""
    return date_format(timezone.localtime(moment, tz), fmt)
