"""Whole numbers and ids from a query string or form body, checked once for every view.

``int()`` takes more than a browser's form sends: "²" passes ``str.isdigit``
and then fails ``int()``, "١" (Arabic-Indic one) is read as 1, and a string of
10,000 digits is refused by Python or overflows the database's integer column.
A view or form that reads a number from a request goes through
``whole_number`` (a view) or ``WholeNumberField`` (a form): ASCII digits
only, within the range of the database's integer columns, else "not given"
(None) or a form error; never an exception.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

# The largest value of a 64-bit integer column (BigAutoField ids, counters).
DB_INT_MAX = 2**63 - 1
_MAX_DIGITS = len(str(DB_INT_MAX))


def whole_number(value: object, *, minimum: int = 0, maximum: int = DB_INT_MAX) -> int | None:
    """``value`` as a whole number from ``minimum`` to ``maximum``, or None when it is not one
    (missing, empty, not plain ASCII digits, out of range)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text or not text.isascii() or not text.isdigit() or len(text) > _MAX_DIGITS:
            return None
        number = int(text)
    else:
        return None
    return number if minimum <= number <= maximum else None


class WholeNumberField(forms.IntegerField):
    """An IntegerField that takes ASCII digits only, within the database's range (its
    "Enter a whole number." otherwise, translated by Django)."""

    def __init__(self, *, min_value: int | None = 0, max_value: int | None = None, **kwargs):
        super().__init__(
            min_value=min_value,
            max_value=DB_INT_MAX if max_value is None else max_value,
            **kwargs,
        )

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = whole_number(str(value), minimum=0, maximum=DB_INT_MAX)
        if number is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number


def search_text(value: object, *, max_length: int = 100) -> str:
    """A search term from a query string: stripped, at most ``max_length`` characters, and
    with control and other unprintable characters read as spaces. NUL in particular never
    reaches a query (PostgreSQL refuses it in text)."""
    if not isinstance(value, str):
        return ""
    kept = "".join(c if c.isprintable() else " " for c in value)
    return " ".join(kept.split())[:max_length].strip()
