"""Helpers shared by the SQL store's modules (`sql.py`, `outbox.py`). No business logic."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

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
