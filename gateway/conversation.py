"""One owner turn, whatever the channel: persist, route to the liaison or to Rasa, persist replies."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway import feedback, push
from gateway.data.escalations import Arrival, CaseSummary
from gateway.rasa_client import Reply
from gateway.services import Services
from huiqitong.handoff import HandoffPacket
from huiqitong.outcome import outcome_of, subject_of

logger = logging.getLogger(__name__)
BUSY = "系统繁忙，机器人暂时无法回答，请稍后再试。您的消息已保存。"
BUSY_HANDOFF = "系统繁忙，机器人暂时无法回答。已为您转接{liaison}，工作人员会尽快回复。"
RESUMED = "工作人员已结束本次服务，惠企通机器人已恢复为您解答。"
# Asking for a person must work even when Rasa is down.
_WANTS_PERSON = re.compile(r"人工|真人|工作人员|客服|挂点|领导|找人|联系.{0,4}(人|部门)")


@dataclass
class Turn:
    """The outcome of one owner message."""

    replies: list[Reply]
    handoff: dict[str, Any] | None


def handoff_view(services: Services, esc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The ``handoff`` part of a chat response (blocking: it reads the registry)."""
    if esc is None:
        return None
    return {"escalation_id": esc["id"], "status": esc["status"], "liaison": services.escalations.label(esc)}


async def resume_if_needed(services: Services, sender_id: str, conv: Mapping[str, Any] | None = None) -> None:
    """Resume Rasa's tracker after a resolved escalation when that has not happened yet (``conv``: the
    conversation row when the caller has just read it)."""
    if conv is None:
        conv = await services.db(services.store.conversation, sender_id)
    if conv and conv.get("needs_resume"):
        await services.rasa.resume(sender_id)
        await services.db(services.store.set_needs_resume, sender_id, False)


async def process(
    services: Services,
    message_id: int,
    sender_id: str,
    text: str,
    channel: str,
    arrival: Arrival | None = None,
) -> Turn:
    """Answer one stored owner message: hold it for the liaison, or ask Rasa and store the replies.

    Replies, their channel deliveries and the message's status are written in one transaction.
    ``arrival``: the conversation and open case as read when the message was stored, if it just was.
    """
    esc = arrival.case if arrival else await services.db(services.escalations.open_for, sender_id)
    if esc is not None:
        await services.db(services.escalations.hold_message, esc["id"], message_id)
        await services.notify(esc, "message")
        return Turn([], await services.db(handoff_view, services, esc))
    own = await feedback.intercept(services, message_id, sender_id, text, channel)
    if own is not None:  # a rating, or 退订/订阅: the gateway's own business, not the bot's
        await services.db(store_replies, services, message_id, sender_id, channel, own, outcome="feedback")
        return Turn([Reply(text=r["text"], buttons=r.get("buttons") or []) for r in own], None)
    try:
        await resume_if_needed(services, sender_id, arrival.conversation if arrival else None)
        replies = await services.rasa.send(sender_id, text, channel)
    except Exception as exc:  # noqa: BLE001 - any failure: answer honestly, keep the message
        logger.warning("rasa unavailable for %s: %s", sender_id, exc)
        return await _busy(services, message_id, sender_id, text, channel)
    if not replies:
        esc = await services.db(services.escalations.open_for, sender_id)
        if esc is None:
            # Rasa answered but said nothing: its action server failed. Say so rather than stay mute.
            return await _busy(services, message_id, sender_id, text, channel)
        # The conversation was handed off while this message waited for Rasa: it is the liaison's.
        await services.db(services.escalations.hold_message, esc["id"], message_id)
        await services.notify(esc, "message")
        return Turn([], await services.db(handoff_view, services, esc))
    handoff = await services.db(_store_answer, services, message_id, sender_id, channel, replies)
    return Turn(replies, handoff)


def _store_answer(
    services: Services, message_id: int, sender_id: str, channel: str, replies: list[Reply]
) -> dict[str, Any] | None:
    """Everything a bot answer leaves in the store, in one trip to the database thread: the replies
    (with a rating offer in WeCom), the facts the owner stated, and the case when the turn handed the
    conversation off (its ``handoff`` view; None otherwise). Blocking: run it with ``services.db``."""
    rows = [r.as_dict() for r in replies]
    handed_off = any("handoff" in r.custom for r in replies)
    outcome = outcome_of(rows, handed_off)
    # No rating buttons in WeCom: now and then an answer offers them as options.
    feedback.offer_rating(services, sender_id, channel, rows, outcome)
    store_replies(services, message_id, sender_id, channel, rows, outcome=outcome, subject=subject_of(rows))
    customs = [r.custom for r in replies if r.custom]
    if any("facts" in c for c in customs):  # facts the owner stated: the firm's profile (精准推送)
        push.record_turn_facts(services, sender_id, customs)
    # A handoff made during this turn is announced in the reply's custom part by action_handoff;
    # look the escalation up only then, not on every turn.
    return handoff_view(services, services.escalations.open_for(sender_id)) if handed_off else None


def store_replies(
    services: Services,
    message_id: int | None,
    sender_id: str,
    channel: str,
    rows: list[dict[str, Any]],
    *,
    role: str = "bot",
    status: str = "processed",
    outcome: str | None = None,
    subject: str | None = None,
) -> None:
    """Store a turn's replies with the deliveries that carry them out in the conversation's channel
    (blocking: run it with ``services.db``); ``outcome`` and ``subject`` describe the owner's message."""
    deliveries = services.deliveries(sender_id, channel, rows)
    services.store.finish_turn(
        message_id,
        sender_id,
        channel,
        rows,
        deliveries,
        role=role,
        status=status,
        outcome=outcome,
        subject=subject,
    )


async def _busy(services: Services, message_id: int, sender_id: str, text: str, channel: str) -> Turn:
    """Rasa is down: say so; if the owner wants a person, escalate anyway."""
    handoff = None
    reply = Reply(text=BUSY)
    if _WANTS_PERSON.search(text):
        packet = HandoffPacket(
            sender_id=sender_id,
            channel=channel,
            intent="request_human",
            reason="bot_unavailable",
            question=text,
        ).payload()
        esc, created = await services.db(services.escalations.create, packet)
        if created:
            await services.notify(esc, "created")
        handoff = await services.db(handoff_view, services, esc)
        reply = Reply(text=BUSY_HANDOFF.format(liaison=(handoff or {}).get("liaison", "")))
    row = {**reply.as_dict(), "kind": "busy"}
    await services.db(
        store_replies,
        services,
        message_id,
        sender_id,
        channel,
        [row],
        role="system",
        status="failed",
        outcome="handoff" if handoff else "busy",
    )
    return Turn([reply], handoff)


async def resolve_and_resume(services: Services, esc_id: int, user: dict[str, str]) -> CaseSummary:
    """Resolve a case, resume the bot in Rasa and tell the owner, in their channel.

    A failed resume is retried before the owner's next message (``needs_resume``).
    """
    esc = await services.db(services.escalations.resolve, esc_id, user)
    sender = esc["sender_id"]
    await services.db(services.store.set_needs_resume, sender, True)
    try:
        await resume_if_needed(services, sender)
    except Exception as exc:  # noqa: BLE001 - retried before the owner's next message
        logger.warning("resume of %s failed, will retry on next message: %s", sender, exc)
    # The resumed message names its case: the widget asks for a 1–5 score under it.
    await services.db(
        store_replies,
        services,
        None,
        sender,
        esc["channel"],
        [{"text": RESUMED, "kind": "resumed", "escalation_id": esc_id}],
        role="system",
    )
    if feedback.is_wecom(esc["channel"]):  # no stars in WeCom: one prompt whose options carry the case
        await services.db(
            store_replies, services, None, sender, esc["channel"], [feedback.score_prompt(esc_id)]
        )
    return esc
