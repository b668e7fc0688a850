"""Validation of Norwegian organisation numbers (organisasjonsnummer) and e-mail domains."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ORG_NUMBER_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def org_number_check_digit(first_eight: str) -> int | None:
    """The MOD11 check digit for eight digits, or None where no valid one exists."""
    total = sum(int(d) * w for d, w in zip(first_eight, ORG_NUMBER_WEIGHTS, strict=True))
    remainder = total % 11
    if remainder == 0:
        return 0
    digit = 11 - remainder
    return None if digit == 10 else digit


def normalise_org_number(value: str) -> str:
    """Strip the spaces people type ("974 760 673") and keep the digits."""
    return "".join(value.split())


def validate_org_number(value: str) -> None:
    number = normalise_org_number(value)
    if not number.isdigit():
        raise ValidationError(
            _("An organisation number has only digits; %(value)s has other characters."),
            code="not_digits",
            params={"value": value},
        )
    if len(number) != 9:
        raise ValidationError(
            _("An organisation number has 9 digits; %(value)s has %(count)d."),
            code="length",
            params={"value": value, "count": len(number)},
        )
    if org_number_check_digit(number[:8]) != int(number[8]):
        raise ValidationError(
            _("%(value)s is not a valid organisation number: the check digit does not match."),
            code="check_digit",
            params={"value": value},
        )


# A host name as in RFC 1123: labels of letters, digits and inner hyphens, at
# least two labels, the last not all digits. Internationalised names are given
# in their ASCII (punycode) form, as they appear in e-mail addresses.
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_domain(value: str) -> str:
    """Lower case, no surrounding spaces, no leading "@" or trailing dot."""
    return (value or "").strip().lstrip("@").rstrip(".").lower()


def validate_domain(value: str) -> None:
    domain = normalise_domain(value)
    labels = domain.split(".")
    if (
        not domain
        or len(domain) > 253
        or len(labels) < 2
        or not all(_DOMAIN_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValidationError(
            _("%(value)s is not a domain name (such as nav.no)."),
            code="domain",
            params={"value": value},
        )
