"""SLA reminders' data: the cases near or past their first-response deadline that nobody has taken,
and the record of a reminder sent (its claim in ``reminders_sent``, the case event and its WeCom
deliveries, in one transaction). ``gateway.reminders`` decides when and what to remind."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from gateway.data.schema import escalation_events, escalations, reminders_sent
from gateway.data.store import Store


class ReminderCase(TypedDict):
    """What a reminder needs of a case."""

    id: int
    firm_name: str | None
    question: str
    department: str | None
    liaison: str | None
    backup_liaison: str | None
    due_at: datetime


def cases_due_by(store: Store, deadline: datetime) -> list[ReminderCase]:
    """Open cases nobody has answered yet whose first-response deadline is at or before ``deadline``."""
    with store.engine.connect() as con:
        rows = (
            con.execute(
                sa.select(
                    escalations.c.id,
                    escalations.c.firm_name,
                    escalations.c.question,
                    escalations.c.department,
                    escalations.c.liaison,
                    escalations.c.backup_liaison,
                    escalations.c.due_at,
                ).where(
                    escalations.c.status == "open",
                    escalations.c.first_response_at.is_(None),
                    escalations.c.due_at <= deadline,
                )
            )
            .mappings()
            .all()
        )
    return [
        ReminderCase(
            id=row["id"],
            firm_name=row["firm_name"],
            question=row["question"],
            department=row["department"],
            liaison=row["liaison"],
            backup_liaison=row["backup_liaison"],
            due_at=row["due_at"],
        )
        for row in rows
    ]


def record_reminder(
    store: Store,
    escalation_id: int,
    stage: str,
    *,
    at: datetime,
    detail: str,
    deliveries: list[dict[str, str]],
) -> bool:
    """Claim a case's reminder stage and, in the same transaction, write its ``reminded`` event and
    queue its deliveries.

    Returns:
        False when the stage was claimed already (earlier, or by another worker just now): nothing
        is written then.
    """
    try:
        with store.tx() as con:
            con.execute(reminders_sent.insert().values(escalation_id=escalation_id, stage=stage, sent_at=at))
            con.execute(
                escalation_events.insert().values(
                    escalation_id=escalation_id,
                    kind="reminded",
                    actor="system",
                    created_at=at,
                    detail=detail,
                )
            )
            store.queue(con, deliveries)
    except IntegrityError:
        return False
    return True
