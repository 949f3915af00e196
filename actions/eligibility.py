"""Eligibility: forms that ask only for the facts a rule still needs, verdicts, and 精准推送 matching."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.profile import profile, summary
from actions.replies import LETTER, citation, source
from knowledge.rules import MATCH, NO_MATCH, UNDECIDED, Verdict, evaluate, next_missing
from knowledge.search import default_searcher, search

ELIGIBILITY_INTENTS = ("ask_eligibility", "match_policies")
ICONS = {MATCH: "✅", NO_MATCH: "❌", UNDECIDED: "❔"}


def rule_policies() -> dict[str, dict[str, Any]]:
    """Every record whose conditions the letter states: id → conditions."""
    return {pid: rec["conditions"] for pid, rec in default_searcher().policies.items() if rec.get("conditions")}


def eligibility_question(tracker: Tracker) -> str:
    """The latest ask_eligibility / match_policies message."""
    for event in reversed(tracker.events):
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if event.get("event") == "user" and intent in ELIGIBILITY_INTENTS:
            return str(event.get("text") or "")
    return ""


def targets_for(question: str) -> dict[str, dict[str, Any]]:
    """The rule-bearing policies a question is about; all of them when it names none."""
    rules = rule_policies()
    hits = [h for h in search(question, top=8) if h.policy_id in rules] if question else []
    if hits:
        best = hits[0].score
        chosen = [h.policy_id for h in hits if h.score >= best * 0.6][:3]
        return {pid: rules[pid] for pid in chosen}
    return rules


_TOTALS = re.compile(r"总|累计|合计|新增|统计|规模|投入")


def best_amount(rec: dict[str, Any]) -> float:
    """Largest money figure one firm can get from a record (万元), for ordering matches.

    City-wide totals (贷款新增 26 亿, 累计补贴 320 多万) are not what a firm gets, so they do not count.
    """
    return max(
        (float(a.get("max") or a.get("min") or 0) for a in rec.get("amounts_wan") or []
         if not _TOTALS.search(str(a.get("label", "")))),
        default=0.0,
    )


def render_verdict(verdict: Verdict) -> str:
    """One policy's verdict: icon, title, status, reasons, the quoted condition and its section."""
    rec = default_searcher().policies[verdict.policy_id]
    reasons = "；".join(verdict.reasons)
    return (
        f"{ICONS[verdict.status]}【{rec['title']}】{verdict.status}：{reasons}。\n"
        f"   条件原文：“{rec['quote']}”{citation(rec['section'], rec['departments'] or [])}"
    )


class _ProfileForm:
    """Shared logic of the two forms: ask only facts that can still change a verdict.

    A mixin, not an Action: rasa-sdk registers every Action subclass it finds.
    """

    def targets(self, tracker: Tracker) -> dict[str, dict[str, Any]]:
        """The policies this form decides."""
        raise NotImplementedError

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[str]:
        """Missing facts that could change an undecided verdict, most useful first."""
        wanted = next_missing(self.targets(tracker), profile(tracker))
        return [slot for slot in wanted if slot in domain_slots]

    @staticmethod
    def _accept(slot: str, value: Any) -> dict[str, Any]:
        # Facts are parsed by action_extract_facts; validation only rejects the impossible.
        if slot == "growth_pct" and isinstance(value, (int, float)) and not -100 <= value <= 100000:
            return {slot: None}
        return {slot: value}

    def validate_zjtx_level(self, value: Any, *_: Any) -> dict[str, Any]:
        """Accept a parsed 专精特新 level."""
        return self._accept("zjtx_level", value)

    def validate_growth_pct(self, value: Any, *_: Any) -> dict[str, Any]:
        """Accept a plausible growth rate."""
        return self._accept("growth_pct", value)

    def validate_shareholding_reform(self, value: Any, *_: Any) -> dict[str, Any]:
        """Accept a yes/no/unknown answer."""
        return self._accept("shareholding_reform", value)

    def validate_industry(self, value: Any, *_: Any) -> dict[str, Any]:
        """Accept an industry."""
        return self._accept("industry", value)

    def validate_digital_project(self, value: Any, *_: Any) -> dict[str, Any]:
        """Accept a yes/no/unknown answer."""
        return self._accept("digital_project", value)

    def validate_manufacturing(self, value: Any, *_: Any) -> dict[str, Any]:
        """Accept a yes/no/unknown answer."""
        return self._accept("manufacturing", value)

    def validate_apprenticeship(self, value: Any, *_: Any) -> dict[str, Any]:
        """Accept a yes/no/unknown answer."""
        return self._accept("apprenticeship", value)

    def validate_skill_certification(self, value: Any, *_: Any) -> dict[str, Any]:
        """Accept a yes/no/unknown answer."""
        return self._accept("skill_certification", value)


class ValidateEligibilityForm(_ProfileForm, FormValidationAction):
    """eligibility_form: the policies the owner asked about."""

    def name(self) -> str:
        """Action name in the domain."""
        return "validate_eligibility_form"

    def targets(self, tracker: Tracker) -> dict[str, dict[str, Any]]:
        """Rule policies matching the eligibility question."""
        return targets_for(eligibility_question(tracker))


class ValidateMatchForm(_ProfileForm, FormValidationAction):
    """match_form: every rule-bearing policy."""

    def name(self) -> str:
        """Action name in the domain."""
        return "validate_match_form"

    def targets(self, tracker: Tracker) -> dict[str, dict[str, Any]]:
        """All rule policies."""
        return rule_policies()


def _header(tracker: Tracker) -> str:
    stated = summary(profile(tracker))
    return f"根据您提供的信息（{stated}），对照{LETTER}：" if stated else f"对照{LETTER}："


FOOTER = "以上是依据答复函条文的初步判断，不代表审核结果；答复函没有写明申请办法和时间，需要的话可以说“转人工”。"


class ActionEligibilityVerdict(Action):
    """Verdict per asked policy: 符合 / 不符合 / 信息不足, with reasons and quoted conditions."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_eligibility_verdict"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Evaluate the targeted policies against the profile and reply."""
        firm = profile(tracker)
        targets = targets_for(eligibility_question(tracker))
        verdicts = [evaluate(pid, cond, firm) for pid, cond in targets.items()]
        lines = [_header(tracker), *(render_verdict(v) for v in verdicts), FOOTER]
        recs = [default_searcher().policies[v.policy_id] for v in verdicts]
        dispatcher.utter_message(
            text="\n".join(lines),
            json_message={"sources": [source(r) for r in recs],
                          "verdicts": [{"policy_id": v.policy_id, "status": v.status, "reasons": v.reasons}
                                       for v in verdicts]},
        )
        return [SlotSet("last_sources", [v.policy_id for v in verdicts]), SlotSet("requested_slot", None)]


class ActionMatchPolicies(Action):
    """精准推送: every policy the profile matches, best first, then those needing more information."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_match_policies"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """List matches (largest benefit first), then undecided ones, and count the rest."""
        firm = profile(tracker)
        policies = default_searcher().policies
        verdicts = [evaluate(pid, cond, firm) for pid, cond in rule_policies().items()]
        matched = sorted((v for v in verdicts if v.status == MATCH),
                         key=lambda v: (-best_amount(policies[v.policy_id]), -len(v.reasons)))
        undecided = [v for v in verdicts if v.status == UNDECIDED]
        lines = [_header(tracker)]
        if matched:
            lines.append(f"符合条件的有 {len(matched)} 项：")
            lines += [render_verdict(v) for v in matched]
        else:
            lines.append("按目前的信息，答复函中没有明确符合的政策。")
        if undecided:
            lines.append(f"还有 {len(undecided)} 项信息不足，暂不能判断：" +
                         "；".join(f"{policies[v.policy_id]['title']}（{'；'.join(v.reasons)}）" for v in undecided))
        rejected = len(verdicts) - len(matched) - len(undecided)
        if rejected:
            lines.append(f"另有 {rejected} 项不符合条件，未列出。")
        lines.append(FOOTER)
        shown = matched + undecided
        dispatcher.utter_message(
            text="\n".join(lines),
            json_message={"sources": [source(policies[v.policy_id]) for v in shown],
                          "verdicts": [{"policy_id": v.policy_id, "status": v.status, "reasons": v.reasons}
                                       for v in verdicts]},
        )
        return [SlotSet("last_sources", [v.policy_id for v in shown]), SlotSet("requested_slot", None)]
