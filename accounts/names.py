"""A token in the shared cache that changes whenever a shown name may have changed.

Pages keep lists that show people's and organisations' names
(contributions/fragments.py); names change without a study event (a new
display name, a deleted account, a renamed organisation), so a kept list is
checked against the database before it is used. With this token a process
checks a list once per token: while the token stands, no name changed.

The token changes after the commit of every save or delete of a person or an
organisation that can change a name (not the sign-in's ``last_login``).
``QuerySet.update()`` sends no signal: code that changes names that way must
call ``names_changed()``. The token is random, never a counter, so a token
lost from the cache and made again never matches an old one; without the
cache there is no token, and every use checks the database as before. A
token is trusted for a minute at most (``fragments.NAMES_TRUST_SECONDS``),
which bounds what a change whose new token was lost (the cache unreachable
at that commit) can leave showing.
"""

from __future__ import annotations

import logging
import uuid

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from core.cache import drop

logger = logging.getLogger(__name__)

TOKEN_KEY = "names-token"
TOKEN_TIMEOUT = 7 * 24 * 3600
# The fields a public name is made from (User.public_name, Organisation.name).
PERSON_NAME_FIELDS = frozenset({"display_name", "email", "deleted_at"})
ORGANISATION_NAME_FIELDS = frozenset({"name"})


def names_token() -> str | None:
    """The current token (made now if there is none); None when the cache is down."""
    try:
        token = cache.get(TOKEN_KEY)
        if token is None:
            cache.add(TOKEN_KEY, uuid.uuid4().hex, TOKEN_TIMEOUT)
            token = cache.get(TOKEN_KEY)
        return token
    except Exception:
        logger.warning("could not read the names token", exc_info=True)
        return None


def names_changed() -> None:
    """A name may have changed: a new token once the current transaction commits."""
    transaction.on_commit(_new_token, robust=True)


def _new_token() -> None:
    try:
        cache.set(TOKEN_KEY, uuid.uuid4().hex, TOKEN_TIMEOUT)
    except Exception:
        # A token that stays would let a process skip the check of a renamed
        # person: drop it, so that every use checks the database again.
        logger.warning("could not renew the names token", exc_info=True)
        if not drop(TOKEN_KEY):
            logger.error("names token neither renewed nor dropped")


def _saved(sender, instance, created=False, update_fields=None, **kwargs) -> None:
    if created:
        return  # nobody's list shows a person or an organisation made just now
    fields = PERSON_NAME_FIELDS if sender._meta.model_name == "user" else ORGANISATION_NAME_FIELDS
    if update_fields is None or fields & set(update_fields):
        names_changed()


def _deleted(sender, instance, **kwargs) -> None:
    names_changed()


def connect() -> None:
    from accounts.models import Organisation, User

    for model in (User, Organisation):
        post_save.connect(_saved, sender=model, dispatch_uid=f"names.saved.{model.__name__}")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"names.deleted.{model.__name__}")
