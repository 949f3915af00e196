"""indexes for the paged case list

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 08:32:14.906395
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_escalations_unresolved",
            ["id"],
            unique=False,
            sqlite_where=sa.text("status != 'resolved'"),
            postgresql_where=sa.text("status != 'resolved'"),
        )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_escalation_status_role", ["escalation_id", "status", "role"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_escalation_status_role")

    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_escalations_unresolved",
            sqlite_where=sa.text("status != 'resolved'"),
            postgresql_where=sa.text("status != 'resolved'"),
        )
