"""Answer policy questions from the knowledge base, citing the letter; say so when it is silent."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import hand_off
from actions.replies import LETTER_FULL, OFFER_BUTTONS, citation, sources_payload
from knowledge.search import Hit, search
from knowledge.text import normalize

# Below this bm25(+phrase) score a hit is noise, not an answer.
MIN_SCORE = 6.0
# Hits far below the best are dropped: "only those that really match".
RELATIVE = 0.55
STRONG_SCORE = 12.0
INTENT_CATEGORIES = {
    "ask_financing": {"financing", "investment_fund"},
    "ask_talent_subsidy": {"talent"},
}
# What the letter never gives: procedures, materials, deadlines, timing, calculation standards.
_PROCEDURE = re.compile(
    r"怎么(申请|申报|办|领|报|弄|拿)|如何(申请|申报|办理|领取)|流程|步骤|手续|材料|资料|表格|截止|期限|时间|什么时候|"
    r"几月|哪天|多久|多长时间|到账|窗口|去哪|在哪|哪里(办|申请|交|报)|网址|链接|系统|入口|标准是|怎么算|怎么计算|"
    r"计算方法|比例|审批|审核|公示|名单|通知|指南|报名"
)
_PROCEDURE_TOPIC = {
    "材料": "申请材料", "资料": "申请材料", "截止": "截止时间", "期限": "办理期限", "时间": "时间安排",
    "什么时候": "时间安排", "多久": "办理时长", "到账": "资金到账时间", "流程": "办理流程", "怎么算": "计算标准",
    "计算": "计算标准", "比例": "计算比例", "标准": "具体标准", "去哪": "办理地点", "在哪": "办理地点",
    "哪里": "办理地点", "网址": "申报入口", "系统": "申报入口", "入口": "申报入口",
}


# When the letter itself states the asked-for detail (企业开办 "1个工作日内"), answer instead of declining.
_EVIDENCE = {
    "时间安排": re.compile(r"工作日|日内|小时|天内"), "办理时长": re.compile(r"工作日|日内|小时|天内"),
    "办理期限": re.compile(r"工作日|日内|小时|天内"), "申请材料": re.compile(r"材料"),
    "办理流程": re.compile(r"流程"), "办理地点": re.compile(r"大厅|专窗|窗口|平台"),
    "申报入口": re.compile(r"平台|网上"),
}


def letter_states(topic: str, hit: Hit) -> bool:
    """Whether the record's quote itself gives the procedural detail asked for."""
    evidence = _EVIDENCE.get(topic)
    return bool(evidence and evidence.search(hit.quote))


# The letter is about 中山; a question about another city is out of scope unless the record
# itself names that city (驻外招商组 北京、上海、深圳).
_OTHER_CITY = re.compile(
    r"深圳|广州|佛山|东莞|珠海|江门|惠州|肇庆|汕头|湛江|茂名|清远|韶关|北京|上海|天津|重庆|杭州|苏州|南京|武汉|成都|"
    r"西安|长沙|郑州|厦门|宁波|青岛|澳门|香港"
)


def other_city(text: str, hits: list[Hit]) -> bool:
    """Whether the question is about another city than 中山 that no matching record names."""
    norm = normalize(text)
    match = _OTHER_CITY.search(norm)
    if not match or "中山" in norm:
        return False
    return not any(match.group(0) in (h.title + h.quote) for h in hits[:1])


def asks_procedure(text: str) -> bool:
    """Whether a question asks how/when/where/with what, which the letter never states."""
    return bool(_PROCEDURE.search(normalize(text)))


def procedure_topic(text: str) -> str:
    """What kind of procedural detail the question asks for, in owners' words."""
    norm = normalize(text)
    for key, topic in _PROCEDURE_TOPIC.items():
        if key in norm:
            return topic
    return "申请办法、材料和时间"


def relevant_hits(text: str, intent: str | None, top: int = 3) -> list[Hit]:
    """The 0–3 records that really answer ``text``, best first."""
    hits = search(text, top=8)
    preferred = INTENT_CATEGORIES.get(intent or "", set())
    if preferred:
        hits.sort(key=lambda h: -(h.score * (1.3 if h.category in preferred else 1.0)))
    if not hits or hits[0].score < MIN_SCORE:
        return []
    floor = max(MIN_SCORE, hits[0].score * RELATIVE)
    return [h for h in hits if h.score >= floor][:top]


def render_hits(hits: list[Hit]) -> str:
    """The top record quoted verbatim with its citation, then up to two related records by title."""
    top = hits[0]
    planned = "（答复函表述为拟出台/计划中的措施，尚未明确实施细则）" if top.status == "planned" else ""
    lines = [f"【{top.title}】{planned}", f"答复函原文：“{top.quote}”", citation(top.section, top.departments)]
    if len(hits) > 1:
        related = "；".join(f"{h.title}（{h.section}）" for h in hits[1:])
        lines.append(f"相关内容：{related}。可以接着问我其中任意一项。")
    return "\n".join(lines)


class ActionAnswerPolicy(Action):
    """Answer ask_policy / ask_financing / ask_talent_subsidy / ask_procedure, and NLU fallbacks."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Reply with cited records, an honest 'the letter does not say', or a handoff."""
        message = tracker.latest_message or {}
        text = message.get("text") or ""
        intent = (message.get("intent") or {}).get("name")
        hits = relevant_hits(text, intent if intent != "nlu_fallback" else None)
        if other_city(text, hits):
            dispatcher.utter_message(response="utter_out_of_scope")
            return []
        if intent == "nlu_fallback":
            return await self._fallback(dispatcher, tracker, text, hits)
        events: list[EventType] = [SlotSet("open_question", text), SlotSet("last_sources", [h.policy_id for h in hits])]
        if intent == "ask_procedure" or asks_procedure(text):
            topic = procedure_topic(text)
            if not (hits and hits[0].score >= STRONG_SCORE and letter_states(topic, hits[0])):
                return events + self._not_in_letter(dispatcher, hits, topic)
        if not hits:
            return events + self._not_in_letter(dispatcher, [], None)
        dispatcher.utter_message(text=render_hits(hits), json_message=sources_payload(hits))
        if tracker.get_slot("handoff_offered"):
            events.append(SlotSet("handoff_offered", False))  # only on change: rules see the same state
        return events

    @staticmethod
    def _not_in_letter(dispatcher: CollectingDispatcher, hits: list[Hit], topic: str | None) -> list[EventType]:
        """Say plainly what the letter does not say, what it does say nearby, and offer a person."""
        if topic:
            head = f"答复函没有写明{topic}。"
        else:
            head = f"{LETTER_FULL}没有涉及这个问题，我不能替答复函作答。"
        parts = [head]
        if hits:
            top = hits[0]
            parts.append(f"答复函中相关的内容是【{top.title}】：“{top.quote}”{citation(top.section, top.departments)}")
            deps = "、".join(top.departments)
            parts.append(f"具体{topic or '情况'}请以{deps}的通知为准。需要我为您转给挂点服务领导或工作人员吗？")
        else:
            parts.append("需要我为您转给挂点服务领导或相关部门的工作人员吗？")
        dispatcher.utter_message(text="\n".join(parts), buttons=OFFER_BUTTONS, json_message=sources_payload(hits[:1]))
        return [SlotSet("handoff_offered", True)]

    async def _fallback(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, hits: list[Hit]
    ) -> list[EventType]:
        """Unsure intent: answer when the letter clearly matches, else rephrase; twice running, hand off."""
        if hits and hits[0].score >= STRONG_SCORE and not asks_procedure(text):
            dispatcher.utter_message(text=render_hits(hits), json_message=sources_payload(hits))
            return [SlotSet("open_question", text), SlotSet("last_sources", [h.policy_id for h in hits])]
        if consecutive_fallbacks(tracker) >= 2:
            return await hand_off(dispatcher, tracker, reason="repeated_fallback")
        dispatcher.utter_message(response="utter_default")
        return []


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many user messages in a row, ending with the latest, NLU could not classify."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") == "nlu_fallback":
            count += 1
        else:
            break
    return count

