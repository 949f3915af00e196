"""Reminders for cases nobody has taken: before the first-response deadline and at its breach.

A case still unclaimed ``REMINDER_BEFORE_DUE_MIN`` minutes before its deadline reminds its liaison
(the firm's own, or the department's people for a shared-queue case); once the deadline has passed
it reminds the liaison, the backup liaison and the department queue's members. Each stage is sent
once: its claim (``reminders_sent``), the case event and the WeCom deliveries are written in one
transaction, so a restart or a second gateway worker neither repeats nor loses a reminder, and the
deliveries go through the WeCom outbox and its per-receiver limits.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from gateway.registry import Registry
from gateway.services import Services
from gateway.sla import due_text
from gateway.store import Store, escalation_events, escalations, reminders_sent, utcnow
from knowledge.settings import Settings

logger = logging.getLogger(__name__)
STAGES = ("due_soon", "overdue")


@dataclass
class Reminder:
    """One reminder written: the case, its stage and who was told in WeCom."""

    escalation_id: int
    stage: str
    userids: list[str]


def recipients(registry: Registry, case: dict[str, Any], stage: str) -> list[str]:
    """WeCom userids to remind: the case's liaison (or its department's people), and at breach the
    backup and the department queue's members too."""
    names = [case["liaison"]] + ([case["backup_liaison"]] if stage == "overdue" else [])
    ids = [
        u["wecom_userid"] for u in (registry.liaison(n) for n in names if n) if u and u.get("wecom_userid")
    ]
    if stage == "overdue" or not case["liaison"]:
        ids += registry.department_wecom_ids(case["department"] or "")
    return list(dict.fromkeys(ids))


def reminder_text(case: dict[str, Any], stage: str, link: str) -> str:
    """The WeCom text of a reminder."""
    firm = case["firm_name"] or "未登记企业"
    when = due_text(case["due_at"]).removesuffix("前")
    if stage == "due_soon":
        head = f"【惠企通·即将超时】工单#{case['id']}（{firm}）尚无人受理，首次响应时限为{when}。"
    else:
        head = f"【惠企通·已超时】工单#{case['id']}（{firm}）已超过首次响应时限（{when}），仍无人受理。"
    return f"{head}\n问题：{case['question'] or '（无）'}\n请尽快处理：{link}"


def send_due(
    store: Store, registry: Registry, settings: Settings, *, wecom: bool, now: datetime | None = None
) -> list[Reminder]:
    """Write every reminder that is due now and not yet sent; returns them.

    Args:
        wecom: queue WeCom deliveries (WeCom configured); without it only the case event is written.
    """
    now = now or utcnow()
    soon = now + timedelta(minutes=settings.reminder_before_due_min)
    with store.engine.connect() as con:
        cases = (
            con.execute(
                sa.select(escalations).where(
                    escalations.c.status == "open",
                    escalations.c.first_response_at.is_(None),
                    escalations.c.due_at <= soon,
                )
            )
            .mappings()
            .all()
        )
    written = []
    for case in cases:
        stage = "overdue" if case["due_at"] <= now else "due_soon"
        userids = recipients(registry, dict(case), stage)
        link = f"{settings.gateway_url}/console#esc-{case['id']}"
        text = reminder_text(dict(case), stage, link)
        try:
            with store.tx() as con:
                con.execute(
                    reminders_sent.insert().values(escalation_id=case["id"], stage=stage, sent_at=now)
                )
                con.execute(
                    escalation_events.insert().values(
                        escalation_id=case["id"],
                        kind="reminded",
                        actor="system",
                        created_at=now,
                        detail=f"{stage}: {', '.join(userids) or '（无企业微信账号）'}",
                    )
                )
                if wecom:
                    store.queue(con, [{"kind": "user", "target": uid, "text": text} for uid in userids])
        except IntegrityError:
            continue  # this stage was sent already (by us earlier, or by another worker just now)
        written.append(Reminder(case["id"], stage, userids))
    if written:
        logger.info("sla reminders: %s", [(r.escalation_id, r.stage, len(r.userids)) for r in written])
    return written


async def remind_forever(services: Services) -> None:
    """The gateway's reminder loop (every worker runs it; the claims keep each stage single)."""
    while True:
        try:
            sent = await asyncio.to_thread(
                send_due,
                services.store,
                services.registry,
                services.settings,
                wecom=services.wecom is not None,
            )
            if sent and services.wecom is not None:
                services.wecom.outbox.wake.set()
        except Exception:
            logger.exception("sla reminder round failed")
        await asyncio.sleep(services.settings.reminder_interval_s)
