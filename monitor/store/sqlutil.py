"""Helpers shared by the SQL store's modules (`sql.py`, `outbox.py`). No business logic."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa

from monitor.errors import StoreError

P = ParamSpec("P")
R = TypeVar("R")


def describe(exc: sa.exc.SQLAlchemyError) -> str:
    """The driver's message without SQLAlchemy's statement dump and documentation link."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def mapped(method: Callable[P, R]) -> Callable[P, R]:
    """Raise StoreError for any SQLAlchemy error, naming the store operation."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"store.{method.__name__}: {describe(exc)}") from exc

    return wrapper


class BulkInsert:
    """An INSERT of many rows handed to the driver's `executemany` as they come: SQLAlchemy's
    per-row parameter handling costs more than SQLite's own insert of a first poll's items.
    Each column's bind processing (its type's, for the connection's dialect: UTC times, text
    without NULs) still applies, so the rows stored are the ones `conn.execute` would store.

    A row is a tuple of a value for every column of the table, in the table's order."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        self.columns = tuple(column.name for column in table.columns)
        self._prepared: dict[str, tuple[str, list[tuple[int, Callable[[Any], Any]]], bool]] = {}

    def __call__(self, conn: sa.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
        prepared = self._prepared.get(conn.dialect.name)
        if prepared is None:
            prepared = self._prepared[conn.dialect.name] = self._prepare(conn.dialect)
        sql, processors, positional = prepared
        params: list[Any] = []
        for row in rows:
            if processors:
                values = list(row)
                for index, process in processors:
                    values[index] = process(values[index])
                row = tuple(values)
            # Positional drivers (SQLite's "?") take tuples; named ones (psycopg's) dicts.
            params.append(row if positional else dict(zip(self.columns, row, strict=True)))
        if params:
            conn.exec_driver_sql(sql, params)

    def _prepare(
        self, dialect: sa.Dialect
    ) -> tuple[str, list[tuple[int, Callable[[Any], Any]]], bool]:
        compiled = sa.insert(self.table).compile(dialect=dialect, column_keys=list(self.columns))
        if compiled.positional and tuple(compiled.positiontup or ()) != self.columns:
            raise ValueError(f"{self.table.name}: the statement's columns are not in table order")
        processors: list[tuple[int, Callable[[Any], Any]]] = []
        for index, column in enumerate(self.table.columns):
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors.append((index, process))
        return str(compiled), processors, compiled.positional
