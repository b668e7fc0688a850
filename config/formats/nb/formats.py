"""Bokmål formats (FORMAT_MODULE_PATH): Språkrådet's forms, not Django's stock ones.

Django's own nb module is kept for what is not set here (input formats). The
names in capitals that Django does not know (ABBR_*, RANGE_*) are read by
accounts.formatting, the one place that formats dates and numbers for people.
"""

DATE_FORMAT = "j. F Y"  # 7. desember 2026
ABBR_DATE_FORMAT = "j. N Y"  # 7. des. 2026 (Språkrådet: jan., jul., but mai)
DATETIME_FORMAT = r"j. F Y \k\l. H:i"  # 7. desember 2026 kl. 14:05
ABBR_DATETIME_FORMAT = r"j. N Y \k\l. H:i"  # 7. des. 2026 kl. 14:05
MONTH_DAY_FORMAT = "j. F"  # 4. januar
ABBR_MONTH_DAY_FORMAT = "j. N"  # 4. jan.
YEAR_MONTH_FORMAT = "F Y"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "d.m.Y"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
# A range's first date within one month, and within one year: 3.–16. nov. 2026,
# 26. okt.–16. nov. 2026; across years both dates are written in full.
RANGE_SAME_MONTH_START = "j."
RANGE_SAME_YEAR_START = "j. N"
RANGE_SEPARATOR = "–"
FIRST_DAY_OF_WEEK = 1
DECIMAL_SEPARATOR = ","
# A narrow no-break space, as Språkrådet writes thousands: 12 345.
THOUSAND_SEPARATOR = "\u202f"
NUMBER_GROUPING = 3
# A space between a number and its percent sign: 12,5 %.
PERCENT_FORMAT = "%s\u00a0%%"
