"""A query of fixed shape, compiled to SQL once per process and run with new values.

Django compiles a queryset to SQL each time it runs it. For the query every
study request starts with (a person's membership with its study and
organisation: three tables, 40 columns) compiling cost 0.9 ms of CPU where
running it and building the objects cost 0.3 (docs/benchmarks.md, "The
study access compiled once"). A ``Prepared`` query is written as an ordinary
queryset, compiled once per database with stand-in values, and then run with
the caller's values in their place; the rows become model instances, related
ones included (``select_related``), the way Django's own ``ModelIterable``
builds them, with the same converters.

Only for querysets whose SQL does not depend on the values (filters by
equality on the named parameters, no ``__in`` lists, no ``None``); the stand-in
values must come back from field preparation as themselves, so they are
ints, strings and UUIDs (a UUID may come back as its hex text). ``Prepared``
checks that every stand-in appears in the compiled parameters and refuses the
queryset otherwise.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

# Stand-ins, each found again by value among the compiled parameters.
_INT_BASE = -7_300_000_000_000
_STR_BASE = "\x00prepared-"
_INT64 = (-(2**63), 2**63 - 1)  # what a database's integer column can hold
_UUID_BASE = 0x7E57_0000_0000_0000_0000_0000_0000_0000


def _stand_in(i: int, kind: type):
    if kind is int:
        return _INT_BASE - i
    if kind is str:
        return f"{_STR_BASE}{i}\x00"
    if kind is uuid.UUID:
        return uuid.UUID(int=_UUID_BASE + i)
    raise TypeError(f"a prepared parameter is an int, a str or a UUID, not {kind!r}")


def _forms(value) -> dict:
    """How a value may reach the SQL parameters after field preparation, and how to make
    the caller's value the same way: a UUID as itself or, where the database has no UUID
    type (SQLite), as its hex text."""
    if isinstance(value, uuid.UUID):
        return {value: lambda v: v, value.hex: lambda v: v.hex}
    return {value: lambda v: v}


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple  # the compiled parameters, a stand-in where a caller's value goes
    slots: dict  # parameter position -> (caller's parameter name, how to pass its value)
    model: type[Model]
    init_list: list[str]
    model_slice: slice
    populators: list
    annotations: dict  # name -> position of each annotation's column
    converted: list  # (position, expression) of the columns that have converters


class Prepared:
    """``build(**values)`` returns the queryset; ``get(**values)`` runs it compiled once.

    ``kinds`` names each parameter's type (``int``, ``str`` or ``uuid.UUID``), for its
    stand-in.
    """

    def __init__(self, build: Callable[..., QuerySet], **kinds: type) -> None:
        self.build = build
        self.kinds = kinds
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, db: str) -> _Compiled:
        stand_ins = {name: _stand_in(i, kind) for i, (name, kind) in enumerate(self.kinds.items())}
        # No ORDER BY (as get()), two rows at most: one, or "more than one".
        queryset = self.build(**stand_ins).order_by()[:2]
        compiler = queryset.query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        by_value = {
            form: (name, make)
            for name, value in stand_ins.items()
            for form, make in _forms(value).items()
        }
        slots = {i: by_value[p] for i, p in enumerate(params) if _is_stand_in(p, by_value)}
        if {name for name, _make in slots.values()} != set(stand_ins):
            raise ValueError("a parameter does not reach the SQL as given: not preparable")
        klass_info, select = compiler.klass_info, compiler.select
        fields = klass_info["select_fields"]
        model_slice = slice(fields[0], fields[-1] + 1)
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=slots,
            model=klass_info["model"],
            init_list=[f[0].target.attname for f in select[model_slice]],
            model_slice=model_slice,
            populators=get_related_populators(klass_info, select, db),
            annotations=dict(compiler.annotation_col_map or {}),
            converted=[
                (i, column)
                for i, column in enumerate(s[0] for s in select[: compiler.col_count])
                if _converters(connections[db], column)
            ],
        )

    def get(self, *, using: str = "default", **values) -> Model | None:
        """The one row's instance, or None when there is none; more than one is an error."""
        connection = connections[using]
        key = f"{using}:{connection.vendor}"
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(using)
                self._compiled[key] = compiled
        if any(isinstance(v, int) and not _INT64[0] <= v <= _INT64[1] for v in values.values()):
            return None  # matches no row, as Django's integer lookups answer (no SQL sent)
        params = list(compiled.params)
        for i, (name, make) in compiled.slots.items():
            params[i] = make(values[name])
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if not rows:
            return None
        if len(rows) > 1:
            raise compiled.model.MultipleObjectsReturned("more than one row for a prepared get")
        row = list(rows[0])
        for i, column in compiled.converted:  # this thread's connection's converters
            for converter in _converters(connection, column):
                row[i] = converter(row[i], column, connection)
        obj = compiled.model.from_db(using, compiled.init_list, row[compiled.model_slice])
        for populator in compiled.populators:
            populator.populate(row, obj)
        for name, position in compiled.annotations.items():
            setattr(obj, name, row[position])
        return obj


def _is_stand_in(value, by_value: dict) -> bool:
    return (
        isinstance(value, int | str | uuid.UUID)
        and not isinstance(value, bool)
        and value in by_value
    )


def _converters(connection, column) -> list:
    """The column's converters, the backend's and the field's, as Django's compiler finds them."""
    return connection.ops.get_db_converters(column) + column.get_db_converters(connection)
