"""Pages rendered once and filled per request: a shell with named slots.

A page that is the same for many viewers except for a few values (the CSRF
token, an unread count, the viewer's own controls) is rendered once with a
marker in place of each such value, then split at the markers into a
``Shell``: text and slot names, alternating. A request fills the slots with
its own values, which costs a join, not a template rendering.

The markers carry a secret made when the process starts, so text written by
people (a study's title, a section's prompt) can never name a slot; a shell
is split as soon as it is rendered and only the parts are kept.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

_SECRET = secrets.token_hex(8)
_MARK = re.compile(rf"\[slot-{_SECRET}-([a-z_]+)\]")


def slot(name: str) -> SafeString:
    """The marker that stands for slot ``name`` in a template's context (letters and _ only)."""
    if not re.fullmatch(r"[a-z_]+", name):
        raise ValueError(f"a slot name is lower-case letters and _: {name!r}")
    return mark_safe(f"[slot-{_SECRET}-{name}]")  # noqa: S308 - a marker of letters and digits


@dataclass(frozen=True, slots=True)
class Shell:
    """Rendered text with slots: ``parts`` alternates text and slot names, text first."""

    parts: tuple[str, ...]

    @classmethod
    def of(cls, html: str) -> Shell:
        return cls(tuple(_MARK.split(html)))

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.parts[1::2])

    def fill(self, values: dict[str, str]) -> str:
        """The page with each slot's value (text already escaped for where the slot stands).

        A slot with no value is an error: a page never goes out with a marker in it.
        """
        parts = self.parts
        out = [parts[0]]
        for index in range(1, len(parts), 2):
            out.append(values[parts[index]])
            out.append(parts[index + 1])
        return "".join(out)
