"""Small query helpers shared by the apps."""

from __future__ import annotations

from django.db.models import QuerySet


def first_row(queryset: QuerySet):
    """The first row of ``queryset``, or None, for filters that match one row at most.

    ``QuerySet.first()`` orders by the model's ordering or the primary key: an
    ORDER BY built on every call (and run) for nothing when at most one row
    can match. Like ``get()``, this drops any ordering.
    """
    return next(iter(queryset.order_by()[:1]), None)
