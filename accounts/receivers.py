"""Answers to allauth's signals."""

from __future__ import annotations

from django.contrib import messages
from django.utils.translation import gettext as _


def mfa_added(sender, *, request, authenticator, **kwargs) -> None:
    """Tell a person who was sent to set up two-factor authentication how to go on."""
    if request is None or authenticator.type != "totp" or not request.session.get("mfa_next"):
        return
    messages.success(
        request,
        _(
            "Two-factor authentication is on. Save your recovery codes somewhere safe: "
            "they let you in if you lose your phone. Then continue where you were."
        ),
    )
