"""Storage: one interface (`base.Store`), served by `sql.SqlStore` for SQLite and PostgreSQL;
`corpus` writes and reads the seeds-format files."""

from __future__ import annotations

from monitor.store.base import AlertIntent, Store, StoredItem

__all__ = ["AlertIntent", "Store", "StoredItem", "open_store"]


def open_store(url: str) -> Store:
    """The store at `url`: `sqlite:///path/to/monitor.db` (its directory is created) or
    `postgresql://user@host/db` (psycopg 3). Call `migrate()` before use."""
    from monitor.store.sql import SqlStore  # SQLAlchemy loads only when a store is opened

    return SqlStore(url)
