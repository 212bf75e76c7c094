"""Belarusian: day, genitive month name and year (with "year" abbreviated), 24-hour time, comma decimals."""

from accord.formats.common import *  # noqa: F403  (short dates, time, numbers)

DATE_FORMAT = "j E Y г."
DATETIME_FORMAT = "j E Y г. H:i"
YEAR_MONTH_FORMAT = "F Y г."
MONTH_DAY_FORMAT = "j E"
