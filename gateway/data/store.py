"""The gateway's store: engine, transactions and retries over SQLite (WAL) or PostgreSQL, and the
conversations and messages. Every inbound message is written here before anything else happens to it.
Other aggregates have their own modules in this package; nothing outside ``gateway.data`` runs SQL.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from gateway.data.schema import (
    NOTIFY_CHANNEL,
    aware,
    conversations,
    messages,
    outbound,
    seen_keys,
    utcnow,
)

T = TypeVar("T")
_NEW_MESSAGES = "hqt_new_messages"  # Connection.info key: sender_ids given messages in this transaction
# Connection.info key: the transaction about to begin writes (on SQLite: BEGIN IMMEDIATE).
_WRITING = "hqt_writing"


# The statements of every turn, built once: SQLAlchemy then finds each compiled form by a cache key
# it memoises on the statement, instead of building and hashing a new statement per call.
_CONVERSATION = sa.select(conversations).where(conversations.c.sender_id == sa.bindparam("b_sender"))
_INSERT_MESSAGE = messages.insert()
_TOUCH = (
    conversations.update()
    .where(conversations.c.sender_id == sa.bindparam("b_sender"))
    .values(updated_at=sa.bindparam("b_now"))
)
_MARK_MESSAGE = (
    messages.update()
    .where(messages.c.id == sa.bindparam("b_id"))
    .values(
        status=sa.bindparam("b_status"), outcome=sa.bindparam("b_outcome"), subject=sa.bindparam("b_subject")
    )
)


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
            # The driver's own transaction handling off: SQLAlchemy's "begin" (below) says BEGIN, so a
            # write transaction takes the write lock at its start and SAVEPOINTs work.
            dbapi_con.isolation_level = None
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(con: Connection) -> None:
            # A write transaction (Store.tx) locks at BEGIN IMMEDIATE: one that read first and then
            # wrote would fail at once (SQLITE_BUSY, no busy wait) whenever another had written since
            # its read began. A read (engine.connect) runs each statement on its own, as the driver did.
            if con.info.pop(_WRITING, False):
                con.exec_driver_sql("BEGIN IMMEDIATE")

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
        self.busy_timeout_s = busy_timeout_s
        self.engine = make_engine(url, busy_timeout_s)
        # SQLite has one writer at a time: this process's writers queue here and each is woken the
        # moment the one before commits, instead of polling SQLite's busy handler (sleeps of 1 to
        # 100 ms). Other processes on the same file still wait in the busy handler.
        self._sqlite = url.startswith("sqlite")
        self._writer: Any = threading.RLock() if self._sqlite else nullcontext()
        # Called with the sender_ids that got new messages, after the transaction commits
        # (gateway.bus.MessageBus.publish: the live streams).
        self.listeners: list[Callable[[set[str]], None]] = []

    def create(self) -> None:
        """Bring the database to the newest schema: alembic migrations (gateway.migrate), run under a lock.

        Two processes creating at once take turns and the later one finds the work done; should a
        database refuse the lock, a clash on a table or row already created is retried.
        """
        from gateway import migrate

        for attempt in range(3):
            try:
                self.retry(lambda: migrate.upgrade(self.url))
                return
            except (IntegrityError, ProgrammingError):
                if attempt == 2:
                    raise
                time.sleep(0.2)

    def retry(self, fn: Callable[[], T], attempts: int = 5) -> T:
        """Run ``fn`` with bounded retries on transient database errors (locked, unreachable).

        A locked SQLite database has already been waited for (its busy timeout): it is retried only
        until ``busy_timeout_s`` has passed in all, so a long lock ends in one clear StoreError after
        about that long, not after attempts × the timeout. Blocking: async code runs this in a thread.
        """
        delay = 0.05
        started = time.monotonic()
        for attempt in range(attempts):
            try:
                return fn()
            except OperationalError as exc:
                locked = "locked" in str(exc.orig) or "busy" in str(exc.orig)
                waited_enough = locked and time.monotonic() - started + delay >= self.busy_timeout_s
                if attempt == attempts - 1 or waited_enough:
                    raise StoreError(f"database unavailable: {exc.orig}") from exc
                time.sleep(delay)
                delay *= 3
        raise AssertionError("unreachable")

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return str(self.engine.dialect.name)

    def ping(self) -> None:
        """One round trip to the database (raises when it does not answer)."""
        with self.engine.connect() as con:
            con.execute(sa.text("SELECT 1"))

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """One transaction; conversations that got new messages in it are announced after it commits
        (to this process's listeners, and on PostgreSQL to every worker by NOTIFY)."""
        with self._writer, self.engine.connect() as con:
            con.info[_WRITING] = self._sqlite
            with con.begin():
                con.info.pop(_NEW_MESSAGES, None)  # left over from a transaction that failed
                yield con
                senders: set[str] = con.info.pop(_NEW_MESSAGES, set())
                if senders and con.dialect.name == "postgresql":
                    for sender in sorted(senders):
                        con.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, sender)))
        if senders:
            for listener in self.listeners:
                listener(senders)

    # -- conversations and messages ---------------------------------------------------------
    def ensure_conversation(
        self, con: Connection, sender_id: str, channel: str, token_hash: str | None = None
    ) -> dict[str, Any]:
        """The conversation row, created on first contact (a new web conversation with its secret's hash)."""
        row = con.execute(_CONVERSATION, {"b_sender": sender_id}).mappings().first()
        if row is None:
            now = utcnow()
            try:
                with con.begin_nested():
                    con.execute(
                        conversations.insert().values(
                            sender_id=sender_id,
                            channel=channel,
                            token_hash=token_hash,
                            created_at=now,
                            updated_at=now,
                        )
                    )
            except IntegrityError:
                pass  # a concurrent first message created it
            row = con.execute(_CONVERSATION, {"b_sender": sender_id}).mappings().one()
        return dict(row)

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
        kind: str = "text",
    ) -> int:
        """Insert one message inside a caller's transaction (``Store.tx``, which announces it); returns its id."""
        con.info.setdefault(_NEW_MESSAGES, set()).add(sender_id)
        result = con.execute(
            _INSERT_MESSAGE,
            {
                "sender_id": sender_id,
                "role": role,
                "text": text,
                "sources": json.dumps(sources or [], ensure_ascii=False),
                "buttons": json.dumps(buttons or [], ensure_ascii=False),
                "author": author,
                "escalation_id": escalation_id,
                "status": status,
                "kind": kind,
                "created_at": utcnow(),
            },
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

    def touch(self, con: Connection, sender_id: str) -> bool:
        """Record activity on a conversation (once per turn, with its replies); False when there is none."""
        return bool(con.execute(_TOUCH, {"b_sender": sender_id, "b_now": utcnow()}).rowcount)

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
        outcome: str | None = None,
        subject: str | None = None,
    ) -> None:
        """Store a turn's replies, queue their channel deliveries and mark the user message (its status,
        and what the turn was: ``huiqitong.outcome``), atomically."""

        def write() -> None:
            with self.tx() as con:
                if not self.touch(con, sender_id):  # no such conversation (yet, or cleared meanwhile)
                    self.ensure_conversation(con, sender_id, channel)
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
                        kind=reply.get("kind") or "text",
                    )
                self.queue(con, deliveries)
                if message_id is not None:
                    con.execute(
                        _MARK_MESSAGE,
                        {"b_id": message_id, "b_status": status, "b_outcome": outcome, "b_subject": subject},
                    )

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
            row = con.execute(_CONVERSATION, {"b_sender": sender_id}).mappings().first()
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
        "kind": row["kind"],
        "created_at": created.isoformat() if created else None,
    }
