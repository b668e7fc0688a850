"""Django's SQLite and PostgreSQL backends, with a whole-database flush that says so.

The moderation log is append-only in the database too: triggers refuse
UPDATE, DELETE and, on PostgreSQL, TRUNCATE (moderation's migrations 0002 to
0004). The one deliberate way to wipe it is ``manage.py flush`` (and the test
runner's flush between transactional tests), which empties every table at
once. These backends mark that flush, through the names the triggers ask:

- SQLite: the DELETE trigger asks ``moderation_log_flushing()``, a function
  these backends register on each connection; it answers true only while the
  flush runs. Outside Dugnad the function does not exist, so a DELETE fails.
- PostgreSQL: the BEFORE TRUNCATE trigger lets a TRUNCATE through only when
  the transaction-local setting ``dugnad.log_flush`` is "on"; the flush sets
  it for its own transaction and clears it again.

Subclassing the backends (``ENGINE`` in config/settings.py) replaces a patch
of Django's ``execute_sql_flush``. This guards against mistakes and code
paths, not against a database superuser, who can drop triggers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

FLUSH_SETTING = "dugnad.log_flush"
SQLITE_FUNCTION = "moderation_log_flushing"
_state = threading.local()


def flushing() -> bool:
    return getattr(_state, "flushing", False)


@contextmanager
def marked_flush() -> Iterator[None]:
    _state.flushing = True
    try:
        yield
    finally:
        _state.flushing = False
