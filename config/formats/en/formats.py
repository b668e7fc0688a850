"""English formats (FORMAT_MODULE_PATH): day before month, 24-hour clock, as in Norway.

Names Django does not know (ABBR_*, RANGE_*) are read by accounts.formatting.
"""

DATE_FORMAT = "j F Y"  # 7 December 2026
ABBR_DATE_FORMAT = "j M Y"  # 7 Dec 2026
DATETIME_FORMAT = "j F Y, H:i"  # 7 December 2026, 14:05
ABBR_DATETIME_FORMAT = "j M Y, H:i"  # 7 Dec 2026, 14:05
MONTH_DAY_FORMAT = "j F"  # 4 January
ABBR_MONTH_DAY_FORMAT = "j M"  # 4 Jan
YEAR_MONTH_FORMAT = "F Y"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
RANGE_SAME_MONTH_START = "j"  # 3–16 Nov 2026
RANGE_SAME_YEAR_START = "j M"  # 26 Oct–16 Nov 2026
RANGE_SEPARATOR = "–"
FIRST_DAY_OF_WEEK = 1
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
PERCENT_FORMAT = "%s%%"  # 12.5%
