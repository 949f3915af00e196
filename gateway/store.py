"""The gateway's store: SQLAlchemy Core over SQLite (WAL) or PostgreSQL.

Conversations, messages, firms, liaisons, escalations and their events, notes, login tokens and
WeCom dedup keys. Every inbound message is written here before anything else happens to it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

metadata = sa.MetaData()
# The sender_id of a case whose conversation was cleared or purged: a channel-style prefix, so the web
# API refuses these ids outright.
PSEUDONYM_PREFIX = "purged:"
T = TypeVar("T")


class UTCDateTime(sa.types.TypeDecorator):
    """Timestamps stored as UTC and read back timezone-aware, on SQLite (which keeps no zone) too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("sender_id", sa.String(128), primary_key=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("firm_uscc", sa.String(18)),
    sa.Column("needs_resume", sa.Boolean, nullable=False, default=False),
    sa.Column("reply_url", sa.Text),  # 智能机器人 response_url of the latest message (single use, 1 h)
    sa.Column("reply_url_at", UTCDateTime()),
    # sha256 of the web conversation's secret (gateway.ownership); NULL for channels that own their ids.
    sa.Column("token_hash", sa.String(64)),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(128), nullable=False, index=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("sources", sa.Text, nullable=False, default="[]"),
    sa.Column("buttons", sa.Text, nullable=False, default="[]"),
    sa.Column("author", sa.String(64)),
    sa.Column("escalation_id", sa.Integer),
    sa.Column("status", sa.String(16), nullable=False, default="stored"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
firms = sa.Table(
    "firms",
    metadata,
    sa.Column("uscc", sa.String(18), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("level", sa.String(32), nullable=False, default="无"),
    sa.Column("town", sa.String(64)),
    sa.Column("industry", sa.String(64)),
    sa.Column("liaison", sa.String(64)),
    sa.Column("backup_liaison", sa.String(64)),
    sa.Column("demo", sa.Boolean, nullable=False, default=False),
)
liaisons = sa.Table(
    "liaisons",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("department", sa.String(64), nullable=False),
    sa.Column("wecom_userid", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False, default="working"),
    sa.Column("demo", sa.Boolean, nullable=False, default=False),
    sa.Column("role", sa.String(16), nullable=False, server_default="liaison"),  # liaison | admin
)
escalations = sa.Table(
    "escalations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(128), nullable=False, index=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column(
        "open_key", sa.String(128), unique=True
    ),  # sender_id while not resolved: one open per conversation
    sa.Column("firm_uscc", sa.String(18)),
    sa.Column("firm_name", sa.String(200)),
    sa.Column("question", sa.Text, nullable=False, default=""),
    sa.Column("department", sa.String(64)),
    sa.Column("liaison", sa.String(64)),
    sa.Column("backup_liaison", sa.String(64)),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("packet", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("due_at", UTCDateTime(), nullable=False),
    sa.Column("first_response_at", UTCDateTime()),
    sa.Column("resolved_at", UTCDateTime()),
)
escalation_events = sa.Table(
    "escalation_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("escalation_id", sa.Integer, nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, default=""),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
notes = sa.Table(
    "notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("escalation_id", sa.Integer, nullable=False, index=True),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
)
seen_keys = sa.Table(
    "seen_keys",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
wecom_chats = sa.Table(
    "wecom_chats",
    metadata,
    sa.Column("chat_id", sa.String(128), primary_key=True),
    sa.Column("uscc", sa.String(18), nullable=False),
    sa.Column("webhook_key", sa.String(128)),
)
# 微信客服: where kf/sync_msg left off per service account (next_cursor) and the latest callback Token
# (valid 10 minutes), so a restart resumes the pull and neither loses nor repeats a message.
wecom_kf_cursors = sa.Table(
    "wecom_kf_cursors",
    metadata,
    sa.Column("open_kfid", sa.String(128), primary_key=True),
    sa.Column("cursor", sa.String(128), nullable=False, default=""),
    sa.Column("token", sa.String(256)),
    sa.Column("token_at", UTCDateTime()),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
# 微信客服 customers (WeChat users outside the corp, by external_userid) bound to a registered firm.
wecom_kf_customers = sa.Table(
    "wecom_kf_customers",
    metadata,
    sa.Column("external_userid", sa.String(128), primary_key=True),
    sa.Column("uscc", sa.String(18), nullable=False),
    sa.Column("bound_by", sa.String(64), nullable=False),
    sa.Column("bound_at", UTCDateTime(), nullable=False),
)
# Messages waiting to leave through a channel API (WeCom), written in the same transaction as the
# turn that produced them, so a crash can neither lose nor repeat an answer.
outbound = sa.Table(
    "outbound",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # user | chat | webhook | aibot
    sa.Column("target", sa.String(512), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("not_before", UTCDateTime(), nullable=False),
    sa.Column("sent_at", UTCDateTime(), index=True),
)


# Staff access to personal data (个人信息保护法): append-only, read and exported by admins only.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime(), nullable=False, index=True),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.String(128), nullable=False, default=""),
    sa.Column("address", sa.String(64), nullable=False, default=""),
    sa.Column("detail", sa.Text, nullable=False, default=""),
)
# What the retention purge deleted, per day of last activity and channel, so statistics keep their counts.
purged_counts = sa.Table(
    "purged_counts",
    metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("conversations", sa.Integer, nullable=False, default=0),
    sa.Column("user_messages", sa.Integer, nullable=False, default=0),
    sa.Column("bot_messages", sa.Integer, nullable=False, default=0),
)

# SLA reminders already sent, one row per case and stage (due_soon, overdue): the claim that keeps a
# stage from being sent twice, across restarts and gateway workers.
reminders_sent = sa.Table(
    "reminders_sent",
    metadata,
    sa.Column("escalation_id", sa.Integer, primary_key=True),
    sa.Column("stage", sa.String(16), primary_key=True),
    sa.Column("sent_at", UTCDateTime(), nullable=False),
)


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def make_engine(url: str, busy_timeout_s: float = 15.0) -> Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout, PostgreSQL a connect timeout."""
    if url.startswith("sqlite"):
        # SQLAlchemy 1.4 gives file-based SQLite a NullPool: a new connection (and our PRAGMAs) per
        # query, which was most of the gateway's CPU per turn. Pool the connections instead.
        engine = sa.create_engine(
            url,
            future=True,
            poolclass=sa.pool.QueuePool,
            pool_size=8,
            max_overflow=16,
            connect_args={"timeout": busy_timeout_s, "check_same_thread": False},
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_con: Any, _: Any) -> None:
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            cur.close()

        return engine
    return sa.create_engine(
        url,
        future=True,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=busy_timeout_s,
        connect_args={"connect_timeout": max(1, int(busy_timeout_s))} if url.startswith("postgresql") else {},
    )


class StoreError(RuntimeError):
    """The database could not be reached after bounded retries."""


class Store:
    """All reads and writes of the gateway's state."""

    def __init__(self, url: str, busy_timeout_s: float = 15.0) -> None:
        if url.startswith("sqlite:///"):
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine = make_engine(url, busy_timeout_s)

    def create(self) -> None:
        """Create missing tables and columns (two processes creating at once: the loser sees them and is done)."""
        for attempt in range(3):
            try:
                self.retry(lambda: metadata.create_all(self.engine))
                self.retry(self._add_missing_columns)
                return
            except (IntegrityError, ProgrammingError):
                if attempt == 2:
                    raise
                time.sleep(0.2)

    def _add_missing_columns(self) -> None:
        """Add columns introduced after a database was created (nullable or with a server default).

        create_all() only creates whole tables; a store from an earlier release lacks newer columns.
        """
        inspector = sa.inspect(self.engine)
        for table in metadata.sorted_tables:
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                ddl = f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type.compile(self.engine.dialect)}"
                if column.server_default is not None:
                    ddl += f" NOT NULL DEFAULT '{column.server_default.arg}'"
                with self.engine.begin() as con:
                    con.execute(sa.text(ddl))

    def retry(self, fn: Callable[[], T], attempts: int = 5) -> T:
        """Run ``fn`` with bounded retries on transient database errors (locked, unreachable)."""
        delay = 0.05
        for attempt in range(attempts):
            try:
                return fn()
            except OperationalError as exc:
                if attempt == attempts - 1:
                    raise StoreError(f"database unavailable: {exc.orig}") from exc
                time.sleep(delay)
                delay *= 3
        raise AssertionError("unreachable")

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """One transaction."""
        with self.engine.begin() as con:
            yield con

    # -- conversations and messages ---------------------------------------------------------
    def ensure_conversation(self, con: Connection, sender_id: str, channel: str) -> dict[str, Any]:
        """The conversation row, created on first contact."""
        row = (
            con.execute(sa.select(conversations).where(conversations.c.sender_id == sender_id))
            .mappings()
            .first()
        )
        if row is None:
            now = utcnow()
            try:
                with con.begin_nested():
                    con.execute(
                        conversations.insert().values(
                            sender_id=sender_id, channel=channel, created_at=now, updated_at=now
                        )
                    )
            except IntegrityError:
                pass  # a concurrent first message created it
            row = (
                con.execute(sa.select(conversations).where(conversations.c.sender_id == sender_id))
                .mappings()
                .one()
            )
        return dict(row)

    def start_conversation(self, sender_id: str, channel: str, token_hash: str | None = None) -> None:
        """Create a conversation row (a new web conversation with its secret's hash)."""

        def write() -> None:
            now = utcnow()
            with self.tx() as con:
                con.execute(
                    conversations.insert().values(
                        sender_id=sender_id,
                        channel=channel,
                        token_hash=token_hash,
                        created_at=now,
                        updated_at=now,
                    )
                )

        self.retry(write)

    @staticmethod
    def insert_message(
        con: Connection,
        sender_id: str,
        role: str,
        text: str,
        *,
        sources: list[Any] | None = None,
        buttons: list[Any] | None = None,
        author: str | None = None,
        escalation_id: int | None = None,
        status: str = "processed",
    ) -> int:
        """Insert one message inside a caller's transaction; returns its id."""
        result = con.execute(
            messages.insert().values(
                sender_id=sender_id,
                role=role,
                text=text,
                sources=json.dumps(sources or [], ensure_ascii=False),
                buttons=json.dumps(buttons or [], ensure_ascii=False),
                author=author,
                escalation_id=escalation_id,
                status=status,
                created_at=utcnow(),
            )
        )
        return int(result.inserted_primary_key[0])

    @staticmethod
    def queue(con: Connection, deliveries: list[dict[str, str]]) -> None:
        """Queue channel deliveries inside a caller's transaction."""
        now = utcnow()
        for row in deliveries:
            con.execute(
                outbound.insert().values(
                    kind=row["kind"],
                    target=row["target"],
                    text=row["text"],
                    status="pending",
                    attempts=0,
                    created_at=now,
                    not_before=now,
                )
            )

    def add_message(
        self,
        sender_id: str,
        role: str,
        text: str,
        *,
        channel: str = "web",
        sources: list[Any] | None = None,
        buttons: list[Any] | None = None,
        author: str | None = None,
        escalation_id: int | None = None,
        status: str = "stored",
    ) -> int:
        """Persist one message (creating the conversation); returns its id."""

        def write() -> int:
            with self.tx() as con:
                self.ensure_conversation(con, sender_id, channel)
                return self.insert_message(
                    con,
                    sender_id,
                    role,
                    text,
                    sources=sources,
                    buttons=buttons,
                    author=author,
                    escalation_id=escalation_id,
                    status=status,
                )

        return self.retry(write)

    def add_message_once(self, key: str, sender_id: str, text: str, *, channel: str) -> int | None:
        """Persist an inbound message unless ``key`` (e.g. a WeCom MsgId) was seen; one transaction,
        so a retry of the same message is never stored or answered twice. Returns the id, or None."""

        def write() -> int | None:
            try:
                with self.tx() as con:
                    con.execute(seen_keys.insert().values(key=key, created_at=utcnow()))
                    self.ensure_conversation(con, sender_id, channel)
                    return self.insert_message(con, sender_id, "user", text, status="stored")
            except IntegrityError:
                return None

        return self.retry(write)

    def touch(self, con: Connection, sender_id: str) -> None:
        """Record activity on a conversation (once per turn, with its replies)."""
        con.execute(
            conversations.update().where(conversations.c.sender_id == sender_id).values(updated_at=utcnow())
        )

    def finish_turn(
        self,
        message_id: int | None,
        sender_id: str,
        channel: str,
        replies: list[dict[str, Any]],
        deliveries: list[dict[str, str]],
        *,
        role: str = "bot",
        status: str = "processed",
    ) -> None:
        """Store a turn's replies, queue their channel deliveries and mark the user message, atomically."""

        def write() -> None:
            with self.tx() as con:
                self.ensure_conversation(con, sender_id, channel)
                self.touch(con, sender_id)
                for reply in replies:
                    self.insert_message(
                        con,
                        sender_id,
                        role,
                        reply["text"],
                        sources=reply.get("sources"),
                        buttons=reply.get("buttons"),
                        author=reply.get("author"),
                        escalation_id=reply.get("escalation_id"),
                    )
                self.queue(con, deliveries)
                if message_id is not None:
                    con.execute(messages.update().where(messages.c.id == message_id).values(status=status))

        self.retry(write)

    def claim_stored(self, channel_prefix: str, limit: int = 20) -> list[dict[str, Any]]:
        """Take stored (unprocessed) user messages of a channel for processing; each row goes to one worker."""
        with self.engine.connect() as con:
            rows = (
                con.execute(
                    sa.select(messages.c.id, messages.c.sender_id, messages.c.text, conversations.c.channel)
                    .join(conversations, conversations.c.sender_id == messages.c.sender_id)
                    .where(
                        messages.c.role == "user",
                        messages.c.status == "stored",
                        conversations.c.channel.like(f"{channel_prefix}%"),
                    )
                    .order_by(messages.c.id)
                    .limit(limit)
                )
                .mappings()
                .all()
            )
        taken = []
        for row in rows:
            with self.tx() as con:
                won = con.execute(
                    messages.update()
                    .where(messages.c.id == row["id"], messages.c.status == "stored")
                    .values(status="processing")
                ).rowcount
            if won:
                taken.append(dict(row))
        return taken

    def requeue_processing(self, channel_prefix: str) -> int:
        """After a restart: messages left mid-processing by a dead process go back to the queue."""
        with self.tx() as con:
            ids = (
                sa.select(messages.c.id)
                .join(conversations, conversations.c.sender_id == messages.c.sender_id)
                .where(messages.c.status == "processing", conversations.c.channel.like(f"{channel_prefix}%"))
            )
            return int(
                con.execute(messages.update().where(messages.c.id.in_(ids)).values(status="stored")).rowcount
            )

    def messages_after(self, sender_id: str, after: int = 0, limit: int = 500) -> list[dict[str, Any]]:
        """Messages of one conversation with id > after, in order."""

        def read() -> list[dict[str, Any]]:
            with self.engine.connect() as con:
                rows = (
                    con.execute(
                        sa.select(messages)
                        .where(messages.c.sender_id == sender_id, messages.c.id > after)
                        .order_by(messages.c.id)
                        .limit(limit)
                    )
                    .mappings()
                    .all()
                )
            return [message_dict(r) for r in rows]

        return self.retry(read)

    def set_needs_resume(self, sender_id: str, value: bool) -> None:
        """Remember that Rasa's tracker still has to be resumed (survives a failed resume call)."""
        with self.tx() as con:
            con.execute(
                conversations.update()
                .where(conversations.c.sender_id == sender_id)
                .values(needs_resume=value)
            )

    def conversation(self, sender_id: str) -> dict[str, Any] | None:
        """One conversation row or None."""
        with self.engine.connect() as con:
            row = (
                con.execute(sa.select(conversations).where(conversations.c.sender_id == sender_id))
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def unprocessed_messages(self, role: str = "user") -> list[dict[str, Any]]:
        """User messages stored but never processed (e.g. the gateway died mid-turn)."""
        with self.engine.connect() as con:
            rows = (
                con.execute(
                    sa.select(messages)
                    .where(messages.c.role == role, messages.c.status == "stored")
                    .order_by(messages.c.id)
                )
                .mappings()
                .all()
            )
        return [message_dict(r) for r in rows]

    # -- dedup keys (WeCom MsgId) -----------------------------------------------------------
    def first_time(self, key: str) -> bool:
        """Record ``key``; True only the first time it is seen (durable across restarts)."""

        def write() -> bool:
            try:
                with self.tx() as con:
                    con.execute(seen_keys.insert().values(key=key, created_at=utcnow()))
                return True
            except IntegrityError:
                return False

        return self.retry(write)


def message_dict(row: Any) -> dict[str, Any]:
    """A message row as the API returns it."""
    created = aware(row["created_at"])
    return {
        "id": row["id"],
        "role": row["role"],
        "text": row["text"],
        "sources": json.loads(row["sources"] or "[]"),
        "buttons": json.loads(row["buttons"] or "[]"),
        "author": row["author"],
        "created_at": created.isoformat() if created else None,
    }
