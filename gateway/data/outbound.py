"""The outbound queue's rows: messages waiting to leave through a channel API (WeCom), written with the
turn that produced them. ``gateway.wecom.outbox.Outbox`` decides what to send when; this module only
reads and changes the rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from gateway.data.schema import outbound, utcnow
from gateway.data.store import Store


class OutboundRow(TypedDict):
    """One row of the outbound queue."""

    id: int
    kind: str  # user | chat | webhook | aibot | kf | kfevent
    target: str
    text: str
    status: str  # pending | sending | sent | failed
    attempts: int
    last_error: str | None
    created_at: datetime
    not_before: datetime
    sent_at: datetime | None


def outbound_row(row: RowMapping) -> OutboundRow:
    """A row of ``outbound`` as an ``OutboundRow``."""
    return OutboundRow(
        id=row["id"],
        kind=row["kind"],
        target=row["target"],
        text=row["text"],
        status=row["status"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        not_before=row["not_before"],
        sent_at=row["sent_at"],
    )


class Outbound:
    """Reads and writes of the outbound queue."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def enqueue(self, rows: list[dict[str, str]]) -> None:
        """Queue deliveries (``kind``, ``target``, ``text``) in a transaction of their own."""
        if rows:
            with self.store.tx() as con:
                self.store.queue(con, rows)

    def sent_within(self, target: str, seconds: int) -> int:
        """How many messages ``target`` was sent in the last ``seconds``."""
        since = utcnow() - timedelta(seconds=seconds)
        with self.store.engine.connect() as con:
            return int(
                con.execute(
                    sa.select(sa.func.count())
                    .select_from(outbound)
                    .where(
                        outbound.c.target == target, outbound.c.status == "sent", outbound.c.sent_at > since
                    )
                ).scalar_one()
            )

    def due(self, limit: int = 200) -> list[OutboundRow]:
        """Pending rows whose time has come, oldest first."""
        now = utcnow()
        with self.store.engine.connect() as con:
            rows = (
                con.execute(
                    sa.select(outbound)
                    .where(outbound.c.status == "pending", outbound.c.not_before <= now)
                    .order_by(outbound.c.id)
                    .limit(limit)
                )
                .mappings()
                .all()
            )
        return [outbound_row(row) for row in rows]

    def claim(self, row_id: int) -> bool:
        """Take a pending row for sending; False when another sender took it first."""
        with self.store.tx() as con:
            return bool(
                con.execute(
                    outbound.update()
                    .where(outbound.c.id == row_id, outbound.c.status == "pending")
                    .values(status="sending")
                ).rowcount
            )

    def mark_sent(self, row_id: int, attempts: int) -> None:
        """The row was delivered (on its ``attempts``-th try)."""
        with self.store.tx() as con:
            con.execute(
                outbound.update()
                .where(outbound.c.id == row_id)
                .values(status="sent", attempts=attempts, sent_at=utcnow())
            )

    def mark_failed(
        self, row_id: int, *, status: str, attempts: int, error: str, not_before: datetime
    ) -> None:
        """A try failed: the row goes back to ``status`` ("pending", to be tried again from
        ``not_before``, or "failed" when given up on) with its error."""
        with self.store.tx() as con:
            con.execute(
                outbound.update()
                .where(outbound.c.id == row_id)
                .values(status=status, attempts=attempts, last_error=error, not_before=not_before)
            )

    def requeue_sending(self) -> int:
        """Rows a dead process left mid-send go back to pending (sent again rather than lost); returns
        how many."""
        with self.store.tx() as con:
            return int(
                con.execute(
                    outbound.update().where(outbound.c.status == "sending").values(status="pending")
                ).rowcount
            )
