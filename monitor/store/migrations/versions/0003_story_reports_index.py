"""items: a story's reports in publication order come from an index, not a sort; the index
on `published`, which no query used, is dropped (every insert paid for it)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_items_story_id_dated_at_id", "items", ["story_id", "dated_at", "id"]
    )
    op.drop_index("ix_items_story_id", table_name="items")
    op.drop_index("ix_items_published", table_name="items")


def downgrade() -> None:
    op.create_index("ix_items_published", "items", ["published"])
    op.create_index("ix_items_story_id", "items", ["story_id"])
    op.drop_index("ix_items_story_id_dated_at_id", table_name="items")
