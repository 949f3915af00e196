"""Eligibility: verdicts first, then at most one question, and only about the policies asked about.

A verdict reply shows everything already decided (符合 / 不符合 / 信息不足 with reasons, the
benefit and the quoted condition), then asks the one missing fact that decides the most of what is
still open. The asked fact and the open policies are kept in slots, so the owner's next message
(a bare "是", "35%", "不清楚", or a button) completes the verdict; a new question simply moves on.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.profile import summary
from actions.questions import QUESTIONS
from actions.replies import source
from knowledge.answerable import recipient_amounts
from knowledge.citations import record_citation, source_name
from knowledge.rules import MATCH, NO_MATCH, UNDECIDED, Verdict, evaluate, next_missing
from knowledge.search import default_searcher

ICONS = {MATCH: "✅", NO_MATCH: "❌", UNDECIDED: "❔"}
FOOTER = (
    "以上是依据答复函条文的初步判断，不代表审核结果；答复函没有写明申请办法和时间，需要的话可以说“转人工”。"
)


def rule_policies() -> dict[str, dict[str, Any]]:
    """Every record whose conditions the letter states: id → conditions."""
    return {
        pid: rec["conditions"] for pid, rec in default_searcher().policies.items() if rec.get("conditions")
    }


def best_amount(rec: dict[str, Any]) -> float:
    """Largest money figure one firm can get from a record (万元), for ordering matches.

    City-wide totals (贷款新增 26 亿, 累计补贴 320 多万) are not what a firm gets, so they do not count.
    """
    return max((float(a.get("max") or a.get("min") or 0) for a in recipient_amounts(rec)), default=0.0)


def render_verdict(verdict: Verdict, gives: bool = True) -> str:
    """One policy's verdict: icon, title, status, reasons, what it gives (unless the lead said so, or it is
    the quote again), the quoted condition and its section."""
    rec = default_searcher().policies[verdict.policy_id]
    reasons = "；".join(verdict.reasons)
    benefit = rec.get("benefit") or ""
    said = not gives or _squash(benefit) in _squash(rec["quote"])
    gives_line = f"政策内容：{benefit}\n   " if verdict.status != NO_MATCH and benefit and not said else ""
    return (
        f"{ICONS[verdict.status]}【{rec['title']}】{verdict.status}：{reasons}。\n   {gives_line}"
        f"条件原文：“{rec['quote']}”{record_citation(rec)}"
    )


def _squash(text: str) -> str:
    return "".join(text.split()).rstrip("。")


def lead(verdicts: list[Verdict]) -> str:
    """One sentence that gives the verdict before the details (matches in the order they are shown)."""
    policies = default_searcher().policies
    if len(verdicts) == 1:
        verdict = verdicts[0]
        title = policies[verdict.policy_id]["title"]
        if verdict.status == MATCH:
            benefit = policies[verdict.policy_id].get("benefit")
            return f"按您说的情况，贵企业符合【{title}】的条件。" + (
                f"答复函写明：{benefit}" if benefit else ""
            )
        if verdict.status == NO_MATCH:
            return f"按您说的情况，贵企业不符合【{title}】的条件。"
        return f"目前还不能判断贵企业是否符合【{title}】。"
    matched = [policies[v.policy_id]["title"] for v in verdicts if v.status == MATCH]
    if matched:
        return "按您说的情况，贵企业符合：" + "、".join(f"【{t}】" for t in matched) + "。"
    return "按目前的信息，还没有能确定符合的政策。"


def best_first(verdicts: list[Verdict]) -> list[Verdict]:
    """Matches first, the largest benefit a firm gets first; then the undecided; then the rest."""
    policies = default_searcher().policies
    rank = {MATCH: 0, UNDECIDED: 1, NO_MATCH: 2}
    return sorted(
        verdicts, key=lambda v: (rank[v.status], -best_amount(policies[v.policy_id]), -len(v.reasons))
    )


def decided(targets: list[str], firm: dict[str, Any]) -> bool:
    """Whether ``firm``'s facts decide any of ``targets`` (符合 or 不符合, not 信息不足)."""
    rules = rule_policies()
    return any(evaluate(pid, rules[pid], firm, "").status != UNDECIDED for pid in targets if pid in rules)


def verdict_reply(
    dispatcher: CollectingDispatcher,
    targets: list[str],
    firm: dict[str, Any],
    everything: bool,
    *,
    supposed: bool = False,
) -> list[EventType]:
    """Show the verdicts of ``targets`` for ``firm``; ask the one fact that decides the most, if any.

    Args:
        dispatcher: Where replies go.
        targets: Record ids to judge.
        firm: The firm profile (fact slots).
        everything: The owner asked what they can get at all (list matches, name the rest briefly).
        supposed: ``firm`` holds what the owner supposes ("假设我们是市级专精特新，增长25%，能拿吗"): the
            verdict is of that case, and no question follows (an answer would be taken as the firm's fact).
    """
    policies = default_searcher().policies
    rules = rule_policies()
    judged = {pid: rules[pid] for pid in targets if pid in rules}
    verdicts = best_first(
        [evaluate(pid, conditions, firm, source_name(policies[pid])) for pid, conditions in judged.items()]
    )
    cited = {source_name(policies[pid]) for pid in judged}
    basis = cited.pop() if len(cited) == 1 else "政策原文"
    fact = None if supposed else next(iter(next_missing(judged, firm)), None)
    asking = [
        SlotSet("asked_fact", fact),
        SlotSet("pending_targets", list(targets)),
        SlotSet("pending_all", everything),
    ]
    if everything and fact and all(v.status == UNDECIDED for v in verdicts) and not firm:
        # Nothing is known yet: no list of open items, just the one question that decides the most.
        question = QUESTIONS[fact]
        dispatcher.utter_message(
            text=f"可以，我按答复函逐条帮您判断。{question['text']}", buttons=question["buttons"]
        )
        return [SlotSet("last_sources", []), *asking]
    stated = summary(firm)
    said = "按您假设的情况" if supposed else "根据您提供的信息"
    lines = [lead(verdicts), f"{said}（{stated}），对照{basis}：" if stated else f"对照{basis}："]
    if supposed:
        lines[0] = lines[0].replace("按您说的情况", "按您假设的情况")
    shown = verdicts
    if everything:
        matched = [v for v in verdicts if v.status == MATCH]
        undecided = [v for v in verdicts if v.status == UNDECIDED]
        rejected = [v for v in verdicts if v.status == NO_MATCH]
        lines += [render_verdict(v) for v in matched]
        if undecided:
            lines.append(
                "以下几项信息不足，暂不能判断："
                + "、".join(f"【{policies[v.policy_id]['title']}】" for v in undecided)
                + "。"
            )
        if rejected:
            lines.append(
                "不符合："
                + "；".join(
                    f"❌【{policies[v.policy_id]['title']}】不符合（{'；'.join(v.reasons)}）"
                    for v in rejected
                )
                + "。"
            )
        shown = matched + undecided
    else:
        single_match = (
            len(verdicts) == 1 and verdicts[0].status == MATCH
        )  # the lead already said what it gives
        lines += [render_verdict(v, gives=not single_match) for v in verdicts]
    lines.append(FOOTER)
    dispatcher.utter_message(
        text="\n".join(lines),
        json_message={
            "sources": [source(policies[v.policy_id]) for v in shown],
            "verdicts": [
                {"policy_id": v.policy_id, "status": v.status, "reasons": v.reasons} for v in verdicts
            ],
        },
    )
    events: list[EventType] = [SlotSet("last_sources", [v.policy_id for v in shown])]
    if fact:
        dispatcher.utter_message(**QUESTIONS[fact])
        return events + asking
    return events + [
        SlotSet("asked_fact", None),
        SlotSet("pending_targets", None),
        SlotSet("pending_all", False),
    ]
