"""Replies from the letter: an answer that leads with what was asked, or an honest 'the letter does not say'.

An answer is given only from a record the message is really about (:mod:`knowledge.answerable`)
and that states the aspect asked. Everything else is declined honestly: what the letter does not
say, at most one related record labelled as related (never in the form of an answer), the
responsible department and the offer of a person. Messages about other places, individuals'
matters or city services get the out-of-scope reply and cite nothing.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import (
    DEFAULT_DEPARTMENT,
    LETTER,
    LETTER_FULL,
    OFFER_BUTTONS,
    source,
    source_name,
    time_note,
)
from knowledge.answerable import BENEFIT_WORDS, Match, off_focus, states, unmeasured
from knowledge.citations import record_citation
from knowledge.search import default_searcher
from knowledge.staff import StaffAnswer
from knowledge.understand import Understanding, aspect_of, clauses, procedure_topic, questions_of

# When the letter itself states the procedural detail asked for (企业开办 "1个工作日内"), answer it.
_EVIDENCE = {
    "时间安排": re.compile(r"工作日|日内|小时|天内|\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"),
    # The date of something done: the quote dates the event it reports (2022年1月…印发).
    # "2019 年以来，全面推行…" dates when it started.
    "发生时间": re.compile(
        r"\d{4}\s*年\s*\d{1,2}\s*月|\d{4}\s*年\s*(以来|起|开始)|"
        r"\d{4}\s*年[^，。；]{0,16}(印发|出台|发布|成立|设立|开通|上线|启动|召开|举办|签约|开展|挂牌|建成|推行|实施|施行|推出)"
    ),
    "公布渠道": re.compile(r"https?://|www\.|\.gov\.cn|网站|官网|公众号|门户"),
    "办理时长": re.compile(r"工作日|日内|小时|天内"),
    "办理期限": re.compile(r"工作日|日内|小时|天内"),
    "申请材料": re.compile(r"材料"),
    # "设立了吗" of a plan: only a quote that reports it done answers (as of the letter's date).
    # "出台了没" of a record: its own account of where things stood (已开通, 拟出台) answers, dated by the letter.
    "目前进展": re.compile(
        r"已(经)?(开通|建成|设立|成立|出台|印发|上线|实现|完成|投入|挂牌|启动|运行)|已通过|已全面|拟|计划|将|正在"
    ),
    "办理流程": re.compile(r"全流程|流程"),
    "办理地点": re.compile(r"大厅|专窗|窗口"),
    # A platform's name is not its address: only a web address or a named site answers "网址在哪".
    "申报入口": re.compile(r"https?://|www\.|\.gov\.cn|网址|网站"),
}
ASPECT_WORDS = {
    "amount": "具体数额",
    "who": "负责部门和联系人",
    "conditions": "申请条件",
    "qualify": "申请条件",
    "name": "具体负责人的姓名",
    "fee": "收费情况",
    "combine": "几项支持能否同时享受",
    "advice": "对企业是否值得申请的建议",
}
OUT_OF_SCOPE = {
    "other_region": "您问的是中山以外地区的事项，不在我能解答的范围内。我只依据中山市工业和信息化局的答复函解答中山的惠企政策，"
    "其他地区的政策请咨询当地主管部门。",
    "personal": "这是个人事务（如社保、公积金、工资、职称、户籍、购房），不在我能解答的范围内。请咨询人社、住房公积金、"
    "住建等主管部门或市政务服务热线。",
    "city_service": "这是城市管理和公共服务方面的事项，不在我能解答的范围内。请向相应主管部门或市政务服务热线反映。",
    "other": "抱歉，这个问题不在我能解答的范围内。我只依据中工信函〔2022〕38号答复函解答中山市制造业转型升级、专精特新、"
    "融资、人才等惠企政策，其他事项请咨询相应主管部门。",
}


def letter_states_procedure(topic: str, rec: dict[str, Any]) -> bool:
    """Whether a record's quote itself gives the procedural detail asked for."""
    evidence = _EVIDENCE.get(topic)
    return bool(evidence and evidence.search(rec["quote"]))


def render_answer(rec: dict[str, Any], related: list[Match]) -> str:
    """Lead sentence (the record's benefit), the verbatim quote with its citation, a time note, related titles."""
    planned = (
        f"（{source_name(rec)}表述为拟出台/计划中的措施，尚未明确实施细则）"
        if rec.get("status") == "planned"
        else ""
    )
    lines = [
        f"{rec.get('benefit') or rec['title']}{planned}",
        f"{source_name(rec)}原文（{rec['title']}）：“{rec['quote']}”{record_citation(rec)}",
    ]
    note = time_note(rec)
    if note:
        lines.append(note)
    if related:
        titles = "；".join(f"{m.hit.title}（{m.hit.section}）" for m in related)
        lines.append(f"相关内容：{titles}。可以接着问我其中任意一项。")
    return "\n".join(lines)


def answer(
    dispatcher: CollectingDispatcher, subject: Match, related: list[Match], text: str, offer_check: bool
) -> list[EventType]:
    """Answer from the subject record; offer to check the firm when the record has conditions."""
    rec = default_searcher().policies[subject.hit.policy_id]
    buttons = (
        [{"title": "帮我判断我们企业是否符合", "payload": f"我们企业能享受{rec['title']}吗？"}]
        if offer_check
        else []
    )
    dispatcher.utter_message(
        text=render_answer(rec, related), buttons=buttons, json_message={"sources": [source(rec)]}
    )
    return [SlotSet("open_question", text), SlotSet("last_sources", [rec["id"]])]


def staff_answer(dispatcher: CollectingDispatcher, found: StaffAnswer, text: str) -> list[EventType]:
    """A reviewed answer a liaison once gave: labelled as staff's words, never as the letter's, with the
    offer of a person (the owner's own case may differ)."""
    dispatcher.utter_message(
        text=f"{found.label}\n{found.answer}\n"
        "（以上是工作人员对同类问题的答复，经审核后供参考，不是答复函原文；您的具体情况可以转人工确认。）",
        buttons=OFFER_BUTTONS,
        json_message={"staff_answer": {"id": found.id, "label": found.label}},
    )
    return [SlotSet("handoff_offered", True), SlotSet("open_question", text), SlotSet("last_sources", [])]


def stated_part(text: str, rec: dict[str, Any]) -> str | None:
    """Another question of a procedural message that the record does answer ("首期多大" beside "怎么申请"):
    the aspect of the first such clause, or None. Only an amount or a name ("找谁" beside "怎么对接" is
    the procedure again); the whole message must allow it too ("按什么标准定档" asks what no range says)."""
    for clause in clauses(text):
        aspect = aspect_of(clause)
        if (
            aspect in ("amount", "name")
            and states(aspect, clause, rec)
            and states(aspect, text, rec)
            and not off_focus(clause, rec)  # "注册资本最少要多少" of the record on 1 个工作日
        ):
            return aspect
    return None


def unstated_question(said: str, rec: dict[str, Any], others: list[dict[str, Any]]) -> str | None:
    """In a message that asks several things ("开公司要什么材料？注册资本最少要多少？"), the first question that
    neither the record answered nor another record the message is about states, in the owner's terms;
    None when every question is stated or the message asks only one.

    A question is unstated when it asks for a procedural detail no quote gives, an aspect no record
    states, or a figure of something (注册资本) none of them speaks of.
    """
    questions = questions_of(said)
    if len(questions) < 2:
        return None
    records = [rec, *others]
    for clause in questions:
        aspect = aspect_of(clause)
        if aspect == "procedure":
            topic = procedure_topic(clause)
            if not any(letter_states_procedure(topic, r) for r in records):
                return topic
            continue
        if (
            aspect in ASPECT_WORDS
            and aspect != "qualify"
            and not any(states(aspect, clause, r) for r in records)
        ):
            return ASPECT_WORDS[aspect]
        # "目录里的人才有没有补贴" beside a count the record gives: a benefit none of them speaks of.
        benefit = BENEFIT_WORDS.search(clause) if aspect is None else None
        if benefit and not any(states(None, clause, r) for r in records):
            return benefit.group(0)
        # "注册资本最少要多少" of the record on 1 个工作日: a figure of something no record speaks of.
        missing = unmeasured(clause, rec) if aspect in ("amount", "fee") else None
        if missing and all(unmeasured(clause, r) for r in others):
            return f"“{missing}”方面的内容"
    return None


def part_not_stated(
    dispatcher: CollectingDispatcher,
    understanding: Understanding,
    rec: dict[str, Any],
    topic: str | None = None,
) -> list[EventType]:
    """After answering what the letter states: the part of the question it does not give (by default the
    procedure asked), and the offer of a person."""
    topic = topic or understanding.procedure_topic or "申请办法、材料和时间"
    deps = "、".join(rec.get("departments") or [DEFAULT_DEPARTMENT])
    dispatcher.utter_message(
        text=f"至于{topic}，{LETTER}没有写明，具体请以{deps}的通知为准，可以咨询{deps}。"
        "需要我为您转给挂点服务领导或工作人员吗？",
        buttons=OFFER_BUTTONS,
    )
    return [SlotSet("handoff_offered", True)]


def _specific(what: str) -> str:
    """'具体情况', '具体数额' (not '具体具体数额')."""
    return what if what.startswith("具体") else f"具体{what}"


def not_in_letter(
    dispatcher: CollectingDispatcher, understanding: Understanding, related: Match | None, missing: str | None
) -> list[EventType]:
    """Say plainly what the letter does not say, show at most one related record as related, offer a person."""
    rec = default_searcher().policies[related.hit.policy_id] if related is not None else None
    if missing:
        head = f"{source_name(rec) if rec else LETTER}没有写明{missing}。"
    else:
        head = f"{LETTER_FULL}没有涉及这个问题，我不能替答复函作答。"
    parts = [head]
    departments = [DEFAULT_DEPARTMENT]
    sources: list[dict[str, str]] = []
    if rec is not None:
        departments = list(rec.get("departments") or departments)
        parts.append(
            f"供参考，{source_name(rec)}中相关的内容（不是对这个问题的回答）是【{rec['title']}】：“{rec['quote']}”"
            f"{record_citation(rec)}"
        )
        sources = [source(rec)]
    deps = "、".join(departments)
    parts.append(
        f"{_specific(missing or '情况')}请以{deps}的通知为准，可以咨询{deps}。需要我为您转给挂点服务领导或工作人员吗？"
    )
    dispatcher.utter_message(text="\n".join(parts), buttons=OFFER_BUTTONS, json_message={"sources": sources})
    return [
        SlotSet("handoff_offered", True),
        SlotSet("open_question", understanding.text),
        SlotSet("last_sources", [s["policy_id"] for s in sources]),
    ]


def out_of_scope(dispatcher: CollectingDispatcher, scope: str) -> list[EventType]:
    """Say the matter is not ours, and where to go; cite nothing."""
    dispatcher.utter_message(text=OUT_OF_SCOPE.get(scope, OUT_OF_SCOPE["other"]))
    return [SlotSet("last_sources", [])]
