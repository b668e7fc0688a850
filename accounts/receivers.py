"""Answers to allauth's signals."""

from __future__ import annotations

from django.contrib import messages
from django.utils.translation import gettext as _


def mfa_added(sender, *, request, authenticator, **kwargs) -> None:
    """Count the set-up as the second factor used, and tell the person how to go on.

    Setting up TOTP means entering a code from the new authenticator (after
    allauth asked for the password again): allauth's record of an MFA
    authentication is written for it, so the person is not asked for a second
    code a moment later.
    """
    if request is None or authenticator.type != "totp":
        return
    from allauth.mfa.base.internal.flows import post_authentication

    post_authentication(request, authenticator)
    if not request.session.get("mfa_next"):
        return
    messages.success(
        request,
        _(
            "Two-factor authentication is on. Save your recovery codes somewhere safe: "
            "they let you in if you lose your phone. Then continue where you were."
        ),
    )


def email_address_confirmed(sender, *, request=None, email_address, **kwargs) -> None:
    """A newly verified address may confirm the person's pending claims by its domain."""
    from accounts.services import claims_confirm_by_domain

    confirmed = claims_confirm_by_domain(user=email_address.user)
    if confirmed and request is not None:
        messages.success(
            request,
            _("Your address confirms that you belong to the organisation you said you represent."),
        )
