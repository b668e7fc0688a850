"""Signals through which higher apps take part in the account lifecycle.

accounts is the lowest app and never imports studies, contributions or
moderation. Where the account lifecycle needs them, it asks through these
signals and the higher apps answer from their AppConfig.ready().
"""

from django.dispatch import Signal

# Sent before an account is deleted, with ``user``. A receiver returns a list
# of reasons (translated strings, each explaining the way out) why the
# deletion must not happen now; an empty list means no objection.
account_deletion_check = Signal()

# Sent inside the deletion's transaction, with ``user``, after the personal
# data held by accounts was removed: higher apps remove or neutralise theirs.
account_deleted = Signal()

# Sent when a person's unread notification count changed, with ``user_id``,
# ``unread`` and ``title`` (the newest notification's title, or ""). The
# receiver that pushes it to the person's open pages lives beside the event
# stream, which owns the group names.
unread_count_changed = Signal()

# Sent inside the transaction that confirmed or refused a person's claim to act
# for an organisation, with ``user_id``, ``organisation_id`` and ``state``:
# higher apps update what their items show and refresh the statistics of the
# studies concerned.
claim_decided = Signal()
