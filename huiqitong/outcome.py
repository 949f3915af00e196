"""What an owner's message got, from the bot's replies: one classifier for the dashboard and the
dialogue evaluation (``bot.eval_dialogue``), so both count the same thing.

The actions' replies are the evidence: a handoff announcement, the out-of-scope sentence, a verdict
block, a decline that starts with what the letter does not say (also after an answer to the part
it does say), a quote with its sources, a staff
answer's label. The gateway stores the outcome and the record the turn was about on the owner's
message when the turn finishes (``messages.outcome``, ``messages.subject``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# Bot outcomes the dialogue evaluation labels, then the gateway's own: a staff answer, the bot
# unavailable, a message held for the liaison who has the conversation, a rating or 退订 the gateway
# handled itself.
BOT_OUTCOMES = ("answer", "verdict", "not_in_letter", "out_of_scope", "handoff", "smalltalk", "other")
OUTCOMES = {
    "answer": "答复函作答",
    "staff": "工作人员答复",
    "verdict": "资格判断",
    "not_in_letter": "如实说明未涉及",
    "out_of_scope": "超出范围",
    "handoff": "转人工",
    "smalltalk": "寒暄",
    "other": "其他",
    "busy": "系统繁忙",
    "liaison": "人工处理中",
    "feedback": "评价或订阅设置",
}
# Outcomes where the owner's question went without an answer from the bot: the dashboard's
# unanswered demand.
UNANSWERED = ("not_in_letter", "out_of_scope", "handoff", "other", "busy")

_VERDICT = re.compile(r"【([^】]+)】(符合|不符合|信息不足)")
# "答复函没有写明…", and after an answer to part of a message "至于申请材料，答复函没有写明…": a question
# answered only in part is one the letter does not answer (the editors see it as unanswered demand).
_DECLINE_HEAD = re.compile(r"^(至于[^\n，。]{1,30}，)?[^\n，。]{0,40}?没有(写明|涉及)")
STAFF_LABEL = "工作人员答复 · "
SMALLTALK_MARKS = (
    "您好！我是惠企通",
    "不客气",
    "感谢使用惠企通",
    "我是惠企通政策机器人",
    "请问还有什么可以帮您",
)


def outcome_of(replies: Sequence[Mapping[str, Any]], handoff: Any = None) -> str:
    """What the owner saw, most telling first (one of :data:`BOT_OUTCOMES` or ``staff``)."""
    texts = [str(r.get("text") or "") for r in replies]
    joined = "\n".join(texts)
    if handoff or "已为您转接" in joined or "转人工服务暂时连接不上" in joined:
        return "handoff"
    if "不在我能解答的范围" in joined:
        return "out_of_scope"
    if _VERDICT.search(joined) or "我按答复函逐条帮您判断" in joined:
        return "verdict"
    if any(_DECLINE_HEAD.match(t) for t in texts):
        return "not_in_letter"
    if any(t.startswith(STAFF_LABEL) for t in texts):
        return "staff"
    if any(r.get("sources") for r in replies) and "原文" in joined:
        return "answer"
    if any(mark in joined for mark in SMALLTALK_MARKS):
        return "smalltalk"
    return "other"


def subject_of(replies: Sequence[Mapping[str, Any]]) -> str | None:
    """The record the turn was about: the first source of the replies (an answer's, or the record a
    decline showed as related), None when no record was shown."""
    for reply in replies:
        for source in reply.get("sources") or []:
            if isinstance(source, Mapping) and source.get("policy_id"):
                return str(source["policy_id"])[:64]
    return None
