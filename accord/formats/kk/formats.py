"""Kazakh: dates in numbers (07.12.2026), as official documents write them; Django's month names are
capitalised, which Kazakh does not do inside a date. 24-hour time, comma decimals."""

from accord.formats.common import *  # noqa: F403  (short dates, time, numbers)

DATE_FORMAT = "d.m.Y"
DATETIME_FORMAT = "d.m.Y H:i"
YEAR_MONTH_FORMAT = "F Y ж."
MONTH_DAY_FORMAT = "j F"
