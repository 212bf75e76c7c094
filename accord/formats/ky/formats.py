"""Kyrgyz (in place of Django's module): as Kazakh, dates in numbers (07.12.2026), since Django's month names are
capitalised for Kyrgyz too; 24-hour time, comma decimals."""

from accord.formats.kk.formats import *  # noqa: F403
