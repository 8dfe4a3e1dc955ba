"""The tables, as SQLAlchemy Core metadata: the newest schema, which the Alembic revisions in
`migrations/versions/` must produce (the contract tests compare the two).

Times are stored in UTC (`UTCDateTime`); an item's publication time also keeps the offset the
source gave it (`published_offset`, minutes) so it reads back in the source's own zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """An aware datetime stored as UTC. SQLite has no zone-aware type (SQLAlchemy would drop the
    offset silently), so it gets naive UTC text, whose string order is time order."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class CleanText(sa.TypeDecorator[str]):
    """Text without NUL characters: PostgreSQL refuses them, and hostile feeds carry them. Both
    backends strip them so that they behave alike."""

    impl = sa.Text()
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or "\x00" not in value:
            return value
        return value.replace("\x00", "")


sources = sa.Table(
    "sources",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("next_due", UTCDateTime, nullable=False),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("content_hash", sa.Text),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("last_status", sa.Text, nullable=False, default="never"),
    sa.Column("last_success", UTCDateTime),
    sa.Column("last_error", CleanText),
    sa.Column("last_polled", UTCDateTime),
    sa.Column("items_total", sa.Integer, nullable=False, default=0),
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_until", UTCDateTime),
    # False for a row whose source left the configuration: kept for its history, never claimed
    # by `claim_due`, so it cannot take a batch slot on every tick.
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Index(None, "next_due"),
)

items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("url", sa.Text, unique=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("guid", CleanText),
    sa.Column("title", CleanText, nullable=False),
    sa.Column("summary", CleanText, nullable=False),
    sa.Column("text", CleanText, nullable=False),
    sa.Column("published", UTCDateTime),
    sa.Column("published_offset", sa.Integer),  # minutes east of UTC, as the source gave it
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
    # published, else fetched_at: the one key that orders and filters `iter_items`
    sa.Column("dated_at", UTCDateTime, nullable=False),
    sa.Column("content_hash", sa.Text, nullable=False),
    sa.Column("entry_hash", sa.Text, nullable=False),
    sa.Column("story_id", sa.Text),  # set for every item saved since revision 0002
    sa.Index(None, "dated_at", "id"),
    # a story's reports in order (`facts` reads the first few of a story of hundreds)
    sa.Index(None, "story_id", "dated_at", "id"),
    sa.Index(None, "content_hash"),
)

# A story: reports of one event, across outlets and languages (see monitor.stories).
stories = sa.Table(
    "stories",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("first_at", UTCDateTime, nullable=False),  # earliest item's dated_at
    sa.Column("last_at", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),  # when the monitor first saw it
    sa.Column("title", CleanText, nullable=False),  # the first item's title
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),  # {"entities": [...], "numbers": [...]}
    sa.Index(None, "first_at"),
)

# Evidence keys of each story ("e:pakistan", "n:1500"), to find the candidates an item may
# join: one indexed look-up per key within the time window.
story_keys = sa.Table(
    "story_keys",
    metadata,
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("story_id", sa.Text, sa.ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    sa.Column("first_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("key", "story_id"),
    sa.Index(None, "key", "first_at"),
)

# Which watchlists a story has matched, since when, and whether it has been alerted.
story_watchlists = sa.Table(
    "story_watchlists",
    metadata,
    sa.Column("story_id", sa.Text, sa.ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    sa.Column("watchlist", sa.Text, nullable=False),
    sa.Column("first_item", sa.Text, nullable=False),
    sa.Column("first_at", UTCDateTime, nullable=False),
    sa.Column("alerted_at", UTCDateTime),
    sa.PrimaryKeyConstraint("story_id", "watchlist"),
    sa.Index(None, "watchlist", "first_at"),
)

matches = sa.Table(
    "matches",
    metadata,
    sa.Column("item_id", sa.Text, sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    sa.Column("watchlist", sa.Text, nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("hits", sa.JSON, nullable=False),
    sa.Column("developments", sa.JSON, nullable=False, server_default="[]"),
    sa.PrimaryKeyConstraint("item_id", "watchlist"),
    sa.Index(None, "watchlist", "item_id"),
)

corpus = sa.Table(
    "corpus",
    metadata,
    sa.Column("watchlist", sa.Text, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("item_id", sa.Text, sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    sa.Column("corpus_id", sa.Text, nullable=False),
    sa.Column("written", sa.Boolean, nullable=False, default=False),
    sa.PrimaryKeyConstraint("watchlist", "seq"),
    sa.UniqueConstraint("watchlist", "item_id"),
    sa.Index(None, "item_id"),
    sa.Index(
        "ix_corpus_unwritten",
        "watchlist",
        "seq",
        sqlite_where=sa.text("written = 0"),
        postgresql_where=sa.text("NOT written"),
    ),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt", UTCDateTime),  # NULL once sent or dead
    sa.Column("sent_at", UTCDateTime),
    sa.Column("dead", sa.Boolean, nullable=False, default=False),
    sa.Column("last_error", CleanText),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False, server_default="1"),
    sa.Column("thread_key", sa.Text),  # the key of the alert this one replies to
    sa.Column("fold", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("receipt", sa.Text),  # the channel's answer (Slack ts), for thread replies
    sa.Column("folded_into", sa.Integer),  # the digest alert that carried this one
    # The worker delivering (or folding) this row right now, and until when (see outbox.py).
    sa.Column("claim_owner", sa.Text),
    sa.Column("claim_until", UTCDateTime),
    sa.UniqueConstraint("channel", "key"),
    sa.Index(
        "ix_outbox_due",
        "next_attempt",
        sqlite_where=sa.text("sent_at IS NULL AND dead = 0"),
        postgresql_where=sa.text("sent_at IS NULL AND NOT dead"),
    ),
)

cursors = sa.Table(
    "cursors",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
