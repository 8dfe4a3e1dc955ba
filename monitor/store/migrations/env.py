"""Alembic environment.

`SqlStore.migrate()` runs it with an open connection in `config.attributes["connection"]`, so
users need no alembic.ini. Developers can run the alembic command with the ini beside this file
and `-x url=<database URL>` (offline `--sql` works too).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from monitor.store.schema import metadata
from monitor.store.sql import engine_url


def _configure_and_run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: later revisions rebuild tables in batch mode.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the database with -x url=...")
    if context.is_offline_mode():
        context.configure(
            url=engine_url(url),
            target_metadata=metadata,
            literal_binds=True,
            render_as_batch=url.startswith("sqlite"),
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = sa.create_engine(engine_url(url))
    try:
        with engine.begin() as conn:
            _configure_and_run(conn)
    finally:
        engine.dispose()


run()
