"""Personal data kept only as long as needed (个人信息保护法): the owner's 清除记录 and the retention purge.

Conversations hold names, phone numbers, credit codes and firm figures. ``forget`` deletes one
conversation at its owner's request; ``purge`` deletes conversations idle for longer than
RETENTION_DAYS. Both pseudonymise the conversation's escalations instead of deleting them: the case
keeps its channel, department, liaison, status and timestamps (what the statistics and the SLA
reports count) and loses the owner's id, firm, question, packet, notes and event details. What a
purge deletes is added to ``purged_counts`` per day and channel, so usage totals survive it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from gateway.data.schema import (
    PSEUDONYM_PREFIX,
    conversations,
    escalation_events,
    escalations,
    messages,
    notes,
    outbound,
    purged_counts,
    seen_keys,
    tokens,
    utcnow,
)
from gateway.data.store import Store
from huiqitong.settings import Settings

logger = logging.getLogger(__name__)
BATCH = 500


@dataclass
class PurgeReport:
    """What one purge removed."""

    cutoff: str
    conversations: int = 0
    messages: int = 0
    escalations_pseudonymised: int = 0
    outbound: int = 0
    seen_keys: int = 0
    tokens: int = 0
    tracker_events: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return asdict(self)


def _pseudonymise_escalations(con: Connection, sender_ids: list[str], now: datetime, actor: str) -> int:
    """Close and strip the escalations of these conversations; returns how many were changed."""
    rows = (
        con.execute(
            sa.select(escalations.c.id, escalations.c.status, escalations.c.packet).where(
                escalations.c.sender_id.in_(sender_ids)
            )
        )
        .mappings()
        .all()
    )
    for row in rows:
        try:
            packet = json.loads(row["packet"] or "{}")
        except ValueError:
            packet = {}
        kept = {k: packet.get(k) for k in ("intent", "reason", "channel") if packet.get(k)}
        values: dict[str, Any] = {
            "sender_id": f"{PSEUDONYM_PREFIX}{row['id']}",
            "open_key": None,
            "firm_uscc": None,
            "firm_name": None,
            "question": "",
            "packet": json.dumps(kept, ensure_ascii=False),
        }
        if row["status"] != "resolved":
            values.update(status="resolved", resolved_at=now)
            con.execute(
                escalation_events.insert().values(
                    escalation_id=row["id"], kind="cleared", actor=actor, detail="", created_at=now
                )
            )
        con.execute(escalations.update().where(escalations.c.id == row["id"]).values(**values))
        con.execute(notes.delete().where(notes.c.escalation_id == row["id"]))
        con.execute(
            escalation_events.update().where(escalation_events.c.escalation_id == row["id"]).values(detail="")
        )
    return len(rows)


def forget(store: Store, sender_id: str) -> int:
    """Delete one conversation at its owner's request (清除记录); returns the number of messages deleted.

    An open escalation is closed (the owner withdrew it) and pseudonymised like the rest.
    """

    def write() -> int:
        now = utcnow()
        with store.tx() as con:
            _pseudonymise_escalations(con, [sender_id], now, actor="owner")
            deleted = con.execute(messages.delete().where(messages.c.sender_id == sender_id)).rowcount
            con.execute(conversations.delete().where(conversations.c.sender_id == sender_id))
            return int(deleted)

    return store.retry(write)


def _count_purged(con: Connection, rows: list[Any]) -> None:
    """Add these conversations and their messages to ``purged_counts``."""
    per_conv: dict[str, tuple[str, str]] = {}
    for row in rows:
        updated = row["updated_at"]
        per_conv[row["sender_id"]] = (
            updated.date().isoformat() if updated else "unknown",
            row["channel"][:32],
        )
    tallies: dict[tuple[str, str], dict[str, int]] = {}
    for day_channel in per_conv.values():
        tallies.setdefault(day_channel, {"conversations": 0, "user_messages": 0, "bot_messages": 0})[
            "conversations"
        ] += 1
    by_role = con.execute(
        sa.select(messages.c.sender_id, messages.c.role, sa.func.count())
        .where(messages.c.sender_id.in_(list(per_conv)))
        .group_by(messages.c.sender_id, messages.c.role)
    ).all()
    for sender, role, count in by_role:
        key = "user_messages" if role == "user" else "bot_messages"
        tallies[per_conv[sender]][key] += int(count)
    for (day, channel), tally in tallies.items():
        updated = con.execute(
            purged_counts.update()
            .where(purged_counts.c.day == day, purged_counts.c.channel == channel)
            .values(**{k: getattr(purged_counts.c, k) + v for k, v in tally.items()})
        ).rowcount
        if not updated:
            con.execute(purged_counts.insert().values(day=day, channel=channel, **tally))


def purge(store: Store, settings: Settings, now: datetime | None = None) -> PurgeReport:
    """Delete what is older than RETENTION_DAYS; pseudonymise the cases of deleted conversations.

    Conversations with a case still open are kept until the case is closed.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=settings.retention_days)
    report = PurgeReport(cutoff=cutoff.isoformat())
    open_cases = sa.select(escalations.c.sender_id).where(escalations.c.open_key.is_not(None))
    while True:
        with store.tx() as con:
            rows = (
                con.execute(
                    sa.select(conversations.c.sender_id, conversations.c.channel, conversations.c.updated_at)
                    .where(conversations.c.updated_at < cutoff, conversations.c.sender_id.not_in(open_cases))
                    .limit(BATCH)
                )
                .mappings()
                .all()
            )
            if not rows:
                break
            ids = [r["sender_id"] for r in rows]
            _count_purged(con, list(rows))
            report.escalations_pseudonymised += _pseudonymise_escalations(con, ids, now, actor="retention")
            report.messages += int(
                con.execute(messages.delete().where(messages.c.sender_id.in_(ids))).rowcount
            )
            report.conversations += int(
                con.execute(conversations.delete().where(conversations.c.sender_id.in_(ids))).rowcount
            )
    with store.tx() as con:
        # Closed cases whose conversation is already gone (e.g. deleted before this release).
        stale = (
            con.execute(
                sa.select(escalations.c.sender_id).where(
                    escalations.c.resolved_at < cutoff,
                    escalations.c.sender_id.not_like(f"{PSEUDONYM_PREFIX}%"),
                )
            )
            .scalars()
            .all()
        )
        if stale:
            report.escalations_pseudonymised += _pseudonymise_escalations(
                con, list(set(stale)), now, "retention"
            )
        report.outbound += int(
            con.execute(
                outbound.delete().where(outbound.c.created_at < cutoff, outbound.c.status != "pending")
            ).rowcount
        )
        report.seen_keys += int(
            con.execute(seen_keys.delete().where(seen_keys.c.created_at < cutoff)).rowcount
        )
        report.tokens += int(con.execute(tokens.delete().where(tokens.c.expires_at < now)).rowcount)
    report.tracker_events = delete_tracker_events(settings, before=cutoff)
    logger.info("retention purge: %s", report.as_dict())
    return report


def delete_tracker_events(
    settings: Settings, *, before: datetime | None = None, sender_id: str | None = None
) -> int:
    """Delete Rasa's tracker events (older than ``before``, or of one conversation) when Rasa keeps
    them in SQL (RASA_TRACKER_STORE_URL). The default in-memory tracker store keeps nothing across a
    restart of Rasa; ``RasaClient.forget`` empties a live tracker whatever the store."""
    if not settings.rasa_tracker_store_url or (before is None and sender_id is None):
        return 0
    engine = sa.create_engine(settings.rasa_tracker_store_url, future=True)
    try:
        if not sa.inspect(engine).has_table("events"):
            return 0
        query = "DELETE FROM events WHERE " + ("timestamp < :before" if before else "sender_id = :sender")
        with engine.begin() as con:
            return int(
                con.execute(
                    sa.text(query), {"before": before.timestamp() if before else None, "sender": sender_id}
                ).rowcount
            )
    finally:
        engine.dispose()
