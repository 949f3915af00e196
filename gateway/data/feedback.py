"""Owners' feedback and push subscription: ratings of answers and of resolved cases, the unseen push
notices of a conversation's firm, and the firms that stopped pushes (issue 16).

A rating is one row per rated thing (``key`` = ``answer:<message id>`` or ``case:<escalation id>``): rating
again changes that row. Notices are the ``pushes`` rows of the conversation's firm (``conversations
.firm_uscc``) that no widget has shown yet.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from gateway.data.schema import (
    aware,
    conversations,
    escalations,
    messages,
    push_optouts,
    pushes,
    ratings,
    utcnow,
)
from gateway.data.store import Store

RATE_PAYLOAD = "#rate:"  # WeCom: the payload prefix of the 有帮助 / 没帮助 options (#rate:1, #rate:0)
CSAT_PAYLOAD = "#csat:"  # WeCom: #csat:<escalation id>:<1..5>
REASON_PROMPT_KIND = "reason_prompt"  # the bot line asking why an answer did not help
CSAT_PROMPT_KIND = "csat_prompt"  # the bot line asking for a 1–5 score after a resolved case


class Rating(TypedDict):
    """One stored rating."""

    key: str
    kind: str
    message_id: int | None
    escalation_id: int | None
    value: int
    reason: str


class Notice(TypedDict):
    """An unseen push of the conversation's firm, as the widget shows it."""

    id: int
    record_id: str
    text: str
    created_at: str | None


class CasePrompt(TypedDict):
    """A resolved case of the conversation: the "resumed" message that ended it, and its score if rated."""

    escalation_id: int
    message_id: int
    score: int | None
    comment: str


def _iso(value: datetime | None) -> str | None:
    value = aware(value)
    return value.isoformat() if value else None


def _rating(row: Any) -> Rating:
    return {
        "key": row["key"],
        "kind": row["kind"],
        "message_id": row["message_id"],
        "escalation_id": row["escalation_id"],
        "value": int(row["value"]),
        "reason": row["reason"] or "",
    }


class Feedback:
    """Reads and writes of ratings, push notices and push opt-outs."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- ratings ------------------------------------------------------------------------------
    def _upsert(self, con: Connection, key: str, values: dict[str, Any], reason: str | None) -> Rating:
        """Insert the rating ``key`` or change its value (and its reason when one is given)."""
        now = utcnow()
        changes: dict[str, Any] = {"value": values["value"], "updated_at": now}
        if reason is not None:
            changes["reason"] = reason
        done = con.execute(ratings.update().where(ratings.c.key == key).values(**changes)).rowcount
        if not done:
            try:
                with con.begin_nested():
                    con.execute(
                        ratings.insert().values(
                            key=key, reason=reason or "", created_at=now, updated_at=now, **values
                        )
                    )
            except IntegrityError:  # a concurrent first rating: change it instead
                con.execute(ratings.update().where(ratings.c.key == key).values(**changes))
        row = con.execute(sa.select(ratings).where(ratings.c.key == key)).mappings().one()
        return _rating(row)

    def rate_answer(
        self, sender_id: str, message_id: int, helpful: bool, reason: str | None, channel: str
    ) -> Rating | None:
        """Store 有帮助 (1) / 没帮助 (0) for a bot message of this conversation; None when
        ``message_id`` is not one. A ``reason`` of None keeps the reason already given."""

        def write() -> Rating | None:
            with self.store.tx() as con:
                found = con.execute(
                    sa.select(messages.c.id).where(
                        messages.c.id == message_id,
                        messages.c.sender_id == sender_id,
                        messages.c.role == "bot",
                    )
                ).first()
                if found is None:
                    return None
                values = {
                    "kind": "answer",
                    "sender_id": sender_id,
                    "channel": channel,
                    "message_id": message_id,
                    "value": 1 if helpful else 0,
                }
                return self._upsert(con, f"answer:{message_id}", values, reason)

        return self.store.retry(write)

    def rate_case(
        self, sender_id: str, escalation_id: int, score: int, comment: str | None, channel: str
    ) -> Rating | None:
        """Store a 1–5 satisfaction score for a resolved case of this conversation; None when the case
        is not this conversation's or is not resolved."""

        def write() -> Rating | None:
            with self.store.tx() as con:
                found = con.execute(
                    sa.select(escalations.c.id).where(
                        escalations.c.id == escalation_id,
                        escalations.c.sender_id == sender_id,
                        escalations.c.status == "resolved",
                    )
                ).first()
                if found is None:
                    return None
                values = {
                    "kind": "case",
                    "sender_id": sender_id,
                    "channel": channel,
                    "escalation_id": escalation_id,
                    "value": score,
                }
                return self._upsert(con, f"case:{escalation_id}", values, comment)

        return self.store.retry(write)

    def add_reason(self, key: str, reason: str) -> None:
        """Give a rating its reason (the owner's next message after the WeCom reason prompt)."""
        with self.store.tx() as con:
            con.execute(
                ratings.update().where(ratings.c.key == key).values(reason=reason, updated_at=utcnow())
            )

    def rating(self, key: str) -> Rating | None:
        """One rating by its key."""
        with self.store.engine.connect() as con:
            row = con.execute(sa.select(ratings).where(ratings.c.key == key)).mappings().first()
        return _rating(row) if row else None

    def answer_ratings(self, sender_id: str) -> list[Rating]:
        """The conversation's answer ratings, oldest message first."""
        with self.store.engine.connect() as con:
            rows = (
                con.execute(
                    sa.select(ratings)
                    .where(ratings.c.sender_id == sender_id, ratings.c.kind == "answer")
                    .order_by(ratings.c.message_id)
                )
                .mappings()
                .all()
            )
        return [_rating(r) for r in rows]

    def latest_answer_rating(self, sender_id: str) -> Rating | None:
        """The answer rating of this conversation given or changed last."""
        with self.store.engine.connect() as con:
            row = (
                con.execute(
                    sa.select(ratings)
                    .where(ratings.c.sender_id == sender_id, ratings.c.kind == "answer")
                    .order_by(ratings.c.updated_at.desc(), ratings.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        return _rating(row) if row else None

    def case_prompts(self, sender_id: str) -> list[CasePrompt]:
        """The conversation's "resumed" messages that name their case, with the case's score if rated."""
        m = messages.c
        with self.store.engine.connect() as con:
            rows = con.execute(
                sa.select(m.id, m.escalation_id, ratings.c.value, ratings.c.reason)
                .select_from(
                    messages.outerjoin(
                        ratings,
                        sa.and_(ratings.c.kind == "case", ratings.c.escalation_id == m.escalation_id),
                    )
                )
                .where(m.sender_id == sender_id, m.kind == "resumed", m.escalation_id.is_not(None))
                .order_by(m.id)
            ).all()
        return [
            {
                "escalation_id": int(r[1]),
                "message_id": int(r[0]),
                "score": None if r[2] is None else int(r[2]),
                "comment": r[3] or "",
            }
            for r in rows
        ]

    # -- WeCom's numbered options --------------------------------------------------------------
    def last_bot_message(self, sender_id: str, before_id: int) -> dict[str, Any] | None:
        """The conversation's latest bot message stored before ``before_id`` (id, kind, buttons)."""
        with self.store.engine.connect() as con:
            row = con.execute(
                sa.select(messages.c.id, messages.c.kind, messages.c.buttons)
                .where(messages.c.sender_id == sender_id, messages.c.role == "bot", messages.c.id < before_id)
                .order_by(messages.c.id.desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        return {"id": int(row[0]), "kind": row[1], "buttons": json.loads(row[2] or "[]")}

    def prompted_since(self, sender_id: str, hours: float = 24.0) -> bool:
        """Whether the conversation got a rating prompt (options ``#rate:…``) in the last ``hours``."""
        since = utcnow() - timedelta(hours=hours)
        with self.store.engine.connect() as con:
            found = con.execute(
                sa.select(messages.c.id)
                .where(
                    messages.c.sender_id == sender_id,
                    messages.c.role == "bot",
                    messages.c.created_at >= since,
                    messages.c.buttons.like(f"%{RATE_PAYLOAD}%"),
                )
                .limit(1)
            ).first()
        return found is not None

    # -- push notices and subscription --------------------------------------------------------
    def firm_of(self, sender_id: str) -> str | None:
        """The registered firm (USCC) a conversation belongs to, if any."""
        with self.store.engine.connect() as con:
            value = con.execute(
                sa.select(conversations.c.firm_uscc).where(conversations.c.sender_id == sender_id)
            ).scalar()
        return str(value) if value else None

    def unseen_notices(self, uscc: str) -> list[Notice]:
        """The firm's pushes no widget has shown yet, oldest first."""
        with self.store.engine.connect() as con:
            rows = (
                con.execute(
                    sa.select(pushes.c.id, pushes.c.record_id, pushes.c.text, pushes.c.created_at)
                    .where(pushes.c.uscc == uscc, pushes.c.seen_at.is_(None))
                    .order_by(pushes.c.created_at, pushes.c.id)
                )
                .mappings()
                .all()
            )
        return [
            {
                "id": r["id"],
                "record_id": r["record_id"],
                "text": r["text"],
                "created_at": _iso(r["created_at"]),
            }
            for r in rows
        ]

    def mark_seen(self, uscc: str, ids: Sequence[int]) -> int:
        """Mark the firm's pushes ``ids`` as shown (others' ids are ignored); how many were marked."""
        if not ids:
            return 0
        with self.store.tx() as con:
            return int(
                con.execute(
                    pushes.update()
                    .where(pushes.c.uscc == uscc, pushes.c.id.in_(list(ids)), pushes.c.seen_at.is_(None))
                    .values(seen_at=utcnow())
                ).rowcount
            )

    def subscribed(self, uscc: str) -> bool:
        """Whether the firm receives pushes (it has not stopped them)."""
        with self.store.engine.connect() as con:
            row = con.execute(sa.select(push_optouts.c.uscc).where(push_optouts.c.uscc == uscc)).first()
        return row is None

    def set_subscribed(self, uscc: str, subscribed: bool, via: str) -> bool:
        """Stop (``subscribed`` False, recording the channel) or resume pushes for a firm; returns the
        new state."""

        def write() -> bool:
            with self.store.tx() as con:
                if subscribed:
                    con.execute(push_optouts.delete().where(push_optouts.c.uscc == uscc))
                    return True
                exists = con.execute(
                    sa.select(push_optouts.c.uscc).where(push_optouts.c.uscc == uscc)
                ).first()
                if exists is None:
                    try:
                        with con.begin_nested():
                            con.execute(push_optouts.insert().values(uscc=uscc, via=via[:32], at=utcnow()))
                    except IntegrityError:
                        pass  # stopped at the same moment from elsewhere
                return False

        return self.store.retry(write)
