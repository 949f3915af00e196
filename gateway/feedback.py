"""Owners' feedback and push subscription handled by the gateway itself (issue 16).

WeCom text has no buttons: the gateway gives an answer the numbered options 有帮助 / 没帮助 (at most one
such prompt a day per conversation, so owners are not flooded), and after a resolved case one prompt for
a 1–5 score. The WeCom channel turns a reply "1" into the option's payload (``#rate:1``, ``#csat:7:4``)
before the message is stored; :func:`intercept` recognises those payloads, the one reason that may
follow 没帮助, and the whole-message commands 退订/订阅, and answers them without the bot. The widget
rates through the feedback routes instead (``gateway.routes.feedback``). In WeCom an owner may also type
有帮助 / 没帮助 at any time to rate the latest answer.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.data.feedback import (
    CSAT_PAYLOAD,
    CSAT_PROMPT_KIND,
    RATE_PAYLOAD,
    REASON_PROMPT_KIND,
    Feedback,
)
from gateway.services import Services

# Outcomes of a turn that answered something worth rating (huiqitong.outcome).
RATED_OUTCOMES = ("answer", "staff", "verdict", "not_in_letter")
PROMPT_EVERY_H = 24.0
MAX_REASON_CHARS = 500
RATE_BUTTONS = [
    {"title": "有帮助", "payload": f"{RATE_PAYLOAD}1"},
    {"title": "没帮助", "payload": f"{RATE_PAYLOAD}0"},
]
SCORE_TITLES = ("很不满意", "不满意", "一般", "满意", "很满意")

THANKS = "谢谢您的反馈！"
ASK_REASON = '抱歉没能帮到您。可以直接回复哪里没说清楚（可不填）；回复"人工"可转工作人员。'
REASON_KEPT = "谢谢，您的意见已记录，我们会改进。"
ASK_SCORE = "请为本次人工服务打分（回复数字 1–5，5 为很满意）："
SCORE_KEPT = "谢谢您的评价（{score} 分）！如还有补充意见，可以直接告诉我们工作人员。"
STOPPED = '已退订政策推送，今后不再向贵企业推送政策。回复"订阅"可恢复。'
RESUMED_PUSHES = '已恢复政策推送。回复"退订"可随时停止。'
NO_FIRM_STOP = "本对话尚未绑定企业，没有需要退订的政策推送。"
NO_FIRM_START = "本对话尚未绑定企业，暂时无法订阅政策推送。如需绑定，请联系挂点服务人员。"

# Whole-message ratings of the latest answer, typed without a prompt.
HELPFUL = ("有帮助", "有用", "很有帮助", "👍")
UNHELPFUL = ("没帮助", "没有帮助", "没用", "没有用", "无帮助", "👎")
# Whole-message commands only: "退订了还能申请吗" is a question for the bot.
STOP_WORDS = ("退订", "取消推送", "不要再推送", "取消订阅")
START_WORDS = ("订阅", "恢复推送")
_TRIM = re.compile(r"^[\s。.!！~～]+|[\s。.!！~～]+$")
_CSAT = re.compile(rf"^{re.escape(CSAT_PAYLOAD)}(\d{{1,15}}):([1-5])$")
_WANTS_PERSON = re.compile(r"人工|真人|工作人员|客服")


def is_wecom(channel: str) -> bool:
    """Whether a channel is one of WeCom's (``wecom-user``, ``wecom-chat``, ``wecom-bot``, ``wecomkf``)."""
    return channel.startswith("wecom")


def _reply(text: str, kind: str = "feedback") -> dict[str, Any]:
    return {"text": text, "kind": kind}


async def intercept(
    services: Services, message_id: int, sender_id: str, text: str, channel: str
) -> list[dict[str, Any]] | None:
    """The gateway's own reply rows (text, buttons, kind) when the message is a rating or 退订/订阅 for
    this conversation; None when it is for the bot."""
    if not is_wecom(channel):
        return None  # the widget rates and subscribes through its own routes
    return await services.db(_intercept, Feedback(services.store), message_id, sender_id, text, channel)


def _intercept(
    data: Feedback, message_id: int, sender_id: str, text: str, channel: str
) -> list[dict[str, Any]] | None:
    """:func:`intercept`'s blocking part."""
    said = _TRIM.sub("", text)
    if said.startswith(RATE_PAYLOAD):
        return _rate_answer(data, message_id, sender_id, said, channel)
    if said.startswith(CSAT_PAYLOAD):
        return _rate_case(data, sender_id, said, channel)
    if said in HELPFUL or said in UNHELPFUL:
        return _rate_typed(data, message_id, sender_id, said in HELPFUL, channel)
    if said in STOP_WORDS or said in START_WORDS:
        uscc = data.firm_of(sender_id)
        stop = said in STOP_WORDS
        if uscc is None:
            return [_reply(NO_FIRM_STOP if stop else NO_FIRM_START)]
        data.set_subscribed(uscc, not stop, channel)
        return [_reply(STOPPED if stop else RESUMED_PUSHES)]
    last = data.last_bot_message(sender_id, message_id)
    if last is not None and last["kind"] == REASON_PROMPT_KIND and said and not _WANTS_PERSON.search(said):
        rating = data.latest_answer_rating(sender_id)
        if rating is not None:
            data.add_reason(rating["key"], said[:MAX_REASON_CHARS])
            return [_reply(REASON_KEPT)]
    return None


def _rate_answer(
    data: Feedback, message_id: int, sender_id: str, said: str, channel: str
) -> list[dict[str, Any]] | None:
    """``#rate:1`` / ``#rate:0``: rate the bot message that carried the options (the latest before it)."""
    if said not in (f"{RATE_PAYLOAD}1", f"{RATE_PAYLOAD}0"):
        return None
    last = data.last_bot_message(sender_id, message_id)
    payloads = [b.get("payload") for b in (last or {}).get("buttons") or []]
    if last is None or said not in payloads:
        return None  # typed by hand with no prompt to answer: the bot's business
    helpful = said.endswith("1")
    data.rate_answer(sender_id, last["id"], helpful, None, channel)
    return [_reply(THANKS)] if helpful else [_reply(ASK_REASON, REASON_PROMPT_KIND)]


def _rate_typed(
    data: Feedback, message_id: int, sender_id: str, helpful: bool, channel: str
) -> list[dict[str, Any]] | None:
    """有帮助 / 没帮助 typed at any time: rate the bot's latest answer (any answer can be rated, the
    numbered options only come now and then)."""
    last = data.last_bot_message(sender_id, message_id)
    if last is None or last["kind"] != "text":
        return None  # nothing answered yet, or the last word was the gateway's own: the bot's business
    data.rate_answer(sender_id, last["id"], helpful, None, channel)
    return [_reply(THANKS)] if helpful else [_reply(ASK_REASON, REASON_PROMPT_KIND)]


def _rate_case(data: Feedback, sender_id: str, said: str, channel: str) -> list[dict[str, Any]] | None:
    """``#csat:<case>:<score>``: the owner's score for a resolved case of this conversation."""
    match = _CSAT.match(said)
    if match is None:
        return None
    score = int(match.group(2))
    if data.rate_case(sender_id, int(match.group(1)), score, None, channel) is None:
        return None
    return [_reply(SCORE_KEPT.format(score=score))]


def offer_rating(
    services: Services, sender_id: str, channel: str, rows: list[dict[str, Any]], outcome: str
) -> None:
    """Give a WeCom answer's last reply the options 有帮助 / 没帮助 (rows changed in place), when the
    turn answered something, that reply has no options of its own, and the conversation got no such
    prompt in the last day. Blocking: run it with ``services.db``."""
    if not is_wecom(channel) or outcome not in RATED_OUTCOMES:
        return
    texts = [r for r in rows if r.get("text")]
    if not texts or texts[-1].get("buttons"):
        return
    if Feedback(services.store).prompted_since(sender_id, PROMPT_EVERY_H):
        return
    texts[-1]["buttons"] = [dict(b) for b in RATE_BUTTONS]


def score_prompt(escalation_id: int) -> dict[str, Any]:
    """The WeCom prompt for a 1–5 score after the case ``escalation_id`` was resolved: its options
    carry the case, so the owner's digit rates it."""
    return {
        "text": ASK_SCORE,
        "kind": CSAT_PROMPT_KIND,
        "escalation_id": escalation_id,
        "buttons": [
            {"title": f"{score}分 {title}", "payload": f"{CSAT_PAYLOAD}{escalation_id}:{score}"}
            for score, title in enumerate(SCORE_TITLES, 1)
        ],
    }
