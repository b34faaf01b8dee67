"""Queries the ORM compiles once per process, for the three that run on every page (the
session, the user, the line's access check): building their SQL costs several times what
running it does (0.5-3 ms against 0.1-0.2 ms).

The query is still written with the ORM, once, with stand-in values; each run swaps the
request's values in. Only integers and strings are used as stand-ins: the ORM passes them
to the database unchanged, on SQLite and PostgreSQL alike. Integers must fit in 32 bits
(PostgreSQL's `integer`): beyond a column's range the ORM compiles no query at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet


class Precompiled:
    """`build(**stand_ins)`, a query on `model`, compiled on first use per database;
    `first(**values)` runs it with the request's values and returns the first row's model
    instance (with any annotations as attributes), or None."""

    def __init__(
        self, model: type[Model], build: Callable[..., QuerySet], **stand_ins: int | str
    ) -> None:
        if len(set(stand_ins.values())) != len(stand_ins):
            raise ValueError("each stand-in value must be distinct")
        for name, value in stand_ins.items():
            # A bool equals 0 or 1, a small int may equal a constant of the query itself:
            # either would be taken for the other when matching parameters to names.
            if isinstance(value, bool) or (isinstance(value, int) and abs(value) < 1_000_000):
                raise ValueError(f"stand-in {name}={value!r}: use an int no row has, or a str")
        self.model = model
        self.build = build
        self.stand_ins = stand_ins
        # Per database alias: the SQL and the value name for each parameter. A race between
        # threads compiles twice and keeps one of two equal results.
        self._compiled: dict[str, tuple[str, tuple[str, ...]]] = {}

    def first(self, **values: Any) -> Any:
        if values.keys() != self.stand_ins.keys():
            raise TypeError(f"expected values for {sorted(self.stand_ins)}, got {sorted(values)}")
        manager = self.model._default_manager
        alias = manager.db
        compiled = self._compiled.get(alias)
        if compiled is None:
            compiled = self._compiled[alias] = self._compile(alias)
        sql, names = compiled
        rows = manager.db_manager(alias).raw(sql, [values[name] for name in names])
        return next(iter(rows), None)

    def _compile(self, alias: str) -> tuple[str, tuple[str, ...]]:
        query = self.build(**self.stand_ins).order_by()
        if query.model is not self.model:
            raise ImproperlyConfigured(f"the query is on {query.model}, not {self.model}")
        sql, params = query.query.get_compiler(using=alias).as_sql()
        by_value = {value: name for name, value in self.stand_ins.items()}
        unknown = [p for p in params if p not in by_value]
        if unknown:  # the query holds a value of its own that no stand-in names
            raise ImproperlyConfigured(
                f"{self.model.__name__} query has parameters {unknown!r} with no stand-in"
            )
        return sql, tuple(by_value[p] for p in params)
