"""Platform administrators: Dugnad's own platform role, and the one check for it.

An administrator creates studies and appoints their first coordinator, runs
the organisation registry, sees platform statistics and makes or removes other
administrators, all in Dugnad's own pages. Django's ``is_staff`` is not this
role: it opens only the Django admin, for developers.

Every page for administrators calls ``require_administrator``, every service
``check_administrator``, and a template or a choice asks ``is_administrator``;
nothing reads the ``is_administrator`` flag (or Django's ``is_staff``) itself.
Django's admin has its own single check, in ``config/urls.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.second_factor import require_second_factor


def is_administrator(user) -> bool:
    """Whether ``user`` is an active platform administrator (not a deleted account)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and getattr(user, "is_administrator", False)
        and getattr(user, "deleted_at", None) is None
    )


def check_administrator(user) -> None:
    """Refuse (PermissionDenied) anyone but an administrator: the services' check.

    A service has no session to ask about the second factor; the page that
    calls it has asked already (``require_administrator``).
    """
    if not is_administrator(user):
        raise PermissionDenied("administrators only")


def require_administrator(request: HttpRequest) -> None:
    """Refuse (403) anyone but an administrator, and an administrator who has not
    used a second factor in this session (sent to it by the middleware)."""
    check_administrator(request.user)
    if settings.DUGNAD_REQUIRE_MFA:
        require_second_factor(request)


def administrators() -> QuerySet[User]:
    """Every administrator, by name."""
    return User.objects.filter(is_administrator=True, deleted_at__isnull=True).order_by(
        "display_name", "email"
    )


def _person_by_email(email: str) -> User | None:
    email = (email or "").strip()
    if not email:
        return None
    return User.objects.filter(email__iexact=email, deleted_at__isnull=True).first()


@transaction.atomic
def administrator_add(*, email: str, by: User | None) -> User:
    """Make the person with this address an administrator.

    ``by`` is the administrator who does it (None only for ``manage.py
    createadmin``). Refused with ValidationError, nothing changed: no account
    has the address, or the person is an administrator already.
    """
    if by is not None:
        check_administrator(by)
    person = _person_by_email(email)
    if person is None:
        raise ValidationError(
            _(
                "No one has an account with the address %(email)s. Ask them to sign up "
                "first, then add them here."
            )
            % {"email": email.strip()},
            code="no_account",
        )
    person = User.objects.select_for_update().get(pk=person.pk)
    if person.is_administrator:
        raise ValidationError(
            _("%(name)s is already an administrator.") % {"name": person.public_name},
            code="already",
        )
    person.is_administrator = True
    person.save(update_fields=["is_administrator"])
    return person


@transaction.atomic
def administrator_remove(*, person: User, by: User) -> User:
    """Take the administrator role from ``person``.

    Refused with ValidationError, nothing changed: removing yourself (another
    administrator must do it, so nobody locks themselves out by a slip) and
    removing the last administrator.
    """
    check_administrator(by)
    # Lock every administrator row: two removals at once cannot leave none.
    current = list(
        User.objects.select_for_update()
        .filter(is_administrator=True, deleted_at__isnull=True)
        .order_by("pk")
    )
    target = next((u for u in current if u.pk == person.pk), None)
    if target is None:
        raise ValidationError(
            _("%(name)s is not an administrator.") % {"name": person.public_name},
            code="not_administrator",
        )
    if target.pk == by.pk:
        raise ValidationError(
            _(
                "You cannot remove yourself as administrator. Another administrator "
                "can do it for you."
            ),
            code="self",
        )
    if len(current) <= 1:
        raise ValidationError(
            _("%(name)s is the last administrator; add another before removing them.")
            % {"name": target.public_name},
            code="last",
        )
    target.is_administrator = False
    target.save(update_fields=["is_administrator"])
    return target
