"""staff answers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 11:27:03.042162
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_staff_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=128), nullable=False),
        sa.Column("record_ids", sa.Text(), nullable=False),
        sa.Column("review_by", sa.String(length=10), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_staff_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_staff_answers_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kb_staff_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_staff_answers_status"))

    op.drop_table("kb_staff_answers")
