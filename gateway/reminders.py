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

from gateway.data.registry import Registry
from gateway.data.reminders import ReminderCase, cases_due_by, record_reminder
from gateway.data.schema import utcnow
from gateway.data.store import Store
from gateway.services import Services
from gateway.sla import due_text
from huiqitong.settings import Settings

logger = logging.getLogger(__name__)
STAGES = ("due_soon", "overdue")


@dataclass
class Reminder:
    """One reminder written: the case, its stage and who was told in WeCom."""

    escalation_id: int
    stage: str
    userids: list[str]


def recipients(registry: Registry, case: ReminderCase, stage: str) -> list[str]:
    """WeCom userids to remind: the case's liaison (or its department's people), and at breach the
    backup and the department queue's members too."""
    names = [case["liaison"]] + ([case["backup_liaison"]] if stage == "overdue" else [])
    ids = [
        u["wecom_userid"] for u in (registry.liaison(n) for n in names if n) if u and u.get("wecom_userid")
    ]
    if stage == "overdue" or not case["liaison"]:
        ids += registry.department_wecom_ids(case["department"] or "")
    return list(dict.fromkeys(ids))


def reminder_text(case: ReminderCase, stage: str, link: str) -> str:
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
    written = []
    for case in cases_due_by(store, soon):
        stage = "overdue" if case["due_at"] <= now else "due_soon"
        userids = recipients(registry, case, stage)
        link = f"{settings.gateway_url}/console#esc-{case['id']}"
        text = reminder_text(case, stage, link)
        deliveries = [{"kind": "user", "target": uid, "text": text} for uid in userids] if wecom else []
        detail = f"{stage}: {', '.join(userids) or '（无企业微信账号）'}"
        if not record_reminder(store, case["id"], stage, at=now, detail=detail, deliveries=deliveries):
            continue  # this stage was sent already (by us earlier, or by another worker just now)
        written.append(Reminder(case["id"], stage, userids))
    if written:
        logger.info("sla reminders: %s", [(r.escalation_id, r.stage, len(r.userids)) for r in written])
    return written


async def remind_forever(services: Services) -> None:
    """The gateway's reminder loop (every worker runs it; the claims keep each stage single)."""
    while True:
        try:
            sent = await services.db(
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
