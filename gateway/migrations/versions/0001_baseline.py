"""Baseline: the schema that ``metadata.create_all`` made before migrations (gateway.store as of then).

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Timestamps are gateway.data.schema.UTCDateTime, whose column type is DateTime(timezone=True). Databases made by
create_all are completed to this schema and stamped with it (gateway.migrate.complete_legacy), which
reads the tables and indexes from upgrade() below: keep it to op.create_table and op.create_index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_table(
        "conversations",
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("firm_uscc", sa.String(length=18), nullable=True),
        sa.Column("needs_resume", sa.Boolean(), nullable=False),
        sa.Column("reply_url", sa.Text(), nullable=True),
        sa.Column("reply_url_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender_id"),
    )
    op.create_table(
        "escalation_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_escalation_events_escalation_id"), "escalation_events", ["escalation_id"], unique=False
    )
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_key", sa.String(length=128), nullable=True),
        sa.Column("firm_uscc", sa.String(length=18), nullable=True),
        sa.Column("firm_name", sa.String(length=200), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=True),
        sa.Column("liaison", sa.String(length=64), nullable=True),
        sa.Column("backup_liaison", sa.String(length=64), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("packet", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key"),
    )
    op.create_index(op.f("ix_escalations_sender_id"), "escalations", ["sender_id"], unique=False)
    op.create_table(
        "firms",
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("town", sa.String(length=64), nullable=True),
        sa.Column("industry", sa.String(length=64), nullable=True),
        sa.Column("liaison", sa.String(length=64), nullable=True),
        sa.Column("backup_liaison", sa.String(length=64), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("uscc"),
    )
    op.create_table(
        "liaisons",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("wecom_userid", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("role", sa.String(length=16), server_default="liaison", nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("buttons", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=True),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_messages_sender_id"), "messages", ["sender_id"], unique=False)
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_notes_escalation_id"), "notes", ["escalation_id"], unique=False)
    op.create_table(
        "outbound",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=512), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_outbound_sent_at"), "outbound", ["sent_at"], unique=False)
    op.create_table(
        "purged_counts",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("conversations", sa.Integer(), nullable=False),
        sa.Column("user_messages", sa.Integer(), nullable=False),
        sa.Column("bot_messages", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "channel"),
    )
    op.create_table(
        "reminders_sent",
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("escalation_id", "stage"),
    )
    op.create_table(
        "seen_keys",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_table(
        "wecom_chats",
        sa.Column("chat_id", sa.String(length=128), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("webhook_key", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("chat_id"),
    )
    op.create_table(
        "wecom_kf_cursors",
        sa.Column("open_kfid", sa.String(length=128), nullable=False),
        sa.Column("cursor", sa.String(length=128), nullable=False),
        sa.Column("token", sa.String(length=256), nullable=True),
        sa.Column("token_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("open_kfid"),
    )
    op.create_table(
        "wecom_kf_customers",
        sa.Column("external_userid", sa.String(length=128), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("bound_by", sa.String(length=64), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("external_userid"),
    )


def downgrade() -> None:
    op.drop_table("wecom_kf_customers")
    op.drop_table("wecom_kf_cursors")
    op.drop_table("wecom_chats")
    op.drop_table("tokens")
    op.drop_table("seen_keys")
    op.drop_table("reminders_sent")
    op.drop_table("purged_counts")
    op.drop_index(op.f("ix_outbound_sent_at"), table_name="outbound")
    op.drop_table("outbound")
    op.drop_index(op.f("ix_notes_escalation_id"), table_name="notes")
    op.drop_table("notes")
    op.drop_index(op.f("ix_messages_sender_id"), table_name="messages")
    op.drop_table("messages")
    op.drop_table("liaisons")
    op.drop_table("firms")
    op.drop_index(op.f("ix_escalations_sender_id"), table_name="escalations")
    op.drop_table("escalations")
    op.drop_index(op.f("ix_escalation_events_escalation_id"), table_name="escalation_events")
    op.drop_table("escalation_events")
    op.drop_table("conversations")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
