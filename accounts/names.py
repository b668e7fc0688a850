"""When a name that study pages show changes: ``name_changed``.

Study pages are kept per study event number (contributions/page.py,
contributions/listing.py). People's and organisations' names change
without anything happening in a study (a new display name, a deleted
account, a renamed organisation), so such a change sends ``name_changed``
in the transaction that makes it, and contributions records a
``names.changed`` event in every study that shows the name when that
transaction commits (contributions/names.py): every kept page of those
studies is made again, with the new name.

A save sends it when a field the public name is made from is among the
fields saved (all of them when ``update_fields`` is None) and its value
differs from the stored one (one query; a sign-in's ``last_login`` asks
nothing); a delete always sends it, before the row goes, so that the
receiver still finds where the name shows. ``QuerySet.update()`` sends no
signal: code that changes names that way sends ``name_changed`` itself.
"""

from __future__ import annotations

from django.db.models.signals import pre_delete, pre_save
from django.dispatch import Signal

# sender: the model (User or Organisation); pk: the person's or organisation's id;
# account_closed: True when the person can no longer sign in (deactivated or deleted),
# so that receivers end their access before anything about the name goes out.
name_changed = Signal()

# The fields a public name is made from (User.public_name, Organisation.name).
PERSON_NAME_FIELDS = ("display_name", "email", "deleted_at")
ORGANISATION_NAME_FIELDS = ("name",)


def _fields(sender) -> tuple[str, ...]:
    return PERSON_NAME_FIELDS if sender._meta.model_name == "user" else ORGANISATION_NAME_FIELDS


def _before_save(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or instance._state.adding or instance.pk is None:
        return  # nobody's page shows a person or an organisation made just now
    fields = _fields(sender)
    if update_fields is not None and not set(fields) & set(update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values(*fields).first()
    if stored is not None and any(stored[f] != getattr(instance, f) for f in fields):
        name_changed.send(sender=sender, pk=instance.pk, account_closed=_closed(instance))


def _before_delete(sender, instance, **kwargs) -> None:
    name_changed.send(sender=sender, pk=instance.pk, account_closed=_closed(instance, True))


def _closed(instance, deleted: bool = False) -> bool:
    return instance._meta.model_name == "user" and (deleted or not instance.is_active)


def connect() -> None:
    from accounts.models import Organisation, User

    for model in (User, Organisation):
        pre_save.connect(_before_save, sender=model, dispatch_uid=f"names.save.{model.__name__}")
        pre_delete.connect(
            _before_delete, sender=model, dispatch_uid=f"names.delete.{model.__name__}"
        )
