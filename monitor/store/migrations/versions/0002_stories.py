"""stories: story of each item, story evidence keys, watchlists per story; developments on
matches; priority, threading, digest folding and worker claims in the outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("first_at", UTC_TIME, nullable=False),
        sa.Column("last_at", UTC_TIME, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stories"),
    )
    op.create_index("ix_stories_first_at", "stories", ["first_at"])
    op.create_table(
        "story_keys",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("story_id", sa.Text(), nullable=False),
        sa.Column("first_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name="fk_story_keys_story_id_stories", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key", "story_id", name="pk_story_keys"),
    )
    op.create_index("ix_story_keys_key_first_at", "story_keys", ["key", "first_at"])
    op.create_table(
        "story_watchlists",
        sa.Column("story_id", sa.Text(), nullable=False),
        sa.Column("watchlist", sa.Text(), nullable=False),
        sa.Column("first_item", sa.Text(), nullable=False),
        sa.Column("first_at", UTC_TIME, nullable=False),
        sa.Column("alerted_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["story_id"],
            ["stories.id"],
            name="fk_story_watchlists_story_id_stories",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("story_id", "watchlist", name="pk_story_watchlists"),
    )
    op.create_index(
        "ix_story_watchlists_watchlist_first_at", "story_watchlists", ["watchlist", "first_at"]
    )
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("story_id", sa.Text(), nullable=True))
        batch.create_index("ix_items_story_id", ["story_id"])
        batch.create_index("ix_items_content_hash", ["content_hash"])
    with op.batch_alter_table("matches") as batch:
        batch.add_column(sa.Column("developments", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("thread_key", sa.Text(), nullable=True))
        batch.add_column(sa.Column("fold", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("receipt", sa.Text(), nullable=True))
        batch.add_column(sa.Column("folded_into", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claim_owner", sa.Text(), nullable=True))
        batch.add_column(sa.Column("claim_until", UTC_TIME, nullable=True))
    # Items stored before stories existed: each is a story of its own, and each story that
    # matched a watchlist counts as alerted (the old policy alerted per item).
    op.execute(
        "INSERT INTO stories (id, first_at, last_at, created_at, title, size, evidence) "
        "SELECT id, dated_at, dated_at, fetched_at, title, 1, '{}' FROM items"
    )
    op.execute("UPDATE items SET story_id = id")
    op.execute(
        "INSERT INTO story_watchlists (story_id, watchlist, first_item, first_at, alerted_at) "
        "SELECT m.item_id, m.watchlist, m.item_id, i.fetched_at, i.fetched_at "
        "FROM matches m JOIN items i ON i.id = m.item_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        for column in (
            "claim_until",
            "claim_owner",
            "folded_into",
            "receipt",
            "fold",
            "thread_key",
            "priority",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("matches") as batch:
        batch.drop_column("developments")
    with op.batch_alter_table("items") as batch:
        batch.drop_index("ix_items_content_hash")
        batch.drop_index("ix_items_story_id")
        batch.drop_column("story_id")
    op.drop_index("ix_story_watchlists_watchlist_first_at", table_name="story_watchlists")
    op.drop_table("story_watchlists")
    op.drop_index("ix_story_keys_key_first_at", table_name="story_keys")
    op.drop_table("story_keys")
    op.drop_index("ix_stories_first_at", table_name="stories")
    op.drop_table("stories")
