"""The push log (``pushes``), the firms that stopped pushes (``push_optouts``) and where a firm can be
reached: its bound WeCom groups, its 微信客服 conversations and its web conversations.

A push is one row per record version and firm, guarded by the unique constraint ``uq_push_once``: a
second send of the same version, after a restart or from a second click, finds the row and sends
nothing. The WeCom deliveries are queued in the push row's own transaction, so they leave exactly
when the push is logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from gateway.data.schema import conversations, firms, push_optouts, pushes, utcnow, wecom_chats
from gateway.data.store import Store
from gateway.wecom.kf_ids import KF_PREFIX
from huiqitong.vocabulary import WEB_CHANNEL

GROUP_CHANNEL = "wecom-chat"
KF_CHANNEL = KF_PREFIX


class Route(TypedDict):
    """One way to reach a firm: a channel and the conversation (sender id) in it."""

    channel: str  # huiqitong.vocabulary.CHANNELS: wecom-chat | wecomkf | web
    sender_id: str


class PushRow(TypedDict):
    """One logged push."""

    id: int
    record_id: str
    version: int
    uscc: str
    firm_name: str
    verdict: str
    text: str
    channels: str
    sent_by: str
    created_at: str
    seen_at: str | None


class PushData:
    """Reads and writes of pushes, opt-outs and the firms' routes."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def opted_out(self) -> set[str]:
        """Credit codes of the firms that stopped pushes."""
        with self.store.engine.connect() as con:
            return {row[0] for row in con.execute(sa.select(push_optouts.c.uscc)).all()}

    def pushed(self, record_id: str, version: int) -> set[str]:
        """Credit codes of the firms this record version was pushed to."""
        with self.store.engine.connect() as con:
            return {
                row[0]
                for row in con.execute(
                    sa.select(pushes.c.uscc).where(
                        pushes.c.record_id == record_id, pushes.c.version == version
                    )
                ).all()
            }

    def routes(self) -> dict[str, list[Route]]:
        """Credit code → the ways to reach the firm: bound WeCom groups, then 微信客服 and web
        conversations bound to it (newest first)."""
        out: dict[str, list[Route]] = {}
        with self.store.engine.connect() as con:
            for chat_id, uscc in con.execute(
                sa.select(wecom_chats.c.chat_id, wecom_chats.c.uscc).order_by(wecom_chats.c.chat_id)
            ).all():
                out.setdefault(uscc, []).append(Route(channel=GROUP_CHANNEL, sender_id=f"wecom:{chat_id}"))
            rows = con.execute(
                sa.select(conversations.c.sender_id, conversations.c.channel, conversations.c.firm_uscc)
                .where(
                    conversations.c.firm_uscc.isnot(None),
                    conversations.c.channel.in_([KF_CHANNEL, WEB_CHANNEL]),
                )
                .order_by(conversations.c.updated_at.desc())
            ).all()
        for sender_id, channel, uscc in rows:
            out.setdefault(uscc, []).append(Route(channel=channel, sender_id=sender_id))
        return out

    def add(self, row: dict[str, Any], deliveries: list[dict[str, str]]) -> int | None:
        """Log one push and queue its deliveries, in one transaction; None when this record version was
        already pushed to the firm (nothing is queued then)."""

        def write() -> int | None:
            try:
                with self.store.tx() as con:
                    if con.execute(
                        sa.select(pushes.c.id).where(
                            pushes.c.record_id == row["record_id"],
                            pushes.c.version == row["version"],
                            pushes.c.uscc == row["uscc"],
                        )
                    ).first():
                        return None
                    result = con.execute(pushes.insert().values(**row, created_at=utcnow()))
                    self.store.queue(con, deliveries)
                    return int(result.inserted_primary_key[0])
            except IntegrityError:  # a concurrent send of the same version won the race
                return None

        return self.store.retry(write)

    def log(
        self,
        record_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 10_000,
    ) -> list[PushRow]:
        """Logged pushes, newest first, of one record and/or sent in [since, until)."""
        query = (
            sa.select(pushes, firms.c.name.label("firm_name"))
            .select_from(pushes.outerjoin(firms, firms.c.uscc == pushes.c.uscc))
            .order_by(pushes.c.id.desc())
            .limit(limit)
        )
        if record_id:
            query = query.where(pushes.c.record_id == record_id)
        if since is not None:
            query = query.where(pushes.c.created_at >= since)
        if until is not None:
            query = query.where(pushes.c.created_at < until)
        with self.store.engine.connect() as con:
            rows = con.execute(query).all()
        return [
            PushRow(
                id=row.id,
                record_id=row.record_id,
                version=row.version,
                uscc=row.uscc,
                firm_name=row.firm_name or "",
                verdict=row.verdict,
                text=row.text,
                channels=row.channels,
                sent_by=row.sent_by,
                created_at=row.created_at.isoformat(),
                seen_at=row.seen_at.isoformat() if row.seen_at else None,
            )
            for row in rows
        ]
