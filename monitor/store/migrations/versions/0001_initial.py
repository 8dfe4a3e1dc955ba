"""initial schema: sources, items, matches, corpus, outbox, cursors

Revision ID: 0001
Revises:
Create Date: 2026-02-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Revisions are frozen: they spell out the types instead of importing monitor.store.schema.
# UTCDateTime and CleanText are stored as these.
UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("next_due", UTC_TIME, nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_status", sa.Text(), nullable=False),
        sa.Column("last_success", UTC_TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_polled", UTC_TIME, nullable=True),
        sa.Column("items_total", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.Text(), nullable=True),
        sa.Column("lease_until", UTC_TIME, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_sources"),
    )
    op.create_index("ix_sources_next_due", "sources", ["next_due"])

    op.create_table(
        "items",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("guid", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("published", UTC_TIME, nullable=True),
        sa.Column("published_offset", sa.Integer(), nullable=True),
        sa.Column("language", sa.Text(), nullable=False),
        sa.Column("fetched_at", UTC_TIME, nullable=False),
        sa.Column("dated_at", UTC_TIME, nullable=False),
        sa.Column("content_hash", sa.Text(), nullable=False),
        sa.Column("entry_hash", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint("url", name="uq_items_url"),
    )
    op.create_index("ix_items_published", "items", ["published"])
    op.create_index("ix_items_dated_at_id", "items", ["dated_at", "id"])

    op.create_table(
        "matches",
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("watchlist", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("hits", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name="fk_matches_item_id_items", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("item_id", "watchlist", name="pk_matches"),
    )
    op.create_index("ix_matches_watchlist_item_id", "matches", ["watchlist", "item_id"])

    op.create_table(
        "corpus",
        sa.Column("watchlist", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("corpus_id", sa.Text(), nullable=False),
        sa.Column("written", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name="fk_corpus_item_id_items", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("watchlist", "seq", name="pk_corpus"),
        sa.UniqueConstraint("watchlist", "item_id", name="uq_corpus_watchlist_item_id"),
    )
    op.create_index("ix_corpus_item_id", "corpus", ["item_id"])
    op.create_index(
        "ix_corpus_unwritten",
        "corpus",
        ["watchlist", "seq"],
        sqlite_where=sa.text("written = 0"),
        postgresql_where=sa.text("NOT written"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", UTC_TIME, nullable=True),
        sa.Column("sent_at", UTC_TIME, nullable=True),
        sa.Column("dead", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("channel", "key", name="uq_outbox_channel_key"),
    )
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["next_attempt"],
        sqlite_where=sa.text("sent_at IS NULL AND dead = 0"),
        postgresql_where=sa.text("sent_at IS NULL AND NOT dead"),
    )

    op.create_table(
        "cursors",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_cursors"),
    )


def downgrade() -> None:
    op.drop_table("cursors")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_corpus_unwritten", table_name="corpus")
    op.drop_index("ix_corpus_item_id", table_name="corpus")
    op.drop_table("corpus")
    op.drop_index("ix_matches_watchlist_item_id", table_name="matches")
    op.drop_table("matches")
    op.drop_index("ix_items_dated_at_id", table_name="items")
    op.drop_index("ix_items_published", table_name="items")
    op.drop_table("items")
    op.drop_index("ix_sources_next_due", table_name="sources")
    op.drop_table("sources")
