"""The gateway's tables (SQLAlchemy Core), one definition for SQLite and PostgreSQL.

Changing a table needs an alembic revision (``python -m gateway.migrate revision -m "..."``);
``tests/gateway/test_migrations.py`` fails when the tables and the migrations disagree. Only the data
layer (``gateway.data``) reads or writes these tables.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()
# The sender_id of a case whose conversation was cleared or purged: a channel-style prefix, so the web
# API refuses these ids outright.
PSEUDONYM_PREFIX = "purged:"
NOTIFY_CHANNEL = "hqt_messages"  # PostgreSQL NOTIFY channel (gateway.bus.PgListener listens)


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
    # huiqitong.vocabulary.MESSAGE_KINDS: "resumed" ends a liaison's case for the widget
    sa.Column("kind", sa.String(16), nullable=False, server_default="text"),
    # An owner message's turn, once answered (huiqitong.outcome.OUTCOMES: letter, staff, verdict, …) and
    # the record it was about (answered, or shown as related to a decline): what the dashboard counts.
    sa.Column("outcome", sa.String(16)),
    sa.Column("subject", sa.String(64)),
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

# Knowledge the editors keep (gateway.data.knowledge): source documents, and every version of every
# record. A record's published version is what the index is built from; a draft waits for publishing.
kb_sources = sa.Table(
    "kb_sources",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("doc_no", sa.String(128), nullable=False, default=""),
    sa.Column("issuer", sa.String(128), nullable=False, default=""),
    sa.Column("date", sa.String(10), nullable=False, default=""),
    sa.Column("disclosure", sa.String(32), nullable=False, default=""),
    sa.Column("cited_as", sa.String(64), nullable=False, default=""),
    sa.Column("contact", sa.String(128), nullable=False, default=""),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
kb_records = sa.Table(
    "kb_records",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("published_version", sa.Integer),
    sa.Column("draft_version", sa.Integer),
    sa.Column("updated_by", sa.String(64), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
kb_record_versions = sa.Table(
    "kb_record_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),  # the record as JSON (gateway.knowledge.RecordIn's fields)
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("note", sa.String(200), nullable=False, default=""),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("published_at", UTCDateTime()),
    sa.UniqueConstraint("record_id", "version", name="uq_kb_record_version"),
)
# A liaison's reply proposed as a common answer (建议入库), then reviewed by an editor: published ones
# are answered by the bot, labelled as staff answers, until their review date.
kb_staff_answers = sa.Table(
    "kb_staff_answers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("escalation_id", sa.Integer),
    sa.Column("questions", sa.Text, nullable=False),  # JSON list of question variants
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("department", sa.String(128), nullable=False),
    sa.Column("record_ids", sa.Text, nullable=False, default="[]"),  # JSON list of related record ids
    sa.Column("review_by", sa.String(10)),  # YYYY-MM-DD: not used after this date
    sa.Column("status", sa.String(16), nullable=False, index=True),  # pending, published, rejected, withdrawn
    sa.Column("proposed_by", sa.String(64), nullable=False),
    sa.Column("proposed_at", UTCDateTime(), nullable=False),
    sa.Column("reviewed_by", sa.String(64)),
    sa.Column("reviewed_at", UTCDateTime()),
    sa.Column("reason", sa.String(500), nullable=False, default=""),
    sa.Column("published_at", UTCDateTime()),
)

# Owners' ratings (issue 16): of one bot answer (kind "answer": 1 有帮助, 0 没帮助, with an optional
# reason) and of a resolved case (kind "case": 1–5 with an optional comment). ``key`` ("answer:<message
# id>", "case:<escalation id>") makes a rating one row that a second click changes.
ratings = sa.Table(
    "ratings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("sender_id", sa.String(128), nullable=False, index=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("message_id", sa.Integer),
    sa.Column("escalation_id", sa.Integer),
    sa.Column("value", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
# A registered firm's facts for 精准推送: from the registry or stated by the owner in a conversation
# (the latest statement of each fact wins), with when and where it was stated.
firm_facts = sa.Table(
    "firm_facts",
    metadata,
    sa.Column("uscc", sa.String(18), primary_key=True),
    sa.Column("fact", sa.String(32), primary_key=True),  # huiqitong.vocabulary.FACT_LABELS
    sa.Column("value", sa.Text, nullable=False),  # JSON
    sa.Column("origin", sa.String(16), nullable=False),  # registry | conversation | editor
    sa.Column("sender_id", sa.String(128)),
    sa.Column("stated_at", UTCDateTime(), nullable=False),
)
# 精准推送: one row per firm and record version (never twice), with why the firm fits, how it was sent
# and when the widget showed it.
pushes = sa.Table(
    "pushes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("uscc", sa.String(18), nullable=False, index=True),
    sa.Column("verdict", sa.String(16), nullable=False),  # 符合 | 信息不足
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("channels", sa.String(64), nullable=False, default=""),  # wecom-chat,wecomkf,web…
    sa.Column("sent_by", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("seen_at", UTCDateTime()),
    sa.UniqueConstraint("record_id", "version", "uscc", name="uq_push_once"),
)
push_optouts = sa.Table(
    "push_optouts",
    metadata,
    sa.Column("uscc", sa.String(18), primary_key=True),
    sa.Column("via", sa.String(32), nullable=False),  # the channel the owner stopped pushes from
    sa.Column("at", UTCDateTime(), nullable=False),
)

# The dashboard counts owner messages by day and outcome.
sa.Index("ix_messages_role_created", messages.c.role, messages.c.created_at)

# The console's case list (gateway.data.escalations.page_for): unread counts per case, and the open
# cases only (a partial index: resolved cases pile up, open ones stay few).
sa.Index("ix_messages_escalation_status_role", messages.c.escalation_id, messages.c.status, messages.c.role)
sa.Index(
    "ix_escalations_unresolved",
    escalations.c.id,
    sqlite_where=escalations.c.status != "resolved",
    postgresql_where=escalations.c.status != "resolved",
)


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
